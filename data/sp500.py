"""S&P 500 daily OHLCV (1999-2018) from the file inside the `arch` wheel, as windowed tf.Examples.

One example per trading day t: the raw open/high/low/close/volume of the WINDOW days ending at t
(fixed-length float lists), the trend label of the next HORIZON days (Down/Neutral/Up by
+-THRESHOLD on close[t+HORIZON]/close[t] - 1), and, for the backtest only, the date of t and the
next day's return. Splits are chronological by t (train 70%, eval 15%, test 15%, the test span the
most recent); the last HORIZON days of train and of eval are dropped, so no label looks into the
next span. Indicators and their normalisation are computed by Transform, from the train span only.
"""
import datetime
import gzip
import pathlib
from typing import Dict, List, Mapping

import numpy as np

from data import common

PACKAGE, VERSION = "arch", "8.0.0"
SOURCE_FILE = "arch/data/sp500/sp500.csv.gz"
SOURCE = f"{PACKAGE}=={VERSION}"
RAW_FEATURES = ("open", "high", "low", "close", "volume")
WINDOW = 80            # days of raw history per example: 30 model steps + 50 for the indicators
HORIZON = 5            # label: the move over the next 5 trading days
THRESHOLD = 0.01       # +-1%: Up / Down, otherwise Neutral
CLASSES = ("Down", "Neutral", "Up")
LABEL_KEY, DATE_KEY, NEXT_RETURN_KEY = "trend", "date", "next_return"
SPLIT_FRACTIONS = (("train", 0.70), ("eval", 0.15), ("test", 0.15))
FILE_NAME = "sp500_{split}.tfrecord.gz"


def load_prices(text: str) -> Dict[str, np.ndarray]:
    """Columns of the CSV, oldest day first, with a clear error for any unusable row."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = [h.strip() for h in lines[0].split(",")]
    wanted = {"Date": "date", "Open": "open", "High": "high", "Low": "low", "Close": "close",
              "Volume": "volume"}
    missing = set(wanted) - set(header)
    if missing:
        raise common.DataPreparationError(f"{SOURCE_FILE}: missing column(s) {sorted(missing)}")
    index = {wanted[h]: header.index(h) for h in wanted}
    dates, values = [], {k: [] for k in RAW_FEATURES}
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split(",")
        try:
            dates.append(datetime.datetime.strptime(fields[index["date"]], "%m/%d/%Y").date())
            row = {k: float(fields[index[k]]) for k in RAW_FEATURES}
        except (ValueError, IndexError) as error:
            raise common.DataPreparationError(f"{SOURCE_FILE} line {number}: {error}") from None
        if not all(np.isfinite(v) and v > 0 for v in row.values()) or row["low"] > row["high"]:
            raise common.DataPreparationError(f"{SOURCE_FILE} line {number}: bad prices {row}")
        for k in RAW_FEATURES:
            values[k].append(row[k])
    order = np.argsort(np.array(dates))
    if len(set(dates)) != len(dates):
        raise common.DataPreparationError(f"{SOURCE_FILE}: repeated dates")
    prices = {k: np.asarray(v, dtype=np.float64)[order] for k, v in values.items()}
    prices["date"] = np.array([dates[i].isoformat() for i in order])
    return prices


def trend_class(returns: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """0 Down, 1 Neutral, 2 Up."""
    return np.where(returns > threshold, 2, np.where(returns < -threshold, 0, 1))


def split_days(num_days: int) -> Dict[str, range]:
    """The day indices t of each split: chronological, purged so labels stay inside their span."""
    first, last = WINDOW - 1, num_days - 1 - HORIZON
    total = last - first + 1
    spans, start = {}, first
    for i, (split, fraction) in enumerate(SPLIT_FRACTIONS):
        end = last + 1 if i == len(SPLIT_FRACTIONS) - 1 else start + round(total * fraction)
        purge = 0 if i == len(SPLIT_FRACTIONS) - 1 else HORIZON
        spans[split] = range(start, end - purge)
        start = end
    return spans


def baselines(labels: np.ndarray, trailing_returns: np.ndarray, majority: int) -> Dict[str, float]:
    """Accuracy and balanced accuracy (mean per-class recall) of the two naive predictors:
    always the training majority class, and yesterday's direction (the class of the last
    observed HORIZON-day move, which is known at t)."""
    def scores(predicted):
        recalls = [float(np.mean(predicted[labels == c] == c)) for c in range(len(CLASSES))
                   if np.any(labels == c)]
        return float(np.mean(predicted == labels)), float(np.mean(recalls))

    majority_acc, majority_bal = scores(np.full_like(labels, majority))
    persistence_acc, persistence_bal = scores(trend_class(trailing_returns))
    return {"majority_accuracy": round(majority_acc, 4),
            "majority_balanced_accuracy": round(majority_bal, 4),
            "persistence_accuracy": round(persistence_acc, 4),
            "persistence_balanced_accuracy": round(persistence_bal, 4)}


def build_splits(prices: Mapping[str, np.ndarray]) -> Dict[str, Dict[str, np.ndarray]]:
    """Per split: raw windows [n, WINDOW] per feature, labels, dates and next-day returns."""
    close = prices["close"]
    splits = {}
    for split, days in split_days(len(close)).items():
        t = np.asarray(days)
        columns = {k: np.stack([prices[k][i - WINDOW + 1:i + 1] for i in t]) for k in RAW_FEATURES}
        columns[LABEL_KEY] = trend_class(close[t + HORIZON] / close[t] - 1)
        columns[DATE_KEY] = prices["date"][t]
        columns[NEXT_RETURN_KEY] = close[t + 1] / close[t] - 1
        splits[split] = columns
    return splits


def to_example(columns: Mapping[str, np.ndarray], i: int):
    """The tf.Example of day `i`: the raw OHLCV windows, the trend label, the date and the next
    day's return."""
    import tensorflow as tf

    feature = {k: tf.train.Feature(float_list=tf.train.FloatList(value=columns[k][i]))
               for k in RAW_FEATURES}
    feature[LABEL_KEY] = tf.train.Feature(int64_list=tf.train.Int64List(value=[columns[LABEL_KEY][i]]))
    feature[DATE_KEY] = tf.train.Feature(bytes_list=tf.train.BytesList(
        value=[columns[DATE_KEY][i].encode()]))
    feature[NEXT_RETURN_KEY] = tf.train.Feature(float_list=tf.train.FloatList(
        value=[columns[NEXT_RETURN_KEY][i]]))
    return tf.train.Example(features=tf.train.Features(feature=feature))


