"""The documented CNN: its layers, and augmentation that acts only in training (the model's
inference equals the same weights without the augmentation block)."""
import numpy as np
import tensorflow as tf

from models.fashion_cnn import model


def test_architecture_is_the_documented_cnn():
    cnn = model.build_model(model.DEFAULT_HYPERPARAMETERS)
    convs = [l for l in cnn.layers if isinstance(l, tf.keras.layers.Conv2D)]
    assert [(c.filters, c.kernel_size, c.padding, c.activation.__name__) for c in convs] == [
        (32, (3, 3), "same", "relu"), (64, (3, 3), "same", "relu"), (64, (3, 3), "same", "relu")]
    assert len([l for l in cnn.layers if isinstance(l, tf.keras.layers.MaxPooling2D)]) == 2
    dense = [l for l in cnn.layers if isinstance(l, tf.keras.layers.Dense)]
    assert [(d.units, d.activation.__name__) for d in dense] == [(64, "relu"), (10, "softmax")]
    assert [l.rate for l in cnn.layers if isinstance(l, tf.keras.layers.Dropout)] == [0.5]
    assert cnn.output_shape == (None, 10)


def test_augmentation_block_holds_the_documented_layers():
    block = model.augmentation_block(model.DEFAULT_HYPERPARAMETERS)
    assert [type(l).__name__ for l in block.layers] == [
        "RandomFlip", "RandomRotation", "RandomZoom", "RandomContrast"]


def test_augmentation_changes_images_only_in_training():
    tf.keras.utils.set_random_seed(1)
    block = model.augmentation_block(model.DEFAULT_HYPERPARAMETERS)
    images = tf.constant(np.random.default_rng(0).random((8, 28, 28, 1)), tf.float32)
    np.testing.assert_array_equal(block(images, training=False).numpy(), images.numpy())
    assert not np.allclose(block(images, training=True).numpy(), images.numpy())
    cnn = model.build_model(model.DEFAULT_HYPERPARAMETERS)
    plain = model.build_model(dict(model.DEFAULT_HYPERPARAMETERS, augment=False))
    plain.set_weights(cnn.get_weights())
    np.testing.assert_allclose(cnn(images, training=False), plain(images, training=False),
                               rtol=1e-6)


def test_augmentation_can_be_switched_off():
    cnn = model.build_model(dict(model.DEFAULT_HYPERPARAMETERS, augment=False))
    assert "augmentation" not in [l.name for l in cnn.layers]
