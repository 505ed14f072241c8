"""The P1 reference: the census model trained by a plain in-process Keras script.

Same rows (the prepared CSVs), same model code (models.census.model.build_model), same
z-scoring and vocabularies, same batch size, epochs and early stopping as the pipeline's Trainer,
but no TFX: pandas in, model.fit, SavedModel out. Prints a JSON line with its timings and AUC.
"""
import json
import math
import os
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402

from data.settings import PREPARED_ROOT  # noqa: E402
from models.census import SPEC, features, model  # noqa: E402


def encode(frame: pd.DataFrame, stats) -> dict:
    """The model's input tensors from raw rows: numeric columns z-scored and categorical ones
    indexed, as the pipeline's Transform does."""
    columns = {}
    for key in features.NUMERIC_FEATURES:
        values = frame[key].astype("float32").fillna(stats[key][0])
        columns[features.transformed_name(key)] = ((values - stats[key][0]) / stats[key][1]) \
            .to_numpy(np.float32).reshape(-1, 1)
    for key in features.CATEGORICAL_FEATURES:
        vocabulary = stats[key]
        values = frame[key].fillna(features.MISSING_TOKEN)
        columns[features.transformed_name(key)] = values.map(
            lambda v: vocabulary.get(v, len(vocabulary))).to_numpy(np.int64).reshape(-1, 1)
    return columns


def main(out_dir: str) -> dict:
    """Trains and saves the model under `out_dir`; returns its timings and AUC."""
    started = time.monotonic()
    train = pd.read_csv(PREPARED_ROOT / "census" / "train" / "census_train.csv")
    evaluation = pd.read_csv(PREPARED_ROOT / "census" / "eval" / "census_eval.csv")
    stats = {key: (train[key].mean(), train[key].std(ddof=0)) for key in features.NUMERIC_FEATURES}
    for key in features.CATEGORICAL_FEATURES:
        counts = train[key].fillna(features.MISSING_TOKEN).value_counts()
        stats[key] = {value: index for index, value in enumerate(counts.index)}
    x_train, x_eval = encode(train, stats), encode(evaluation, stats)
    y_train = (train[features.LABEL_KEY] == features.POSITIVE_LABEL).to_numpy(np.float32)
    y_eval = (evaluation[features.LABEL_KEY] == features.POSITIVE_LABEL).to_numpy(np.float32)
    params = dict(model.DEFAULT_HYPERPARAMETERS)
    tf.keras.utils.set_random_seed(42)
    census_model = model.build_model({k: len(stats[k]) for k in features.CATEGORICAL_FEATURES},
                                     params)
    steps_per_epoch = math.ceil(SPEC.train_steps / params["epochs"])
    dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(
        len(y_train), seed=42).repeat().batch(params["batch_size"])
    fit_started = time.monotonic()
    census_model.fit(dataset, epochs=params["epochs"], steps_per_epoch=steps_per_epoch,
                     validation_data=(x_eval, y_eval), verbose=0,
                     callbacks=[tf.keras.callbacks.EarlyStopping(
                         monitor="val_loss", patience=2, restore_best_weights=True)])
    fit_seconds = time.monotonic() - fit_started
    metrics = census_model.evaluate(x_eval, y_eval, verbose=0, return_dict=True)
    tf.saved_model.save(census_model, out_dir)
    return {"seconds": time.monotonic() - started, "fit_seconds": fit_seconds,
            "auc": metrics["auc"], "binary_accuracy": metrics["binary_accuracy"]}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
