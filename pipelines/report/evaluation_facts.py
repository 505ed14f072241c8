"""The report's model section: TFMA metrics per slice, thresholds in words and plots (ROC, PR,
calibration, confusion), read from the Evaluator's artifacts."""
import dataclasses
import math
from typing import Dict, List, Optional, Tuple

from pipelines import run_info

_NEUTRAL_METRICS = ("example_count", "weighted_example_count", "mean_label", "mean_prediction",
                    "label/mean", "prediction/mean", "calibration", "num_thresholds")
_LOWER_IS_BETTER = ("loss", "error", "false_positive", "false_negative", "fall_out",
                    "miss_rate", "false_discovery", "false_omission", "crossentropy")


@dataclasses.dataclass
class Plots:
    """The TFMA plots the report draws, per series (candidate, baseline)."""

    roc: Dict[str, List[Tuple[float, float]]]  # series label -> (false positive rate, recall)
    pr: Dict[str, List[Tuple[float, float]]]  # series label -> (recall, precision)
    calibration: Dict[str, List[Tuple[float, float, float]]]  # label -> (mean pred, mean label, n)
    confusion: Dict[str, Tuple[List[str], List[List[float]]]]  # label -> (classes, rows actual)
    confusion_threshold: Dict[str, float]


@dataclasses.dataclass
class ModelSection:
    """The report's evaluation section: TFMA metrics, thresholds and plots of one run."""

    evaluation_uri: str
    metrics: Dict[str, Dict[str, Dict[str, float]]]  # slice -> model -> metric -> value
    thresholds: List[str]
    failures: Optional[List[run_info.ThresholdFailure]]
    has_baseline: bool
    plots: Plots


def metric_direction(name: str) -> int:
    """+1 when a higher value is better, -1 when lower is better, 0 when neither."""
    lowered = name.lower()
    if any(lowered.startswith(n) for n in _NEUTRAL_METRICS):
        return 0
    return -1 if any(n in lowered for n in _LOWER_IS_BETTER) else 1


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


def load_eval_config(evaluation_uri: str):
    """The EvalConfig an evaluation ran with. TFMA has no public reader of the config alone:
    tfma.load_eval_result also parses every metric and plot, and warns once per slice on a
    candidate/baseline evaluation. So this is the project's one call into TFMA's writer module;
    tests/report/test_census_report.py checks it on a real evaluation and fails when TFMA
    changes it."""
    from tensorflow_model_analysis.writers import eval_config_writer

    return eval_config_writer.load_eval_run(evaluation_uri)[0]


def eval_thresholds(evaluation_uri: str) -> List[str]:
    """Each configured threshold as a sentence, from the evaluation's eval_config.json."""
    try:
        config = load_eval_config(evaluation_uri)
    except Exception:  # an evaluation written without its config: nothing to describe
        return []
    if config is None:  # TFMA's reader answers None when the folder holds no config
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


def _has_metrics(evaluation_uri: str) -> bool:
    import os

    return os.path.isdir(evaluation_uri) and any(
        name.startswith("metrics") for name in os.listdir(evaluation_uri))


def gather_model(run: run_info.RunInfo, node_id: Optional[str] = None) -> Optional[ModelSection]:
    """The evaluation section of `run` (of the evaluator `node_id`, default the first), or None
    when that Evaluator has not run or wrote no evaluation (a skipped golden holdout)."""
    artifact = run.output(node_id, "evaluation") if node_id else \
        run.output_by_key("evaluation", "ModelEvaluation")
    if artifact is None or not _has_metrics(artifact.uri):
        return None
    metrics = run_info.evaluation_metrics(artifact.uri)
    plots = run_info.evaluation_plots(artifact.uri).get("Overall", {})
    has_baseline = any("baseline" in per_model for per_model in metrics.values())
    return ModelSection(artifact.uri, metrics, eval_thresholds(artifact.uri),
                        run_info.validation_failures(artifact.uri), has_baseline,
                        gather_plots(plots))
