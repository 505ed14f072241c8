"""PNG decoding and scaling shared by Transform, the serving signatures and the TFLite report."""
import numpy as np
import pytest
import tensorflow as tf

from data import settings, tfrecords
from models.fashion_cnn import features, preprocessing


def _png(image: np.ndarray) -> bytes:
    return tf.io.encode_png(image.astype(np.uint8)).numpy()


def test_decode_png_round_trips_28x28_images_exactly():
    image = np.random.default_rng(0).integers(0, 256, (28, 28, 1))
    decoded = preprocessing.decode_png(tf.constant([_png(image)]))
    assert decoded.shape == (1, 28, 28, 1)
    np.testing.assert_array_equal(decoded.numpy()[0], image.astype(np.float32))


def test_decode_png_accepts_other_sizes_and_colour():
    decoded = preprocessing.decode_png(tf.constant([[_png(np.full((56, 40, 3), 200))]]))
    assert decoded.shape == (1, 28, 28, 1)
    assert np.allclose(decoded.numpy(), 200, atol=1)


def test_decode_png_rejects_bytes_that_are_no_image():
    with pytest.raises(tf.errors.InvalidArgumentError):
        preprocessing.decode_png(tf.constant([b"not a png"]))


def test_preprocessing_fn_scales_the_committed_sample_into_unit_range():
    examples = list(tfrecords.read_examples(
        str(settings.SAMPLES_ROOT / "fashion_cnn" / "eval" / "*.tfrecord.gz")))[:16]
    inputs = {features.IMAGE_KEY: tf.constant(
                  [[e.features.feature[features.IMAGE_KEY].bytes_list.value[0]] for e in examples]),
              features.LABEL_KEY: tf.constant(
                  [[e.features.feature[features.LABEL_KEY].int64_list.value[0]] for e in examples])}
    outputs = preprocessing.preprocessing_fn(inputs)
    images = outputs[features.TRANSFORMED_IMAGE_KEY].numpy()
    assert images.shape == (16, 28, 28, 1) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0 and images.max() > 0.5
    assert outputs[features.TRANSFORMED_LABEL_KEY].shape == (16, 1)
