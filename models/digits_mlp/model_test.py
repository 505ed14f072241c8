"""The digits MLP is built from the custom layer and learns the committed sample."""
import numpy as np
import tensorflow as tf

from data import settings, tfrecords
from models.digits_mlp import model, preprocessing
from models.digits_mlp.layers import CustomDenseLayer


def _sample(split):
    examples = list(tfrecords.read_examples(
        str(settings.SAMPLES_ROOT / "digits_mlp" / split / "*.tfrecord.gz")))
    pixels = np.array([e.features.feature["pixels"].int64_list.value for e in examples])
    labels = np.array([e.features.feature["label"].int64_list.value[0] for e in examples])
    return preprocessing.scale_pixels(pixels).numpy(), labels


def test_every_dense_layer_is_the_custom_layer():
    mlp = model.build_model(model.DEFAULT_HYPERPARAMETERS)
    dense = [l for l in mlp.layers if not isinstance(l, (tf.keras.layers.InputLayer,
                                                         tf.keras.layers.Dropout))]
    assert all(isinstance(l, CustomDenseLayer) for l in dense)
    assert [l.units for l in dense] == [256, 128, 10]
    assert mlp.output_shape == (None, 10)


def test_scale_pixels_maps_0_255_to_unit_range_in_rows_of_784():
    scaled = preprocessing.scale_pixels(tf.constant(np.full((2, 28, 28), 255)))
    assert scaled.shape == (2, 784) and float(tf.reduce_max(scaled)) == 1.0


def test_mlp_learns_the_committed_sample():
    tf.keras.utils.set_random_seed(0)
    x, y = _sample("train")
    x_eval, y_eval = _sample("eval")
    mlp = model.build_model(model.DEFAULT_HYPERPARAMETERS)
    mlp.fit(x, y, epochs=10, batch_size=32, verbose=0)
    assert mlp.evaluate(x_eval, y_eval, verbose=0)[1] > 0.7
