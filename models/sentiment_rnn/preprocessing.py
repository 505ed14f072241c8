"""tf.Transform for sentiment: text -> fixed-length token ids with a vocabulary from train data."""
import tensorflow as tf
import tensorflow_transform as tft

from models.sentiment_rnn import features


def tokenize(text: tf.Tensor) -> tf.RaggedTensor:
    """Lower-case words of a [batch] string tensor, punctuation split off, at most MAX_TOKENS."""
    text = tf.strings.lower(text, encoding="utf-8")
    text = tf.strings.regex_replace(text, r"([^\w'\s])", r" \1 ")
    return tf.strings.split(text)[:, :features.MAX_TOKENS]


def preprocessing_fn(inputs):
    """tokens_xf: [batch, MAX_TOKENS] int64 ids (0 padding, VOCAB_SIZE+1 the OOV bucket at most);
    label_xf: 1.0 for fresh."""
    text = tf.reshape(inputs[features.TEXT_KEY], [-1])
    ids = tft.compute_and_apply_vocabulary(
        tokenize(text), top_k=features.VOCAB_SIZE, frequency_threshold=features.MIN_FREQUENCY,
        num_oov_buckets=features.NUM_OOV_BUCKETS, vocab_filename=features.VOCAB_NAME)
    padded = (ids + 1).to_tensor(default_value=features.PAD_ID,
                                 shape=[None, features.MAX_TOKENS])
    label = tf.reshape(inputs[features.LABEL_KEY], [-1, 1])
    return {features.TOKENS_KEY: padded,
            features.TRANSFORMED_LABEL_KEY: tf.cast(label, tf.float32)}
