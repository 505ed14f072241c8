"""Everything a report shows about one run, gathered from its sources (no HTML here).

One module per source: `data_facts` (TFDV statistics, anomalies, drift/skew, the data gate, serving
skew), `evaluation_facts` (TFMA metrics, thresholds, plots), `training_facts` (TensorBoard
curves) and `serving_facts` (models.config labels); run_info reads ML Metadata.
"""
import dataclasses
from typing import Dict, List, Optional, Tuple

from pipelines import run_info
from pipelines.report.data_facts import DataSection, ServingSkewSection, gather_data
from pipelines.report.evaluation_facts import ModelSection, gather_model
from pipelines.report.training_facts import training_curves


class NoRunsError(LookupError):
    """A model has no recorded pipeline run to report on."""


@dataclasses.dataclass
class RunReport:
    """Everything one model run's report page shows, gathered before rendering so pages can
    be rendered (and tested) without ML Metadata."""

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
    serving_skew: Optional[ServingSkewSection] = None  # the last `tfxp skew` of this model
    holdout: Optional[ModelSection] = None  # candidate and baseline on the golden holdout
    holdout_note: str = ""  # why the holdout was not judged, when it was not
    lost_on: str = ""  # "eval", "holdout", "eval and holdout" or "" (not lost)
    latency_gate: Dict[str, object] = dataclasses.field(default_factory=dict)  # infra blessing's

    @property
    def key_values(self) -> Tuple[Optional[float], Optional[float]]:
        """(candidate, baseline) of the key metric on the overall slice."""
        if not self.model_section:
            return None, None
        overall = self.model_section.metrics.get("Overall", {})
        return (overall.get("candidate", {}).get(self.key_metric),
                overall.get("baseline", {}).get(self.key_metric))


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
    infra = run.output("LocalInfraValidator", "blessing")
    holdout_blessing = run.output("HoldoutEvaluator", "blessing")
    joint = run.output("JointBlessing", "blessing")
    return RunReport(
        latency_gate={key: value for key, value in (infra.properties if infra else {}).items()
                      if key.startswith("latency_gate")},
        holdout=attempt("golden holdout evaluation", gather_model, run, "HoldoutEvaluator")
        if holdout_blessing else None,
        holdout_note=str(holdout_blessing.properties.get("holdout_skipped") or "")
        if holdout_blessing else "",
        lost_on=str(joint.properties.get("lost_on") or "") if joint else "",
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
