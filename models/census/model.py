"""Census Keras models (logistic regression / DNN), the run_fn and the exported signatures."""
from typing import Dict

import tensorflow as tf

from models.census import features
from models.common import training

DEFAULT_HYPERPARAMETERS = {
    "variant": "logistic",      # 'logistic' (documented single sigmoid unit) or 'dnn'
    "learning_rate": 0.01,
    "batch_size": 128,
    "epochs": 10,
    "hidden_units": [64, 32],
    "dropout": 0.3,
    "l2": 1e-4,
    "distribution_strategy": "auto",
    "precision_policy": "auto",
}
VARIANTS = ("logistic", "dnn")


def _feature_inputs(vocab_sizes: Dict[str, int]):
    """Keras inputs for the transformed features and the encoded tensor they feed."""
    inputs, encoded = {}, []
    for key in features.NUMERIC_FEATURES:
        name = features.transformed_name(key)
        inputs[name] = tf.keras.Input(shape=(1,), name=name, dtype="float32")
        encoded.append(inputs[name])
    for key in features.CATEGORICAL_FEATURES:
        name = features.transformed_name(key)
        inputs[name] = tf.keras.Input(shape=(1,), name=name, dtype="int64")
        encoded.append(tf.keras.layers.CategoryEncoding(
            num_tokens=vocab_sizes[key] + 1, output_mode="one_hot", name=f"{key}_onehot")(inputs[name]))
    return inputs, tf.keras.layers.concatenate(encoded, name="features")


def build_model(vocab_sizes: Dict[str, int], params) -> tf.keras.Model:
    """The documented logistic regression (one Dense(1, sigmoid)) or a regularised DNN."""
    if params["variant"] not in VARIANTS:
        raise ValueError(f"census variant must be one of {VARIANTS}, got {params['variant']!r}")
    inputs, x = _feature_inputs(vocab_sizes)
    if params["variant"] == "dnn":
        for units in params["hidden_units"]:
            x = tf.keras.layers.Dense(units, activation="relu",
                                      kernel_regularizer=tf.keras.regularizers.l2(params["l2"]))(x)
            x = tf.keras.layers.Dropout(params["dropout"])(x)
    output = tf.keras.layers.Dense(1, activation="sigmoid", name="probabilities", dtype="float32")(x)
    model = tf.keras.Model(inputs=inputs, outputs=output, name=f"census_{params['variant']}")
    model.compile(optimizer=tf.keras.optimizers.Adam(params["learning_rate"]),
                  loss="binary_crossentropy",
                  metrics=[tf.keras.metrics.BinaryAccuracy(name="binary_accuracy"),
                           tf.keras.metrics.AUC(name="auc")])
    return model


def vocabulary_sizes(tf_transform_output) -> Dict[str, int]:
    """Categories per categorical feature from Transform's vocabularies: each one-hot input is
    that wide plus one (the out-of-vocabulary id)."""
    return {key: tf_transform_output.vocabulary_size_by_name(key)
            for key in features.CATEGORICAL_FEATURES}


def _raw_to_sparse(value: tf.Tensor, missing=None) -> tf.SparseTensor:
    """A [batch] dense raw feature as the [batch, 1] VarLen input Transform expects;
    entries equal to `missing` become absent values."""
    column = tf.reshape(value, [-1, 1])
    present = tf.ones_like(column, tf.bool) if missing is None else tf.not_equal(column, missing)
    return tf.SparseTensor(tf.where(present), tf.boolean_mask(column, present),
                           tf.shape(column, out_type=tf.int64))


def make_signatures(model, tf_transform_output) -> Dict[str, tf.types.experimental.ConcreteFunction]:
    """serving_default (serialized tf.Example) and serving_raw (named raw features), both
    applying the same Transform graph; training.fit_and_export adds transform_features."""
    model.tft_layer = tf_transform_output.transform_features_layer()
    raw_spec = tf_transform_output.raw_feature_spec()
    raw_spec.pop(features.LABEL_KEY)
    input_names = list(model.input_names)

    def predict(transformed):
        return {"probabilities": model({k: transformed[k] for k in input_names})}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(serialized):
        return predict(model.tft_layer(tf.io.parse_example(serialized, raw_spec)))

    raw_signature = {key: tf.TensorSpec([None], tf.int64, name=key)
                     for key in features.NUMERIC_FEATURES}
    raw_signature.update({key: tf.TensorSpec([None], tf.string, name=key)
                          for key in features.CATEGORICAL_FEATURES})

    @tf.function(input_signature=[raw_signature])
    def serve_raw(raw):
        sparse = {key: _raw_to_sparse(raw[key]) for key in features.NUMERIC_FEATURES}
        sparse.update({key: _raw_to_sparse(raw[key], "") for key in features.CATEGORICAL_FEATURES})
        return predict(model.tft_layer(sparse))

    return {"serving_default": serve_examples.get_concrete_function(),
            "serving_raw": serve_raw.get_concrete_function()}


def run_fn(fn_args):
    """TFX Trainer entry point."""
    params = training.hyperparameters(fn_args, DEFAULT_HYPERPARAMETERS)
    training.fit_and_export(
        fn_args, params, features.TRANSFORMED_LABEL_KEY,
        lambda tf_transform_output: build_model(vocabulary_sizes(tf_transform_output), params),
        make_signatures)
