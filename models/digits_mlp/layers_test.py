"""The custom Dense layer: weights from build(), config round trip, SavedModel survival."""
import numpy as np
import pytest
import tensorflow as tf

from models.digits_mlp import model
from models.digits_mlp.layers import CustomDenseLayer


def test_build_creates_kernel_and_bias_and_call_is_an_affine_map():
    layer = CustomDenseLayer(3, activation=None)
    x = tf.constant([[1.0, 2.0]])
    y = layer(x)
    assert [w.name.split("/")[-1].split(":")[0] for w in layer.weights] == ["kernel", "bias"]
    assert layer.kernel.shape == (2, 3) and layer.bias.shape == (3,)
    np.testing.assert_allclose(y, x @ layer.kernel + layer.bias, rtol=1e-6)


def test_activation_is_applied():
    layer = CustomDenseLayer(4, activation="relu")
    assert float(tf.reduce_min(layer(tf.random.normal([16, 5])))) >= 0.0


def test_config_round_trips_through_the_registered_name():
    layer = CustomDenseLayer(7, activation="softmax", name="head")
    assert tf.keras.utils.get_registered_name(CustomDenseLayer) == "tfxp>CustomDenseLayer"
    config = tf.keras.layers.serialize(layer)
    clone = tf.keras.layers.deserialize(config)
    assert isinstance(clone, CustomDenseLayer)
    assert (clone.units, clone.name, clone.activation.__name__) == (7, "head", "softmax")


def test_invalid_units_are_refused():
    with pytest.raises(ValueError, match="units must be >= 1"):
        CustomDenseLayer(0)


def test_model_survives_savedmodel_export_reload_and_predicts_the_same(tmp_path):
    """Keras reloads the custom layers from their config without custom_objects, and the
    exported signature (what TF Serving and TFMA call) gives the same predictions."""
    mlp = model.build_model(model.DEFAULT_HYPERPARAMETERS)
    x = np.random.default_rng(0).random((5, 784)).astype(np.float32)

    @tf.function(input_signature=[tf.TensorSpec([None, 784], tf.float32, name="pixels_xf")])
    def serve(pixels):
        return {"probabilities": mlp(pixels, training=False)}

    path = str(tmp_path / "saved")
    mlp.save(path, save_format="tf", signatures={"serving_default": serve})
    reloaded = tf.keras.models.load_model(path)
    assert [type(l) for l in reloaded.layers if "dense" in l.name or l.name == "probabilities"] \
        == [CustomDenseLayer] * 3
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), mlp.predict(x, verbose=0),
                               rtol=1e-6)
    signature = tf.saved_model.load(path).signatures["serving_default"]
    np.testing.assert_allclose(signature(pixels_xf=tf.constant(x))["probabilities"],
                               mlp.predict(x, verbose=0), rtol=1e-6)
