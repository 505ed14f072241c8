"""tf.Transform preprocessing for census: z-scores, vocabularies, explicit missing values."""
import tensorflow as tf
import tensorflow_transform as tft

from models.census import features


def _dense(x, default):
    """[batch, 1] dense tensor from a raw feature; absent values (VarLen/sparse) get `default`."""
    if isinstance(x, tf.sparse.SparseTensor):
        x = tf.sparse.to_dense(
            tf.SparseTensor(x.indices, x.values, [x.dense_shape[0], 1]), default_value=default)
    return tf.reshape(x, [-1, 1])


def preprocessing_fn(inputs):
    """Numeric: missing -> training mean, then z-score. Categorical: missing -> its own token,
    then a vocabulary with one OOV bucket. Label: 1.0 for '>50K'."""
    outputs = {}
    for key in features.NUMERIC_FEATURES:
        raw = tf.cast(inputs[key], tf.float32) if not isinstance(inputs[key], tf.sparse.SparseTensor) \
            else tf.SparseTensor(inputs[key].indices, tf.cast(inputs[key].values, tf.float32),
                                 inputs[key].dense_shape)
        mean = tft.mean(raw.values if isinstance(raw, tf.sparse.SparseTensor) else raw)
        outputs[features.transformed_name(key)] = tft.scale_to_z_score(_dense(raw, mean))
    for key in features.CATEGORICAL_FEATURES:
        filled = _dense(inputs[key], features.MISSING_TOKEN)
        outputs[features.transformed_name(key)] = tft.compute_and_apply_vocabulary(
            filled, num_oov_buckets=1, vocab_filename=key)
    label = _dense(inputs[features.LABEL_KEY], "")
    outputs[features.TRANSFORMED_LABEL_KEY] = tf.cast(
        tf.equal(label, features.POSITIVE_LABEL), tf.float32)
    return outputs
