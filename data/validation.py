"""Reading TFDV artifacts and measuring drift/skew, shared by the data gate, `tfxp skew` and the
reports: one place for where StatisticsGen/ExampleValidator put their files and for how a
distance is measured.

Distances are TFDV's own comparators, configured per feature in each model's curated schema:
L-infinity distance for categorical features and Jensen-Shannon divergence for numeric ones
(`drift_comparator`: new training data vs the stable version's; `skew_comparator`: training data
vs eval data or vs serving requests).
"""
import dataclasses
import glob
import os
import pathlib
from typing import Dict, List

STATISTICS_FILE = "FeatureStats.pb"
ANOMALIES_FILE = "SchemaDiff.pb"
SPLIT_ORDER = ("train", "eval")


def _split_files(uri: str, name: str) -> Dict[str, str]:
    """split -> path of `name` in an artifact's `Split-<name>/` folders, train and eval first."""
    found = {pathlib.Path(path).parent.name[len("Split-"):]: path
             for path in glob.glob(os.path.join(uri, "Split-*", name))}
    order = {split: i for i, split in enumerate(SPLIT_ORDER)}
    return dict(sorted(found.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def load_schema_diffs(uri: str):
    """split -> `Anomalies` proto that ExampleValidator wrote (`Split-*/SchemaDiff.pb`)."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    return {split: anomalies_pb2.Anomalies.FromString(pathlib.Path(path).read_bytes())
            for split, path in _split_files(uri, ANOMALIES_FILE).items()}


def read_statistics_file(path: str):
    """The first dataset of a `DatasetFeatureStatisticsList` binary file."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(pathlib.Path(path).read_bytes())
    return stats.datasets[0] if stats.datasets else statistics_pb2.DatasetFeatureStatistics()


def load_split_statistics(uri: str):
    """split -> `DatasetFeatureStatistics` of a StatisticsGen artifact, train and eval first."""
    return {split: read_statistics_file(path)
            for split, path in _split_files(uri, STATISTICS_FILE).items()}


def statistics_path(uri: str, split: str) -> str:
    """The statistics file of one split of a StatisticsGen artifact (TFX's `Split-<name>/`
    layout)."""
    return os.path.join(uri, f"Split-{split}", STATISTICS_FILE)


def as_list(dataset):
    """A `DatasetFeatureStatisticsList` holding one dataset (what tfdv.validate_statistics takes)."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    stats = statistics_pb2.DatasetFeatureStatisticsList()
    stats.datasets.add().CopyFrom(dataset)
    return stats


@dataclasses.dataclass(frozen=True)
class Distance:
    """One TFDV comparator's measurement for one feature."""

    feature: str
    comparison: str  # "drift" or "skew"
    measure: str  # "L-infinity" or "Jensen-Shannon"
    value: float
    threshold: float

    @property
    def exceeded(self) -> bool:
        """True when the value is above the threshold, which is when TFDV reports an anomaly."""
        return self.value > self.threshold

    def describe(self) -> str:
        """One line for reports and gate messages that says whether the threshold was crossed."""
        return (f"feature '{self.feature}': {self.measure} distance {self.value:.4f} "
                f"> threshold {self.threshold:g}" if self.exceeded else
                f"feature '{self.feature}': {self.measure} distance {self.value:.4f} "
                f"(threshold {self.threshold:g})")


_MEASURE_NAMES = {"L_INFTY": "L-infinity", "JENSEN_SHANNON_DIVERGENCE": "Jensen-Shannon",
                  "NORMALIZED_ABSOLUTE_DIFFERENCE": "normalized absolute difference"}


def distances(schema, statistics, previous=None, serving=None) -> List[Distance]:
    """TFDV's drift (`statistics` vs `previous`) and skew (`statistics` vs `serving`) for every
    feature with a comparator in `schema`; each argument is a `DatasetFeatureStatistics`."""
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    result = tfdv.validate_statistics(
        as_list(statistics), schema,
        previous_statistics=as_list(previous) if previous is not None else None,
        serving_statistics=as_list(serving) if serving is not None else None)
    names = anomalies_pb2.DriftSkewInfo.Measurement.Type
    found = []
    for info in result.drift_skew_info:
        feature = ".".join(info.path.step)
        for comparison, measurements in (("drift", info.drift_measurements),
                                         ("skew", info.skew_measurements)):
            for m in measurements:
                name = names.Name(m.type)
                found.append(Distance(feature, comparison, _MEASURE_NAMES.get(name, name),
                                      float(m.value), float(m.threshold)))
    return sorted(found, key=lambda d: (d.comparison, d.feature))


def feature_statistics(dataset, name: str):
    """The `FeatureNameStatistics` of feature `name`, or None."""
    for feature in dataset.features:
        if (".".join(feature.path.step) if feature.path.step else feature.name) == name:
            return feature
    return None


def summary_of(dataset, name: str, top: int = 3) -> str:
    """A short description of one feature's distribution: top values with their share for a
    categorical feature, mean/std/quartiles for a numeric one."""
    feature = feature_statistics(dataset, name) if dataset is not None else None
    if feature is None:
        return "-"
    if feature.WhichOneof("stats") == "string_stats":
        strings = feature.string_stats
        total = max(1, strings.common_stats.num_non_missing)
        values = [f"{v.value}: {v.frequency / total:.0%}" for v in strings.top_values[:top]]
        return ", ".join(values) or "-"
    if feature.WhichOneof("stats") == "num_stats":
        numbers = feature.num_stats
        return f"mean {numbers.mean:.4g}, std {numbers.std_dev:.4g}, median {numbers.median:.4g}"
    return "-"


def row_count(dataset) -> int:
    """Examples in a split's statistics; 0 when the split has none, so that the data gate
    reports it as too small."""
    return int(dataset.num_examples) if dataset is not None else 0



def statistics_from_examples(serialized_examples, schema=None):
    """`DatasetFeatureStatistics` of serialized tf.Examples with TFDV's GenerateStatistics (what
    StatisticsGen runs) on an in-process Beam pipeline: what `tfxp skew` uses for request logs
    and the threshold measurements for re-samples (about a second for a few thousand rows)."""
    import tempfile

    import apache_beam as beam
    import pyarrow as pa
    import tensorflow_data_validation as tfdv
    from tfx_bsl.coders import example_coder

    records = list(serialized_examples)
    decoder = example_coder.ExamplesToRecordBatchDecoder()
    batch = decoder.DecodeBatch(records) if records else pa.RecordBatch.from_arrays([], [])
    options = tfdv.StatsOptions(schema=schema) if schema is not None else tfdv.StatsOptions()
    with tempfile.TemporaryDirectory(prefix="tfxp-stats-") as tmp:
        output = os.path.join(tmp, STATISTICS_FILE)
        with beam.Pipeline() as pipeline:
            _ = (pipeline | beam.Create([batch], reshuffle=False)
                 | tfdv.GenerateStatistics(options)
                 | tfdv.WriteStatisticsToBinaryFile(output))
        return read_statistics_file(output)


def csv_examples(lines: List[str]) -> List[bytes]:
    """Serialized tf.Examples of CSV lines (header first), typed per column the way CsvExampleGen
    does: a column of integers is INT, of numbers FLOAT, else BYTES; empty cells are missing."""
    import csv

    import tensorflow as tf

    rows = list(csv.reader(lines))
    header, body = rows[0], [r for r in rows[1:] if r]

    def column_type(i):
        kind = int
        for row in body:
            cell = row[i]
            if cell == "":
                continue
            try:
                int(cell)
            except ValueError:
                try:
                    float(cell)
                    kind = float
                except ValueError:
                    return bytes
        return kind

    types = [column_type(i) for i in range(len(header))]
    examples = []
    for row in body:
        example = tf.train.Example()
        for name, kind, cell in zip(header, types, row):
            if cell == "":
                continue
            feature = example.features.feature[name]
            if kind is int:
                feature.int64_list.value.append(int(cell))
            elif kind is float:
                feature.float_list.value.append(float(cell))
            else:
                feature.bytes_list.value.append(cell.encode())
        examples.append(example.SerializeToString())
    return examples


def read_examples(path: str) -> List[bytes]:
    """Serialized tf.Examples of one data file: a CSV, or a (gzipped) TFRecord file."""
    if path.endswith(".csv"):
        with open(path, newline="") as f:
            return csv_examples(f.read().splitlines())
    import tensorflow as tf

    compression = "GZIP" if path.endswith(".gz") else ""
    return [r.numpy() for r in tf.data.TFRecordDataset([path], compression_type=compression)]


# ---- what every pushed version carries about the data it was trained on ----
TRAINING_DATA_DIR = os.path.join("assets.extra", "training_data")
TRAINING_STATISTICS_FILE = "train_statistics.pb"
TRAINING_SCHEMA_FILE = "schema.pbtxt"


def write_training_data(model_dir: str, statistics_file: str, schema_file: str) -> str:
    """Copies the train split's statistics and the schema into `model_dir`'s
    `assets.extra/training_data/` (TF Serving ignores assets.extra). Returns that folder."""
    import shutil

    target = os.path.join(model_dir, TRAINING_DATA_DIR)
    os.makedirs(target, exist_ok=True)
    shutil.copyfile(statistics_file, os.path.join(target, TRAINING_STATISTICS_FILE))
    shutil.copyfile(schema_file, os.path.join(target, TRAINING_SCHEMA_FILE))
    return target


def load_training_data(version_dir):
    """(train statistics, schema) a pushed version carries, or (None, None) for a version pushed
    without them."""
    import tensorflow_data_validation as tfdv

    folder = os.path.join(str(version_dir), TRAINING_DATA_DIR)
    statistics_file = os.path.join(folder, TRAINING_STATISTICS_FILE)
    schema_file = os.path.join(folder, TRAINING_SCHEMA_FILE)
    if not (os.path.exists(statistics_file) and os.path.exists(schema_file)):
        return None, None
    return read_statistics_file(statistics_file), tfdv.load_schema_text(schema_file)
