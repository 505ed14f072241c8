"""Stock-trend Keras model (GRU or LSTM with Dropout), run_fn and the exported signatures."""
from typing import Dict

import numpy as np
import tensorflow as tf

from models.common import training
from models.stock_trend import features
from models.stock_trend.metrics import MacroRecall

DEFAULT_HYPERPARAMETERS = {
    "cell": "gru",              # 'gru' or 'lstm'
    "units": 32,
    "dense_units": 16,
    "dropout": 0.3,
    "learning_rate": 0.001,
    "batch_size": 64,
    "epochs": 20,
    "patience": 3,              # EarlyStopping on val_loss, best weights restored
    "class_weighting": True,    # weight classes by inverse train frequency (for balanced accuracy)
    "distribution_strategy": "auto",
    "precision_policy": "auto",
}
CELLS = {"gru": tf.keras.layers.GRU, "lstm": tf.keras.layers.LSTM}


def build_model(params) -> tf.keras.Model:
    """Indicator sequences [batch, SEQUENCE_LENGTH, len(INDICATORS)] -> class probabilities."""
    if params["cell"] not in CELLS:
        raise ValueError(f"stock_trend cell must be one of {sorted(CELLS)}, got {params['cell']!r}")
    inputs = {features.transformed_name(name): tf.keras.Input(
        shape=(features.SEQUENCE_LENGTH,), name=features.transformed_name(name), dtype=tf.float32)
        for name in features.INDICATORS}
    x = tf.keras.layers.Lambda(lambda columns: tf.stack(columns, axis=-1), name="sequence")(
        [inputs[features.transformed_name(name)] for name in features.INDICATORS])
    x = CELLS[params["cell"]](params["units"], name=params["cell"])(x)
    x = tf.keras.layers.Dropout(params["dropout"])(x)
    x = tf.keras.layers.Dense(params["dense_units"], activation="relu")(x)
    x = tf.keras.layers.Dropout(params["dropout"])(x)
    output = tf.keras.layers.Dense(len(features.CLASSES), activation="softmax",
                                   name="probabilities", dtype="float32")(x)
    model = tf.keras.Model(inputs, output, name=f"stock_trend_{params['cell']}")
    model.compile(optimizer=tf.keras.optimizers.Adam(params["learning_rate"]),
                  loss="sparse_categorical_crossentropy",
                  metrics=[tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
                           MacroRecall(len(features.CLASSES))])
    return model


def class_weights(labels: np.ndarray) -> Dict[int, float]:
    """Inverse-frequency weights averaging 1 over the training examples."""
    counts = np.bincount(labels.astype(int).ravel(), minlength=len(features.CLASSES))
    if np.any(counts == 0):
        raise ValueError(f"the train split lacks a class: counts {dict(zip(features.CLASSES, counts))}")
    return {c: float(counts.sum() / (len(counts) * n)) for c, n in enumerate(counts)}


def _train_labels(fn_args, tf_transform_output) -> np.ndarray:
    from tfx_bsl.public import tfxio

    dataset = fn_args.data_accessor.tf_dataset_factory(
        fn_args.train_files,
        tfxio.TensorFlowDatasetOptions(batch_size=1024, label_key=features.TRANSFORMED_LABEL_KEY,
                                       num_epochs=1, shuffle=False),
        tf_transform_output.transformed_metadata.schema)
    return np.concatenate([labels.numpy().ravel() for _, labels in dataset])


def make_signatures(model, tf_transform_output) -> Dict[str, tf.types.experimental.ConcreteFunction]:
    """serving_default (serialized tf.Example, for TFMA) and serving_window (the raw OHLCV
    window of the last WINDOW days, oldest first); training.fit_and_export adds
    transform_features."""
    model.tft_layer = tf_transform_output.transform_features_layer()
    raw_spec = tf_transform_output.raw_feature_spec()
    for key in (features.LABEL_KEY,) + features.METADATA_KEYS:
        raw_spec.pop(key)
    class_names = tf.constant(features.CLASSES)
    input_names = list(model.input_names)

    def predict(raw):
        transformed = model.tft_layer(raw)
        probabilities = model({k: transformed[k] for k in input_names})
        return {"probabilities": probabilities,
                "trend": tf.gather(class_names, tf.argmax(probabilities, axis=-1))}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(serialized):
        return {"probabilities": predict(tf.io.parse_example(serialized, raw_spec))["probabilities"]}

    @tf.function(input_signature=[{key: tf.TensorSpec([None, features.WINDOW], tf.float32, name=key)
                                   for key in features.RAW_FEATURES}])
    def serve_window(window):
        return predict(window)

    return {"serving_default": serve_examples.get_concrete_function(),
            "serving_window": serve_window.get_concrete_function()}


def run_fn(fn_args):
    """TFX Trainer entry point."""
    params = training.hyperparameters(fn_args, DEFAULT_HYPERPARAMETERS)
    weigh = (lambda tf_transform_output: class_weights(_train_labels(fn_args, tf_transform_output))) \
        if params["class_weighting"] else None
    training.fit_and_export(fn_args, params, features.TRANSFORMED_LABEL_KEY,
                            lambda _: build_model(params), make_signatures,
                            patience=params["patience"], class_weight=weigh)
