"""The report's data section: TFDV statistics, anomalies, drift and skew distances, what the data
gate let through, and the last `tfxp skew` (StatisticsGen/ExampleValidator artifacts)."""
import dataclasses
import os
import pathlib
from typing import Dict, List, Optional, Sequence, Tuple

from data import validation
from pipelines import run_info

DEFAULT_DRIFT_THRESHOLD = 0.1


@dataclasses.dataclass
class FeatureStats:
    """One feature's statistics per split, in the form the report's tables and charts draw."""

    name: str
    kind: str  # "numeric" or "categorical"
    stats: Dict[str, Dict[str, float]]  # split -> stat name -> value
    histograms: Dict[str, List[Tuple[float, float, float]]]  # numeric: split -> buckets
    top_values: Dict[str, List[Tuple[str, float]]]  # categorical: split -> (value, count)


@dataclasses.dataclass
class Anomaly:
    """One TFDV anomaly of one split, with TFDV's short and long wording."""

    split: str
    feature: str
    severity: str
    short: str
    description: str


@dataclasses.dataclass
class DistanceCheck:
    """One drift or skew comparison of a feature against its schema threshold."""

    feature: str
    comparison: str  # "drift" (train vs the previous run's train) or "skew" (train vs eval)
    measure: str
    value: float
    threshold: float

    @property
    def exceeded(self) -> bool:
        """Above the threshold: the check failed (TFDV reports it as an anomaly)."""
        return self.value > self.threshold


@dataclasses.dataclass
class DataSection:
    """The report's data section: statistics, anomalies and distances of one run's data."""

    statistics_uri: Optional[str]
    rows: Dict[str, int]
    features: List[FeatureStats]
    anomalies: List[Anomaly]
    anomalies_uri: Optional[str]
    distances: List[DistanceCheck]
    drift_note: str
    gate: Optional[object] = None  # components.data_gate.GateReport of data the gate let through


def load_statistics(uri: str) -> Dict[str, object]:
    """split -> DatasetFeatureStatistics of a StatisticsGen artifact, train and eval first."""
    return validation.load_split_statistics(uri)


def _feature_name(feature) -> str:
    return ".".join(feature.path.step) if feature.path.step else feature.name


def _feature_stats(per_split: Dict[str, object]) -> List[FeatureStats]:
    features: Dict[str, FeatureStats] = {}
    for split, dataset in per_split.items():
        for feature in dataset.features:
            name = _feature_name(feature)
            kind = feature.WhichOneof("stats")
            if kind == "num_stats":
                numbers = feature.num_stats
                common = numbers.common_stats
                stats = {"count": common.num_non_missing, "missing": common.num_missing,
                         "mean": numbers.mean, "std_dev": numbers.std_dev,
                         "zeros": numbers.num_zeros, "min": numbers.min,
                         "median": numbers.median, "max": numbers.max}
                entry = features.setdefault(name, FeatureStats(name, "numeric", {}, {}, {}))
                standard = [h for h in numbers.histograms if h.type == h.STANDARD]
                if standard:
                    entry.histograms[split] = [(b.low_value, b.high_value, b.sample_count)
                                               for b in standard[0].buckets]
            elif kind == "string_stats":
                strings = feature.string_stats
                common = strings.common_stats
                stats = {"count": common.num_non_missing, "missing": common.num_missing,
                         "unique": strings.unique, "avg_length": strings.avg_length}
                entry = features.setdefault(name, FeatureStats(name, "categorical", {}, {}, {}))
                entry.top_values[split] = [(v.value, v.frequency) for v in strings.top_values]
            else:
                continue
            entry.stats[split] = {k: float(v) for k, v in stats.items()}
    return [features[name] for name in sorted(features)]


