"""Everything a report shows, read from ML Metadata and the run's artifacts (no HTML here).

Sources: run_info (MLMD executions and artifacts, TFMA metrics, plots and validation result),
the StatisticsGen and ExampleValidator artifacts (TFDV protos, drift/skew via
tfdv.validate_statistics), the Trainer's TensorBoard event files, and serving/'s models.config.
"""
import dataclasses
import glob
import math
import os
import pathlib
from typing import Dict, List, Optional, Sequence, Tuple

from pipelines import run_info

DEFAULT_DRIFT_THRESHOLD = 0.1
_NEUTRAL_METRICS = ("example_count", "weighted_example_count", "mean_label", "mean_prediction",
                    "label/mean", "prediction/mean", "calibration", "num_thresholds")
_LOWER_IS_BETTER = ("loss", "error", "false_positive", "false_negative", "fall_out",
                    "miss_rate", "false_discovery", "false_omission", "crossentropy")


class NoRunsError(LookupError):
    """A model has no recorded pipeline run to report on."""


@dataclasses.dataclass
class FeatureStats:
    name: str
    kind: str  # "numeric" or "categorical"
    stats: Dict[str, Dict[str, float]]  # split -> stat name -> value
    histograms: Dict[str, List[Tuple[float, float, float]]]  # numeric: split -> buckets
    top_values: Dict[str, List[Tuple[str, float]]]  # categorical: split -> (value, count)


@dataclasses.dataclass
class Anomaly:
    split: str
    feature: str
    severity: str
    short: str
    description: str


@dataclasses.dataclass
class DistanceCheck:
    feature: str
    comparison: str  # "drift" (train vs the previous run's train) or "skew" (train vs eval)
    measure: str
    value: float
    threshold: float

    @property
    def exceeded(self) -> bool:
        return self.value > self.threshold


@dataclasses.dataclass
class DataSection:
    statistics_uri: Optional[str]
    rows: Dict[str, int]
    features: List[FeatureStats]
    anomalies: List[Anomaly]
    anomalies_uri: Optional[str]
    distances: List[DistanceCheck]
    drift_note: str
    gate: Optional[object] = None  # components.data_gate.GateReport of data the gate let through


@dataclasses.dataclass
class Plots:
    roc: Dict[str, List[Tuple[float, float]]]  # series label -> (false positive rate, recall)
    pr: Dict[str, List[Tuple[float, float]]]  # series label -> (recall, precision)
    calibration: Dict[str, List[Tuple[float, float, float]]]  # label -> (mean pred, mean label, n)
    confusion: Dict[str, Tuple[List[str], List[List[float]]]]  # label -> (classes, rows actual)
    confusion_threshold: Dict[str, float]


@dataclasses.dataclass
class ModelSection:
    evaluation_uri: str
    metrics: Dict[str, Dict[str, Dict[str, float]]]  # slice -> model -> metric -> value
    thresholds: List[str]
    failures: Optional[List[run_info.ThresholdFailure]]
    has_baseline: bool
    plots: Plots


@dataclasses.dataclass
class RunReport:
    model: str
    pipeline_name: str
    run: run_info.RunInfo
    key_metric: str
    blessed: Optional[bool]
    pushed_version: Optional[int]
    pushed_destination: Optional[str]
    data: Optional[DataSection]
    model_section: Optional[ModelSection]
    curves: Dict[str, Dict[str, List[Tuple[int, float]]]]  # metric -> train/validation -> points
    model_run_uri: Optional[str]
    problems: List[str]
    run_count: int = 1
    latest_pushed_version: Optional[int] = None  # the newest version any run pushed
    serving_skew: Optional["ServingSkewSection"] = None  # the last `tfxp skew` of this model

    @property
    def key_values(self) -> Tuple[Optional[float], Optional[float]]:
        """(candidate, baseline) of the key metric on the overall slice."""
        if not self.model_section:
            return None, None
        overall = self.model_section.metrics.get("Overall", {})
        return (overall.get("candidate", {}).get(self.key_metric),
                overall.get("baseline", {}).get(self.key_metric))


