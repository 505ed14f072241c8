"""tf.Transform preprocessing for the digits: intensities 0-255 -> [0, 1] floats.

`scale_pixels` is shared with the `serving_pixels` signature so both apply the same arithmetic.
"""
import tensorflow as tf

from models.digits_mlp import features


def scale_pixels(pixels: tf.Tensor) -> tf.Tensor:
    """Intensities 0-255, 784 per image in any shape -> [batch, 784] float32 in [0, 1]."""
    return tf.reshape(tf.cast(pixels, tf.float32) / 255.0, [-1, features.NUM_PIXELS])


def preprocessing_fn(inputs):
    """tf.Transform entry point: scale_pixels (shared with serving_pixels) and the label as
    int64 [batch, 1]."""
    return {
        features.TRANSFORMED_PIXELS_KEY: scale_pixels(inputs[features.PIXELS_KEY]),
        features.TRANSFORMED_LABEL_KEY: tf.reshape(tf.cast(inputs[features.LABEL_KEY], tf.int64),
                                                   [-1, 1]),
    }