def load_anomalies(uri: str) -> List[Anomaly]:
    """The anomalies ExampleValidator found, per split."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    found = []
    for split, anomalies in validation.load_schema_diffs(uri).items():
        for feature, info in sorted(anomalies.anomaly_info.items()):
            found.append(Anomaly(split, feature, anomalies_pb2.AnomalyInfo.Severity.Name(
                info.severity), info.short_description, info.description))
        if anomalies.HasField("dataset_anomaly_info"):
            info = anomalies.dataset_anomaly_info
            found.append(Anomaly(split, "(dataset)", anomalies_pb2.AnomalyInfo.Severity.Name(
                info.severity), info.short_description, info.description))
    return found


def _schema_for(run: run_info.RunInfo, statistics):
    import tensorflow_data_validation as tfdv

    schema_artifact = run.output_by_key("schema", "Schema")
    path = os.path.join(schema_artifact.uri, "schema.pbtxt") if schema_artifact else None
    if path and os.path.exists(path):
        return tfdv.load_schema_text(path)
    return tfdv.infer_schema(validation.as_list(statistics))


def distances(schema, train, eval_stats=None, previous_train=None) -> List[DistanceCheck]:
    """TFDV's drift (vs the previous run's train split) and skew (train vs eval) per feature:
    L-infinity distance for categorical features, Jensen-Shannon divergence for numeric ones.
    Comparators the schema lacks get DEFAULT_DRIFT_THRESHOLD."""
    from tensorflow_metadata.proto.v0 import schema_pb2

    schema = schema_pb2.Schema.FromString(schema.SerializeToString())
    string_features = {_feature_name(f) for f in train.features
                       if f.WhichOneof("stats") == "string_stats"}
    for feature in schema.feature:
        for comparator in (feature.drift_comparator, feature.skew_comparator):
            if comparator.HasField("infinity_norm") or \
                    comparator.HasField("jensen_shannon_divergence"):
                continue
            if feature.name in string_features:
                comparator.infinity_norm.threshold = DEFAULT_DRIFT_THRESHOLD
            else:
                comparator.jensen_shannon_divergence.threshold = DEFAULT_DRIFT_THRESHOLD
    return [DistanceCheck(d.feature, d.comparison, d.measure, d.value, d.threshold)
            for d in validation.distances(schema, train, previous=previous_train,
                                          serving=eval_stats)]


def _previous_statistics(runs: Sequence[run_info.RunInfo], current: run_info.RunInfo,
                         current_uri: str):
    """(statistics uri, run id) of the last earlier run whose statistics differ, and a note."""
    earlier = [r for r in runs if r.started < current.started and r.run_id != current.run_id]
    for run in reversed(earlier):
        artifact = run.output_by_key("statistics", "ExampleStatistics")
        if artifact and artifact.uri != current_uri:
            return artifact.uri, (f"Drift compares this run's train split with run "
                                  f"{run.run_id}'s ({artifact.uri}).")
    if earlier:
        return None, ("The previous runs used these same statistics (StatisticsGen was cached: "
                      "the data did not change), so there is no drift to measure.")
    return None, "This is the pipeline's first run: there are no earlier statistics to compare."


def gather_data(run: run_info.RunInfo, runs: Sequence[run_info.RunInfo]) -> Optional[DataSection]:
    """The data section of `run`; drift is measured against the newest earlier run of `runs`
    whose statistics differ. None when the run has no statistics yet."""
    artifact = run.output_by_key("statistics", "ExampleStatistics")
    if artifact is None:
        return None
    per_split = load_statistics(artifact.uri)
    anomalies_artifact = run.output_by_key("anomalies", "ExampleAnomalies")
    anomalies = load_anomalies(anomalies_artifact.uri) if anomalies_artifact else []
    train = per_split.get("train") or next(iter(per_split.values()), None)
    eval_stats = next((per_split[s] for s in per_split if per_split[s] is not train), None)
    previous_uri, note = _previous_statistics(runs, run, artifact.uri)
    previous = None
    if previous_uri:
        previous_splits = load_statistics(previous_uri)
        previous = previous_splits.get("train") or next(iter(previous_splits.values()), None)
    checks = distances(_schema_for(run, train), train, eval_stats, previous) if train else []
    return DataSection(artifact.uri, {s: int(d.num_examples) for s, d in per_split.items()},
                       _feature_stats(per_split), anomalies,
                       anomalies_artifact.uri if anomalies_artifact else None, checks, note,
                       gate_report(run))


def gate_report(run: run_info.RunInfo):
    """What the data gate recorded for this run (drift accepted or not), or None."""
    from components import data_gate

    result = run.output_by_key("result", data_gate.DataGateResult.TYPE_NAME)
    return data_gate.read_result(result.uri) if result else None


@dataclasses.dataclass
class ServingSkewSection:
    """The report's serving-skew section: the last `tfxp skew` result of a model."""

    result: object  # pipelines.skew.SkewResult
    features: List[FeatureStats]  # training vs serving, the skewed features only


def gather_serving_skew(home: pathlib.Path) -> Optional[ServingSkewSection]:
    """The last `tfxp skew` result saved under the pipeline home, or None."""
    from pipelines import skew

    saved = skew.load_saved(home)
    if saved is None:
        return None
    result, training, serving = saved
    skewed = {d.feature for d in result.skewed}
    features = [f for f in _feature_stats({"training": training, "serving": serving})
                if f.name in skewed]
    return ServingSkewSection(result, features)