def metric_direction(name: str) -> int:
    """+1 when a higher value is better, -1 when lower is better, 0 when neither."""
    lowered = name.lower()
    if any(lowered.startswith(n) for n in _NEUTRAL_METRICS):
        return 0
    return -1 if any(n in lowered for n in _LOWER_IS_BETTER) else 1


# ---- data (TFDV) ----

def load_statistics(uri: str) -> Dict[str, object]:
    """split -> DatasetFeatureStatistics of a StatisticsGen artifact, train and eval first."""
    from data import validation

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

    from data import validation

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
    return tfdv.infer_schema(_as_list(statistics))


def _as_list(dataset):
    from tensorflow_metadata.proto.v0 import statistics_pb2

    stats = statistics_pb2.DatasetFeatureStatisticsList()
    stats.datasets.add().CopyFrom(dataset)
    return stats


def distances(schema, train, eval_stats=None, previous_train=None) -> List[DistanceCheck]:
    """TFDV's drift (vs the previous run's train split) and skew (train vs eval) per feature:
    L-infinity distance for categorical features, Jensen-Shannon divergence for numeric ones.
    Comparators the schema lacks get DEFAULT_DRIFT_THRESHOLD."""
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2

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
    result = tfdv.validate_statistics(
        _as_list(train), schema,
        previous_statistics=_as_list(previous_train) if previous_train is not None else None,
        serving_statistics=_as_list(eval_stats) if eval_stats is not None else None)
    measures = anomalies_pb2.DriftSkewInfo.Measurement.Type
    checks = []
    for info in result.drift_skew_info:
        name = ".".join(info.path.step)
        for comparison, measurements in (("drift", info.drift_measurements),
                                         ("skew", info.skew_measurements)):
            for m in measurements:
                checks.append(DistanceCheck(name, comparison, measures.Name(m.type), m.value,
                                            m.threshold))
    return sorted(checks, key=lambda c: (c.comparison, c.feature))


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


# ---- model (TFMA) ----

def _rates(matrix) -> Tuple[float, float, float]:
    """(false positive rate, recall, precision) of one binary confusion matrix."""
    tp, fp = matrix.true_positives, matrix.false_positives
    fn, tn = matrix.false_negatives, matrix.true_negatives
    recall = tp / (tp + fn) if tp + fn else 0.0
    fpr = fp / (fp + tn) if fp + tn else 0.0
    precision = tp / (tp + fp) if tp + fp else 1.0
    return fpr, recall, precision


def _calibration(buckets, bins: int = 10) -> List[Tuple[float, float, float]]:
    sums = [[0.0, 0.0, 0.0] for _ in range(bins)]
    for bucket in buckets:
        low = bucket.lower_threshold_inclusive
        index = 0 if not math.isfinite(low) or low < 0 else min(bins - 1, int(low * bins))
        weight = bucket.num_weighted_examples.value
        sums[index][0] += bucket.total_weighted_refined_prediction.value
        sums[index][1] += bucket.total_weighted_label.value
        sums[index][2] += weight
    return [(p / n, y / n, n) for p, y, n in sums if n > 0]


def _closest(matrices, threshold: float):
    return min(matrices, key=lambda m: abs(m.threshold - threshold))


