"""tf.Transform preprocessing for Fashion-MNIST: PNG bytes -> [28, 28, 1] floats in [0, 1].

`decode_png` and `scale_pixels` are also used by the serving signatures and the TFLite report,
so every path into the model applies exactly the same arithmetic.
"""
import tensorflow as tf

from models.fashion_cnn import features


def _decode_one(png: tf.Tensor) -> tf.Tensor:
    """One PNG (any size, gray or colour) -> [28, 28, 1] float32 intensities 0-255."""
    image = tf.io.decode_png(png, channels=1)
    size = features.IMAGE_SIZE
    same_size = tf.reduce_all(tf.equal(tf.shape(image)[:2], [size, size]))
    return tf.cond(same_size,
                   lambda: tf.cast(image, tf.float32),
                   lambda: tf.image.resize(tf.cast(image, tf.float32), [size, size],
                                           antialias=True))


def decode_png(png_bytes: tf.Tensor) -> tf.Tensor:
    """[batch] (or [batch, 1]) PNG strings -> [batch, 28, 28, 1] float32 intensities 0-255."""
    return tf.map_fn(_decode_one, tf.reshape(png_bytes, [-1]),
                     fn_output_signature=tf.TensorSpec(features.IMAGE_SHAPE, tf.float32))


def scale_pixels(pixels: tf.Tensor) -> tf.Tensor:
    """Intensities 0-255 of any shape with 784 values per image -> [batch, 28, 28, 1] in [0, 1]."""
    return tf.reshape(tf.cast(pixels, tf.float32) / 255.0, (-1,) + features.IMAGE_SHAPE)


def preprocessing_fn(inputs):
    """Decode and scale the image; the label (0-9) passes through as int64."""
    return {
        features.TRANSFORMED_IMAGE_KEY: scale_pixels(decode_png(inputs[features.IMAGE_KEY])),
        features.TRANSFORMED_LABEL_KEY: tf.reshape(tf.cast(inputs[features.LABEL_KEY], tf.int64),
                                                   [-1, 1]),
    }