def write_split(path: pathlib.Path, columns: Mapping[str, np.ndarray]) -> int:
    """One gzip TFRecord file of the split's examples in day order; returns how many."""
    from data import tfrecords

    return tfrecords.write_examples(
        path, (to_example(columns, i) for i in range(len(columns[LABEL_KEY]))))


def read_split(split_dir: pathlib.Path) -> Dict[str, np.ndarray]:
    """The columns of every *.tfrecord.gz in a split folder, in date order."""
    import tensorflow as tf

    files = sorted(str(p) for p in pathlib.Path(split_dir).glob("*.tfrecord.gz"))
    if not files:
        raise FileNotFoundError(f"no *.tfrecord.gz files in {split_dir}")
    spec = {k: tf.io.FixedLenFeature([WINDOW], tf.float32) for k in RAW_FEATURES}
    spec.update({LABEL_KEY: tf.io.FixedLenFeature([], tf.int64),
                 DATE_KEY: tf.io.FixedLenFeature([], tf.string),
                 NEXT_RETURN_KEY: tf.io.FixedLenFeature([], tf.float32)})
    batches: Dict[str, List[np.ndarray]] = {k: [] for k in spec}
    for batch in tf.data.TFRecordDataset(files, compression_type="GZIP").batch(1024).map(
            lambda records: tf.io.parse_example(records, spec)):
        for k, v in batch.items():
            batches[k].append(v.numpy())
    columns = {k: np.concatenate(v) for k, v in batches.items()}
    columns[DATE_KEY] = columns[DATE_KEY].astype(str)
    order = np.argsort(columns[DATE_KEY], kind="stable")
    return {k: v[order] for k, v in columns.items()}


def split_baselines(splits: Mapping[str, Mapping[str, np.ndarray]]) -> Dict[str, Dict[str, float]]:
    """The naive baselines on every split; the majority class comes from train only, as it would
    be known before the later spans."""
    majority = int(np.bincount(splits["train"][LABEL_KEY], minlength=len(CLASSES)).argmax())
    return {split: baselines(c[LABEL_KEY], c["close"][:, -1] / c["close"][:, -1 - HORIZON] - 1,
                             majority)
            for split, c in splits.items()}


def _write_splits(out_dir: pathlib.Path):
    text = gzip.decompress(common.read_package_file(PACKAGE, VERSION, SOURCE_FILE)).decode("utf-8")
    splits = build_splits(load_prices(text))
    rows = {split: write_split(out_dir / split / FILE_NAME.format(split=split), columns)
            for split, columns in splits.items()}
    return rows, {
        "spans": {s: [str(c[DATE_KEY][0]), str(c[DATE_KEY][-1])] for s, c in splits.items()},
        "classes": {s: dict(zip(CLASSES, np.bincount(c[LABEL_KEY], minlength=3).tolist()))
                    for s, c in splits.items()},
        "baselines": split_baselines(splits),
        "window": WINDOW, "horizon": HORIZON, "threshold": THRESHOLD}


def prepare(out_dir: pathlib.Path) -> Dict:
    """Write train/eval/test TFRecords and MANIFEST.json into out_dir; a no-op when current."""
    return common.prepare_once(out_dir, SOURCE, _write_splits)
