"""The digits MLP (three CustomDenseLayers), its run_fn and serving signatures.

The model is saved with Keras' `model.save(..., save_format="tf")` rather than
`tf.saved_model.save`: besides the signatures (what TFMA and serving call) it then holds the Keras
metadata, so `tf.keras.models.load_model` rebuilds the custom layer from its registered config.
"""
from typing import Dict

import tensorflow as tf

from models.common import signatures, training
from models.digits_mlp import features, preprocessing
from models.digits_mlp.layers import CustomDenseLayer

DEFAULT_HYPERPARAMETERS = {
    "hidden_units": [256, 128],
    "dropout": 0.2,
    "learning_rate": 1e-3,
    "batch_size": 64,
    "epochs": 10,               # on the full data val_loss stopped improving after epoch 8
    "distribution_strategy": "auto",
    "precision_policy": "auto",
}


def build_model(params) -> tf.keras.Model:
    """The MLP on [batch, 784] scaled pixels: CustomDenseLayers with Dropout, then a softmax
    CustomDenseLayer; `params` as training.hyperparameters merges them."""
    inputs = tf.keras.Input(shape=(features.NUM_PIXELS,), name=features.TRANSFORMED_PIXELS_KEY)
    x = inputs
    for index, units in enumerate(params["hidden_units"]):
        x = CustomDenseLayer(units, activation="relu", name=f"custom_dense_{index + 1}")(x)
        x = tf.keras.layers.Dropout(float(params["dropout"]))(x)
    outputs = CustomDenseLayer(features.NUM_CLASSES, activation="softmax", dtype="float32",
                               name="probabilities")(x)
    return training.compile_multiclass(inputs, outputs, "digits_mlp",
                                       float(params["learning_rate"]))


def make_signatures(model, tf_transform_output) -> Dict[str, tf.types.experimental.ConcreteFunction]:
    """serving_default (serialized tf.Example, used by TFMA) and serving_pixels ([n, 28, 28]
    intensities 0-255); training.fit_and_export adds transform_features."""
    model.tft_layer = tf_transform_output.transform_features_layer()
    raw_spec = tf_transform_output.raw_feature_spec()
    serving_spec = {features.PIXELS_KEY: raw_spec[features.PIXELS_KEY]}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(serialized):
        transformed = model.tft_layer(tf.io.parse_example(serialized, serving_spec))
        return signatures.classification_outputs(
            model(transformed[features.TRANSFORMED_PIXELS_KEY], training=False))

    return {"serving_default": serve_examples.get_concrete_function(),
            "serving_pixels": signatures.pixels(model, features.IMAGE_SIZE,
                                                preprocessing.scale_pixels)}


def run_fn(fn_args):
    """TFX Trainer entry point."""
    params = training.hyperparameters(fn_args, DEFAULT_HYPERPARAMETERS)
    training.fit_and_export(fn_args, params, features.TRANSFORMED_LABEL_KEY,
                            lambda _: build_model(params), make_signatures, keras_metadata=True)
