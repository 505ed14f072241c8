"""A gate that fails the run on bad or changed data, before Transform trains on it.

TFX's ExampleValidator records anomalies but never stops a pipeline, and has no notion of the data
the serving model learned from. This component raises :class:`DataGateError` (exit code 2 of
`tfxp run`) naming, per split and feature, what is wrong:

- the anomalies ExampleValidator found (missing column, wrong type, out-of-domain value);
- a split with fewer rows than the model's minimum (`ModelSpec.min_split_examples`);
- train/eval skew above the `skew_comparator` thresholds of the model's curated schema;
- drift of the new training data against the training statistics of the version labelled
  `stable` in the push destination (carried in its `assets.extra/training_data/`), above the
  schema's `drift_comparator` thresholds. `accept_drift` lets a run knowingly train on changed
  data (the drift and the train/eval skew it causes); the gate's `result` artifact records
  that, for the run summary and the report.

The first run of a model (nothing stable yet) checks no drift. The stable version is looked up
when the gate executes; an unchanged re-run takes the gate from TFX's cache like the rest.
"""
import dataclasses
import json
import logging
import os
import pathlib
from typing import Dict, List, Mapping, Optional

from tfx import types
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts

from data import validation

log = logging.getLogger("tfxp.data_gate")

RESULT_FILE = "data_gate.json"
DRIFT_ACCEPTED_KEY = "drift_accepted"
ANOMALIES, TOO_FEW_ROWS, SKEW, DRIFT = "anomalies", "too_few_rows", "skew", "drift"
_ADVICE = {
    ANOMALIES: "Fix the input files, or if the change is intended, update the model's schema "
               "(see the model's schema_path) and run again.",
    TOO_FEW_ROWS: "Check that every split's files hold data (not only a header).",
    SKEW: "The eval split does not look like the train split: check how the splits were made "
          "(a changed train split shows here too; `--accept-drift` accepts both), or raise the "
          "feature's skew_comparator threshold in the model's schema.",
    DRIFT: "The training data changed against what the stable model learned from. If the change "
           "is intended, run again with `tfxp run --accept-drift`, or raise the feature's "
           "drift_comparator threshold in the model's schema.",
}


class DataGateError(RuntimeError):
    """The data gate stopped the run. `problems` lists one line per split/feature; `kinds` says
    which checks failed (anomalies, too_few_rows, skew, drift)."""

    def __init__(self, problems: List[str], kinds: List[str]):
        self.problems, self.kinds = list(problems), list(dict.fromkeys(kinds))
        count = len(self.problems)
        super().__init__(
            "DataGateError: the data gate stopped the run before Transform: "
            f"{count} problem{'' if count == 1 else 's'} ({', '.join(self.kinds)}):\n  "
            + "\n  ".join(self.problems) + "\n" + "\n".join(_ADVICE[k] for k in self.kinds))


class DataGateResult(types.Artifact):
    """What the gate measured on data it let through (`data_gate.json`): rows per split, the
    stable version compared with, drift/skew distances, and whether drift was accepted."""

    TYPE_NAME = "tfxp.DataGateResult"  # <namespace>.<Name>: what Kubeflow V2 specs accept


def describe_anomalies(schema_diffs: Mapping[str, object]) -> List[str]:
    """One line per (split, feature) anomaly, e.g. "split 'train', feature 'age': ..."."""
    problems = []
    for split, anomalies in schema_diffs.items():
        for feature, info in sorted(anomalies.anomaly_info.items()):
            reasons = "; ".join(r.description or r.short_description for r in info.reason) \
                or info.description or info.short_description
            problems.append(f"split '{split}', feature '{feature}': {reasons}")
        if anomalies.HasField("dataset_anomaly_info"):
            reasons = "; ".join(r.description for r in anomalies.dataset_anomaly_info.reason)
            problems.append(f"split '{split}', whole dataset: {reasons}")
    return problems