def gather_plots(plots_by_model: Dict[str, Dict[str, object]]) -> Plots:
    """ROC, PR and calibration curves and confusion matrices of one slice, per model."""
    plots = Plots({}, {}, {}, {}, {})
    for model in sorted(plots_by_model, key=lambda m: (m != "candidate", m)):
        for name, value in sorted(plots_by_model[model].items()):
            field, _, sub_key = name.partition(" ")
            label = f"{model} {sub_key}".strip()
            if field == "confusion_matrix_at_thresholds" and value.matrices:
                rates = sorted((_rates(m) for m in value.matrices), key=lambda r: (r[0], r[1]))
                plots.roc[label] = [(0.0, 0.0)] + [(f, r) for f, r, _ in rates] + [(1.0, 1.0)]
                by_recall = sorted((_rates(m) for m in value.matrices), key=lambda r: r[1])
                plots.pr[label] = [(r, p) for _, r, p in by_recall]
                if not sub_key:
                    m = _closest(value.matrices, 0.5)
                    plots.confusion[label] = (["0", "1"], [
                        [m.true_negatives, m.false_positives],
                        [m.false_negatives, m.true_positives]])
                    plots.confusion_threshold[label] = m.threshold
            elif field == "calibration_histogram_buckets" and value.buckets:
                plots.calibration[label] = _calibration(value.buckets)
            elif field == "multi_class_confusion_matrix_at_thresholds" and value.matrices:
                matrix = _closest(value.matrices, 0.0)
                classes = sorted({e.actual_class_id for e in matrix.entries}
                                 | {e.predicted_class_id for e in matrix.entries})
                index = {c: i for i, c in enumerate(classes)}
                rows = [[0.0] * len(classes) for _ in classes]
                for e in matrix.entries:
                    rows[index[e.actual_class_id]][index[e.predicted_class_id]] += \
                        e.num_weighted_examples
                names = ["none" if c < 0 else str(c) for c in classes]
                plots.confusion[label] = (names, rows)
                plots.confusion_threshold[label] = matrix.threshold
    return plots


def _describe_threshold(metric: str, slices: str, threshold) -> str:
    parts = []
    if threshold.HasField("value_threshold"):
        bounds = threshold.value_threshold
        if bounds.HasField("lower_bound"):
            parts.append(f"at least {bounds.lower_bound.value:g}")
        if bounds.HasField("upper_bound"):
            parts.append(f"at most {bounds.upper_bound.value:g}")
    if threshold.HasField("change_threshold"):
        from tensorflow_model_analysis.proto import config_pb2

        change = threshold.change_threshold
        higher = change.direction == config_pb2.MetricDirection.HIGHER_IS_BETTER
        for kind in ("absolute", "relative"):
            if change.HasField(kind):
                limit = getattr(change, kind).value
                bound = "fall by no more than" if higher else "rise by no more than"
                parts.append(f"{bound} {abs(limit):g} ({kind}) against the baseline")
    return f"{metric} on {slices}: " + ("; ".join(parts) or "a threshold with no bounds")


def eval_thresholds(evaluation_uri: str) -> List[str]:
    """Each configured threshold as a sentence, from the evaluation's eval_config.json."""
    from tensorflow_model_analysis.writers import eval_config_writer

    try:
        config = eval_config_writer.load_eval_run(evaluation_uri)[0]
    except Exception:  # an evaluation written without its config: nothing to describe
        return []
    lines = []
    for spec in config.metrics_specs:
        for metric in spec.metrics:
            name = metric.class_name
            if metric.HasField("threshold"):
                lines.append(_describe_threshold(name, "every slice", metric.threshold))
            for per_slice in metric.per_slice_thresholds:
                slices = ", ".join(
                    ", ".join(f"{k}={v}" for k, v in s.feature_values.items())
                    or ", ".join(s.feature_keys) or "Overall" for s in per_slice.slicing_specs)
                lines.append(_describe_threshold(name, slices, per_slice.threshold))
        for name, threshold in spec.thresholds.items():
            lines.append(_describe_threshold(name, "every slice", threshold))
    return lines


def gather_model(run: run_info.RunInfo) -> Optional[ModelSection]:
    artifact = run.output_by_key("evaluation", "ModelEvaluation")
    if artifact is None:
        return None
    metrics = run_info.evaluation_metrics(artifact.uri)
    plots = run_info.evaluation_plots(artifact.uri).get("Overall", {})
    has_baseline = any("baseline" in per_model for per_model in metrics.values())
    return ModelSection(artifact.uri, metrics, eval_thresholds(artifact.uri),
                        run_info.validation_failures(artifact.uri), has_baseline,
                        gather_plots(plots))


