"""Serving signatures several models export the same way."""
from typing import Callable, Dict

import tensorflow as tf


def transform_features(model, raw_feature_spec) -> tf.types.experimental.ConcreteFunction:
    """serialized tf.Examples -> transformed features: what TFMA's `preprocessing_function_names`
    calls so that labels and slices may use Transform's outputs. `model.tft_layer` must be set."""

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform(serialized):
        return model.tft_layer(tf.io.parse_example(serialized, raw_feature_spec))

    return transform.get_concrete_function()


def classification_outputs(probabilities: tf.Tensor) -> Dict[str, tf.Tensor]:
    """What every classifier signature returns: the probabilities and the most likely class id,
    so that clients need not take the argmax themselves."""
    return {"probabilities": probabilities,
            "classes": tf.argmax(probabilities, axis=-1, output_type=tf.int64)}


def pixels(model, image_size: int, scale: Callable[[tf.Tensor], tf.Tensor]
           ) -> tf.types.experimental.ConcreteFunction:
    """[n, size, size] float intensities 0-255 -> class probabilities and classes; values
    outside 0-255 fail the request instead of producing a confident wrong answer."""

    @tf.function(input_signature=[tf.TensorSpec([None, image_size, image_size], tf.float32,
                                                name="pixels")])
    def serve_pixels(values):
        checks = [tf.debugging.assert_greater_equal(values, 0.0, message="pixels must be 0-255"),
                  tf.debugging.assert_less_equal(values, 255.0, message="pixels must be 0-255")]
        with tf.control_dependencies(checks):
            return classification_outputs(model(scale(values), training=False))

    return serve_pixels.get_concrete_function()