@dataclasses.dataclass
class GateReport:
    """What the gate found on data it let through."""

    rows: Dict[str, int]
    stable_version_dir: Optional[str] = None
    drift: List[validation.Distance] = dataclasses.field(default_factory=list)
    skew: List[validation.Distance] = dataclasses.field(default_factory=list)
    drift_accepted: bool = False
    note: str = ""

    def to_json(self) -> str:
        """The form saved in the DataGateResult artifact (read back by from_json)."""
        as_dict = dataclasses.asdict(self)
        return json.dumps(as_dict, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "GateReport":
        """The report saved by to_json, with its distances as validation.Distance again."""
        raw = json.loads(text)
        raw["drift"] = [validation.Distance(**d) for d in raw.get("drift", [])]
        raw["skew"] = [validation.Distance(**d) for d in raw.get("skew", [])]
        return cls(**raw)

    @property
    def drifted(self) -> List[validation.Distance]:
        """The drift checks that exceeded their threshold."""
        return [d for d in self.drift if d.exceeded]


def check(schema_diffs: Mapping[str, object], statistics: Mapping[str, object], schema,
          min_split_examples: Mapping[str, int], train_split: str = "train",
          eval_split: str = "eval", stable_statistics=None, stable_version_dir: str = "",
          accept_drift: bool = False) -> GateReport:
    """Every check of the gate on loaded protos. Raises DataGateError listing each problem;
    returns the measurements for data it lets through."""
    problems, kinds = [], []
    anomalies = describe_anomalies(schema_diffs)
    if anomalies:
        problems += anomalies
        kinds += [ANOMALIES] * len(anomalies)
    rows = {split: validation.row_count(dataset) for split, dataset in statistics.items()}
    for split, minimum in min_split_examples.items():
        if split in rows and rows[split] < minimum:
            problems.append(f"split '{split}' has {rows[split]} rows; the model needs at least "
                            f"{minimum}")
            kinds.append(TOO_FEW_ROWS)
    report = GateReport(rows=rows, stable_version_dir=stable_version_dir or None)
    if TOO_FEW_ROWS in kinds or train_split not in statistics:
        raise DataGateError(problems, kinds)

    train = statistics[train_split]
    if eval_split in statistics:
        report.skew = [d for d in validation.distances(schema, train,
                                                       serving=statistics[eval_split])
                       if d.comparison == "skew"]
    if stable_statistics is not None:
        report.drift = [d for d in validation.distances(schema, train, previous=stable_statistics)
                        if d.comparison == "drift"]
    skewed = [d for d in report.skew if d.exceeded]
    if accept_drift and (report.drifted or skewed):
        report.drift_accepted = True
    else:
        where = f"the stable version ({stable_version_dir})"
        problems += [f"drift of split '{train_split}' against {where}, {d.describe()}"
                     for d in report.drifted]
        kinds += [DRIFT] * len(report.drifted)
        problems += [f"train/eval skew, {d.describe()}" for d in skewed]
        kinds += [SKEW] * len(skewed)
    if stable_statistics is None:
        report.note = "no stable training statistics: drift not checked"
    if problems:
        raise DataGateError(problems, kinds)
    return report


def stable_training_statistics(models_root: str, model_name: str):
    """(train statistics of the version labelled stable, its folder, a note) or (None, "", note)."""
    from serving.config import configs

    if not (models_root and model_name):
        return None, "", "no push destination given: drift not checked"
    stable_dir = configs.labelled_version_dir(pathlib.Path(models_root), model_name,
                                              configs.STABLE)
    if stable_dir is None:
        return None, "", "no version is labelled stable yet (first run): drift not checked"
    statistics, _ = validation.load_training_data(stable_dir)
    if statistics is None:
        return None, "", (f"the stable version {stable_dir} carries no training statistics "
                          f"(pushed before they were stamped): drift not checked")
    return statistics, str(stable_dir), ""


def read_result(uri: str) -> Optional[GateReport]:
    """The GateReport a gate's `result` artifact holds, or None."""
    path = os.path.join(uri, RESULT_FILE)
    return GateReport.from_json(pathlib.Path(path).read_text()) if os.path.exists(path) else None


def summary_lines(report: GateReport) -> List[str]:
    """The lines the run summary shows when the gate let changed data through."""
    if not report.drift_accepted:
        return []
    against = report.stable_version_dir or "no stable version"
    return ([f"  data drift ACCEPTED (--accept-drift; stable version: {against}):"]
            + [f"    drift, {d.describe()}" for d in report.drifted]
            + [f"    train/eval skew, {d.describe()}" for d in report.skew if d.exceeded])


def run_gate(anomalies: types.Artifact, statistics: types.Artifact, schema: types.Artifact,
             result: types.Artifact, min_split_examples: Mapping[str, int], models_root: str,
             model_name: str, accept_drift: bool, train_split: str, eval_split: str
             ) -> GateReport:
    """The component's work on artifacts (callable without a pipeline)."""
    import tensorflow_data_validation as tfdv

    stable, stable_dir, note = stable_training_statistics(models_root, model_name)
    report = check(validation.load_schema_diffs(anomalies.uri),
                   validation.load_split_statistics(statistics.uri),
                   tfdv.load_schema_text(os.path.join(schema.uri, "schema.pbtxt")),
                   min_split_examples, train_split, eval_split, stable, stable_dir, accept_drift)
    report.note = note or report.note
    if report.drift_accepted:
        log.warning("Drift accepted: %s", "; ".join(d.describe() for d in report.drifted))
    pathlib.Path(result.uri).mkdir(parents=True, exist_ok=True)
    pathlib.Path(result.uri, RESULT_FILE).write_text(report.to_json())
    result.set_int_custom_property(DRIFT_ACCEPTED_KEY, int(report.drift_accepted))
    return report


@component
def DataGate(  # noqa: N802  (TFX component names are classes)
        anomalies: InputArtifact[standard_artifacts.ExampleAnomalies],
        statistics: InputArtifact[standard_artifacts.ExampleStatistics],
        schema: InputArtifact[standard_artifacts.Schema],
        result: OutputArtifact[DataGateResult],
        min_split_examples: Parameter[str] = "{}",
        models_root: Parameter[str] = "",
        model_name: Parameter[str] = "",
        accept_drift: Parameter[bool] = False,
        train_split: Parameter[str] = "train",
        eval_split: Parameter[str] = "eval"):
    """Stops the pipeline on anomalies, near-empty splits, train/eval skew or drift against the
    stable version. `min_split_examples` is a JSON object split -> minimum rows."""
    run_gate(anomalies, statistics, schema, result, json.loads(min_split_examples), models_root,
             model_name, accept_drift, train_split, eval_split)