# ---- training curves (TensorBoard) ----

def training_curves(model_run_uri: str) -> Dict[str, Dict[str, List[Tuple[int, float]]]]:
    """metric -> {train|validation: [(epoch, value)]} from Keras' per-epoch summaries."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util

    curves: Dict[str, Dict[str, Dict[int, float]]] = {}
    for path in sorted(glob.glob(os.path.join(model_run_uri, "**", "*tfevents*"), recursive=True)):
        run_name = pathlib.Path(path).parent.name
        for event in EventFileLoader(path).Load():
            for value in event.summary.value:
                if not value.tag.startswith("epoch_"):
                    continue
                if value.HasField("tensor"):
                    number = float(tensor_util.make_ndarray(value.tensor))
                elif value.HasField("simple_value"):
                    number = value.simple_value
                else:
                    continue
                metric = value.tag[len("epoch_"):]
                curves.setdefault(metric, {}).setdefault(run_name, {})[int(event.step)] = number
    return {metric: {run: sorted(points.items()) for run, points in sorted(per_run.items())}
            for metric, per_run in sorted(curves.items(), key=lambda kv: (kv[0] != "loss", kv[0]))}


# ---- one run ----

def gather_run(model: str, key_metric: str, metadata_path: str, pipeline_name: str,
               run_id: Optional[str] = None) -> RunReport:
    """The report data of one run (default: the latest). Raises NoRunsError without runs."""
    runs = run_info.load_runs(str(metadata_path), pipeline_name)
    if not runs:
        raise NoRunsError(f"no runs of pipeline {pipeline_name!r} yet (looked in "
                          f"{metadata_path})")
    if run_id in (None, "latest"):
        run = runs[-1]
    else:
        run = next((r for r in runs if r.run_id == run_id), None)
        if run is None:
            raise NoRunsError(f"no run {run_id!r} of {pipeline_name!r}; runs: "
                              f"{', '.join(r.run_id for r in runs)}")
    problems: List[str] = []

    def attempt(what, function, *args):
        try:
            return function(*args)
        except Exception as error:  # one unreadable artifact must not hide the rest of the page
            problems.append(f"{what}: {type(error).__name__}: {error}")
            return None

    pushed = run.output_by_key("pushed_model", "PushedModel")
    pushed_version = None
    if pushed and pushed.properties.get("pushed") and pushed.properties.get("pushed_version"):
        pushed_version = int(pushed.properties["pushed_version"])
    model_run = run.output_by_key("model_run", "ModelRun")
    latest_pushed = None
    for earlier in reversed([r for r in runs if r.started <= run.started]):
        artifact = earlier.output_by_key("pushed_model", "PushedModel")
        if artifact and artifact.properties.get("pushed") and \
                artifact.properties.get("pushed_version"):
            latest_pushed = int(artifact.properties["pushed_version"])
            break
    return RunReport(
        model=model, pipeline_name=pipeline_name, run=run, key_metric=key_metric,
        blessed=run.blessed,
        pushed_version=pushed_version,
        pushed_destination=pushed.properties.get("pushed_destination") if pushed_version else None,
        data=attempt("data statistics", gather_data, run, runs),
        model_section=attempt("model evaluation", gather_model, run),
        curves=(attempt("training curves", training_curves, model_run.uri) or {})
        if model_run else {},
        model_run_uri=model_run.uri if model_run else None,
        problems=problems, run_count=len(runs), latest_pushed_version=latest_pushed)


def serving_labels(models_config: pathlib.Path) -> Dict[str, Dict[str, int]]:
    """model -> {label: version} from TF Serving's models.config; empty when absent."""
    if not models_config.is_file():
        return {}
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    try:
        config = text_format.Parse(models_config.read_text(),
                                   model_server_config_pb2.ModelServerConfig())
    except (text_format.ParseError, OSError):
        return {}
    return {entry.name: dict(entry.version_labels)
            for entry in config.model_config_list.config}
