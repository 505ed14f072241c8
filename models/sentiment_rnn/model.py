"""Sentiment Keras models (documented SimpleRNN / LSTM + Bahdanau attention), run_fn, signatures."""
from typing import Dict

import tensorflow as tf

from models.common import training
from models.sentiment_rnn import features

DEFAULT_HYPERPARAMETERS = {
    "variant": "simple_rnn",    # 'simple_rnn' (documented, line 3381) or 'lstm_attention' (3961)
    "embedding_dim": 32,
    "rnn_units": 32,
    "attention_units": 32,
    "dropout": 0.3,
    "learning_rate": 0.002,
    "batch_size": 64,
    "epochs": 6,                # EarlyStopping (patience 2 on val_loss) usually stops after 3
    "distribution_strategy": "auto",
    "precision_policy": "auto",
}
VARIANTS = ("simple_rnn", "lstm_attention")


class BahdanauAttention(tf.keras.layers.Layer):
    """Additive attention: a context vector weighting every time step by how well it matches
    the query (here the LSTM's final state); padded steps get zero weight."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.w_query = tf.keras.layers.Dense(units)
        self.w_values = tf.keras.layers.Dense(units)
        self.score = tf.keras.layers.Dense(1)

    def call(self, query, values, value_mask=None):
        """Keras override: returns (context [batch, value width], weights [batch, steps, 1]); steps
        where `value_mask` is 0 (padding) get practically zero weight."""
        scores = self.score(tf.nn.tanh(self.w_query(tf.expand_dims(query, 1))
                                       + self.w_values(values)))
        if value_mask is not None:
            scores += (1.0 - tf.cast(tf.expand_dims(value_mask, -1), scores.dtype)) * -1e9
        weights = tf.nn.softmax(scores, axis=1)
        return tf.reduce_sum(weights * values, axis=1), weights

    def get_config(self):
        """Keras override: adds `units`, so a saved model reloads the layer."""
        return {**super().get_config(), "units": self.units}


def build_model(vocab_size: int, params) -> tf.keras.Model:
    """vocab_size counts the vocabulary and its OOV bucket: ids run 1..vocab_size, 0 is padding."""
    if params["variant"] not in VARIANTS:
        raise ValueError(f"sentiment variant must be one of {VARIANTS}, got {params['variant']!r}")
    tokens = tf.keras.Input(shape=(features.MAX_TOKENS,), name=features.TOKENS_KEY, dtype=tf.int64)
    embedded = tf.keras.layers.Embedding(vocab_size + 1, params["embedding_dim"], mask_zero=True,
                                         name="embedding")(tokens)
    if params["variant"] == "simple_rnn":
        x = tf.keras.layers.SimpleRNN(params["rnn_units"], name="simple_rnn")(embedded)
    else:
        sequence, state, _ = tf.keras.layers.LSTM(params["rnn_units"], return_sequences=True,
                                                  return_state=True, name="lstm")(embedded)
        x, _ = BahdanauAttention(params["attention_units"], name="attention")(
            state, sequence, value_mask=tf.not_equal(tokens, features.PAD_ID))
    x = tf.keras.layers.Dropout(params["dropout"])(x)
    output = tf.keras.layers.Dense(1, activation="sigmoid", name="probabilities",
                                   dtype="float32")(x)
    model = tf.keras.Model(tokens, output, name=f"sentiment_{params['variant']}")
    model.compile(optimizer=tf.keras.optimizers.Adam(params["learning_rate"]),
                  loss="binary_crossentropy",
                  metrics=[tf.keras.metrics.BinaryAccuracy(name="binary_accuracy"),
                           tf.keras.metrics.AUC(name="auc")])
    return model


def make_signatures(model, tf_transform_output) -> Dict[str, tf.types.experimental.ConcreteFunction]:
    """serving_default (serialized tf.Example, used by TFMA) and serving_text (raw strings, for
    REST clients); both apply the Transform graph, hence the same vocabulary.
    training.fit_and_export adds transform_features."""
    model.tft_layer = tf_transform_output.transform_features_layer()
    raw_spec = tf_transform_output.raw_feature_spec()
    raw_spec.pop(features.LABEL_KEY)
    class_names = tf.constant(features.CLASS_NAMES)

    def predict(raw):
        return model(model.tft_layer(raw)[features.TOKENS_KEY])

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(serialized):
        return {"probabilities": predict(tf.io.parse_example(serialized, raw_spec))}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=features.TEXT_KEY)])
    def serve_text(text):
        probability = predict({features.TEXT_KEY: tf.reshape(text, [-1, 1])})
        fresh = tf.cast(tf.reshape(probability, [-1]) >= 0.5, tf.int32)
        return {"probabilities": probability, "sentiment": tf.gather(class_names, fresh)}

    return {"serving_default": serve_examples.get_concrete_function(),
            "serving_text": serve_text.get_concrete_function()}


def run_fn(fn_args):
    """TFX Trainer entry point."""
    params = training.hyperparameters(fn_args, DEFAULT_HYPERPARAMETERS)

    def build(tf_transform_output):
        vocab_size = tf_transform_output.vocabulary_size_by_name(features.VOCAB_NAME) \
            + features.NUM_OOV_BUCKETS
        return build_model(vocab_size, params)

    training.fit_and_export(fn_args, params, features.TRANSFORMED_LABEL_KEY, build, make_signatures,
                            features=lambda transformed: transformed[features.TOKENS_KEY])
