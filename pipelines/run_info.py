"""What happened in a pipeline run, read back from ML Metadata.

The run summary, the HTML reports and the tests all read runs through this module: executions per
component (executed, cached, failed, with timings), their output artifacts, the Evaluator's
metrics and validation result, the blessing and the pushed version.
"""
import dataclasses
import os
from typing import Dict, List, Optional

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

RUN_CONTEXT_TYPE = "pipeline_run"
NODE_CONTEXT_TYPE = "node"
BLESSING_TYPE = "ModelBlessing"
_STATES = {metadata_store_pb2.Execution.COMPLETE: "executed",
           metadata_store_pb2.Execution.CACHED: "cached",
           metadata_store_pb2.Execution.FAILED: "failed",
           metadata_store_pb2.Execution.RUNNING: "running",
           metadata_store_pb2.Execution.CANCELED: "canceled",
           metadata_store_pb2.Execution.NEW: "new"}


@dataclasses.dataclass
class ArtifactInfo:
    """An output artifact as read from ML Metadata (no TFX artifact classes needed)."""

    type_name: str
    uri: str
    properties: Dict[str, object]


@dataclasses.dataclass
class ComponentRun:
    """One component's execution in a run: its state and timing, and its output artifacts by key."""

    node_id: str
    state: str
    started: float
    finished: float
    outputs: Dict[str, List[ArtifactInfo]]

    @property
    def seconds(self) -> float:
        """Wall time from the start to the last update of the execution (never negative)."""
        return max(0.0, self.finished - self.started)


@dataclasses.dataclass
class RunInfo:
    """One pipeline run read from ML Metadata: its components in execution order."""

    pipeline_name: str
    run_id: str
    started: float
    components: List[ComponentRun]

    def component(self, node_id: str) -> Optional[ComponentRun]:
        """The execution of `node_id` in this run, or None when it did not run."""
        return next((c for c in self.components if c.node_id == node_id), None)

    def output(self, node_id: str, key: str) -> Optional[ArtifactInfo]:
        """The first artifact `node_id` produced under `key` in this run, or None."""
        component = self.component(node_id)
        artifacts = component.outputs.get(key) if component else None
        return artifacts[0] if artifacts else None

    @property
    def blessed(self) -> Optional[bool]:
        """The verdict on this run's candidate (None when no evaluation was recorded): the last
        ModelBlessing the run made (JointBlessing's, eval split and golden holdout together,
        else the Evaluator's). The one place the project decides whether a run was blessed."""
        blessing = self.final_blessing
        return bool(blessing.properties.get("blessed")) if blessing else None

    @property
    def final_blessing(self) -> Optional[ArtifactInfo]:
        """The last ModelBlessing the run made (the one the Pusher reads), or None."""
        blessings = [artifact for component in self.components
                     for artifact in component.outputs.get("blessing", [])
                     if artifact.type_name == BLESSING_TYPE]
        return blessings[-1] if blessings else None

    def output_by_key(self, key: str, type_name: Optional[str] = None) -> Optional[ArtifactInfo]:
        """The first output under `key` (optionally of one artifact type), whichever node made it."""
        for component in self.components:
            for artifact in component.outputs.get(key, []):
                if type_name is None or artifact.type_name == type_name:
                    return artifact
        return None


def open_store(metadata_path: str) -> metadata_store.MetadataStore:
    """A read-only ML Metadata store: reading a run must never change it (or create an empty
    database where none was)."""
    if not os.path.exists(metadata_path):
        raise FileNotFoundError(f"no ML Metadata database at {metadata_path}; run the pipeline first")
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = metadata_path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return metadata_store.MetadataStore(config)


def _value(value: metadata_store_pb2.Value):
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def _artifact_info(artifact, type_names) -> ArtifactInfo:
    properties = {k: _value(v) for k, v in artifact.custom_properties.items()}
    properties.update({k: _value(v) for k, v in artifact.properties.items()})
    return ArtifactInfo(type_names.get(artifact.type_id, str(artifact.type_id)), artifact.uri,
                        properties)


def run_ids(store, pipeline_name: str) -> List[str]:
    """Run ids of a pipeline, oldest first."""
    runs = [c for c in store.get_contexts_by_type(RUN_CONTEXT_TYPE)
            if _belongs_to(store, c, pipeline_name)]
    return [c.name for c in sorted(runs, key=lambda c: c.create_time_since_epoch)]


def _belongs_to(store, run_context, pipeline_name: str) -> bool:
    parents = store.get_parent_contexts_by_context(run_context.id)
    return not parents or any(p.name == pipeline_name for p in parents) \
        or run_context.name.startswith(pipeline_name)


def load_run(metadata_path: str, pipeline_name: str, run_id: Optional[str] = None) -> RunInfo:
    """The given run (default: the latest) with its executions in execution order."""
    store = open_store(metadata_path)
    ids = run_ids(store, pipeline_name)
    if not ids:
        raise LookupError(f"pipeline {pipeline_name!r} has no runs in {metadata_path}")
    run_id = ids[-1] if run_id in (None, "latest") else run_id
    return _load_run(store, pipeline_name, run_id, ids)


def load_runs(metadata_path: str, pipeline_name: str) -> List[RunInfo]:
    """Every run of a pipeline, oldest first (empty when there is no database or no run)."""
    if not os.path.exists(metadata_path):
        return []
    store = open_store(metadata_path)
    ids = run_ids(store, pipeline_name)
    return [_load_run(store, pipeline_name, run_id, ids) for run_id in ids]


def _load_run(store, pipeline_name: str, run_id: str, ids: List[str]) -> RunInfo:
    context = store.get_context_by_type_and_name(RUN_CONTEXT_TYPE, run_id)
    if context is None:
        raise LookupError(f"no run {run_id!r} of {pipeline_name!r}; runs: {', '.join(ids)}")
    executions = sorted(store.get_executions_by_context(context.id),
                        key=lambda e: (e.create_time_since_epoch, e.id))
    type_names = {t.id: t.name for t in store.get_artifact_types()}
    components = []
    for execution in executions:
        node_contexts = [c for c in store.get_contexts_by_execution(execution.id)
                         if store.get_context_types_by_id([c.type_id])[0].name == NODE_CONTEXT_TYPE]
        node_id = node_contexts[0].name.split(".", 1)[-1] if node_contexts else str(execution.id)
        events = [e for e in store.get_events_by_execution_ids([execution.id])
                  if e.type in (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)]
        artifacts = {a.id: a for a in store.get_artifacts_by_id([e.artifact_id for e in events])}
        outputs: Dict[str, List[ArtifactInfo]] = {}
        for event in events:
            key = event.path.steps[0].key if event.path.steps else "output"
            outputs.setdefault(key, []).append(_artifact_info(artifacts[event.artifact_id], type_names))
        components.append(ComponentRun(
            node_id=node_id,
            state=_STATES.get(execution.last_known_state, "unknown"),
            started=execution.create_time_since_epoch / 1000.0,
            finished=execution.last_update_time_since_epoch / 1000.0,
            outputs=outputs))
    return RunInfo(pipeline_name, run_id, context.create_time_since_epoch / 1000.0, components)


def evaluation_metrics(evaluation_uri: str) -> Dict[str, Dict[str, Dict[str, float]]]:
    """{slice: {model ('candidate'|'baseline'|'diff'): {metric: value}}} from TFMA's output."""
    import tensorflow_model_analysis as tfma

    result: Dict[str, Dict[str, Dict[str, float]]] = {}
    for metrics_for_slice in tfma.load_metrics(evaluation_uri):
        slice_name = slice_label(metrics_for_slice.slice_key)
        per_model = result.setdefault(slice_name, {})
        for entry in metrics_for_slice.metric_keys_and_values:
            key, value = entry.key, entry.value
            if value.HasField("double_value"):
                number = value.double_value.value
            elif value.HasField("bounded_value"):
                number = value.bounded_value.value.value
            else:
                continue
            model = "diff" if key.is_diff else (key.model_name or "candidate")
            per_model.setdefault(model, {})[metric_label(key)] = number
    return result


def metric_label(key) -> str:
    """A metric's name, with its class or top-k when TFMA binarized it (e.g. 'recall@class_id=2')."""
    if not key.HasField("sub_key"):
        return key.name
    sub_key = key.sub_key
    for field in ("class_id", "k", "top_k"):
        if sub_key.HasField(field):
            return f"{key.name}@{field}={getattr(sub_key, field).value}"
    return key.name


def slice_label(slice_key) -> str:
    """`feature=value, ...` of a TFMA slice key; `Overall` for the unsliced one."""
    parts = []
    for column in slice_key.single_slice_keys:
        kind = column.WhichOneof("kind")
        value = getattr(column, kind) if kind else ""
        parts.append(f"{column.column}={value.decode() if isinstance(value, bytes) else value}")
    return ", ".join(parts) or "Overall"


@dataclasses.dataclass
class ThresholdFailure:
    """A TFMA threshold the candidate missed, on one slice."""

    slice: str
    metric: str
    value: Optional[float]
    message: str


def validation_failures(evaluation_uri: str) -> Optional[List[ThresholdFailure]]:
    """The failed thresholds (empty when validation passed, None when there is no result)."""
    import tensorflow_model_analysis as tfma

    try:
        result = tfma.load_validation_result(evaluation_uri)
    except Exception:  # a missing or unreadable file: there is simply no validation result
        return None
    failures = []
    for per_slice in result.metric_validations_per_slice:
        name = slice_label(per_slice.slice_key)
        for failure in per_slice.failures:
            value = failure.metric_value
            number = value.double_value.value if value.HasField("double_value") else None
            failures.append(ThresholdFailure(name, failure.metric_key.name, number,
                                             describe_threshold_failure(failure)))
    return failures


def describe_threshold_failure(failure) -> str:
    """A sentence for a person: which bound of which threshold the metric missed."""
    key, threshold = failure.metric_key, failure.metric_threshold
    value = failure.metric_value.double_value.value \
        if failure.metric_value.HasField("double_value") else None
    what = ("the change from the baseline in " if key.is_diff else "") + key.name
    shown = f"{value:.4f}" if value is not None else "unknown"
    if threshold.HasField("value_threshold"):
        bounds = threshold.value_threshold
        if bounds.HasField("lower_bound") and value is not None and value < bounds.lower_bound.value:
            return f"{what} = {shown} is below the required minimum {bounds.lower_bound.value:g}"
        if bounds.HasField("upper_bound") and value is not None and value > bounds.upper_bound.value:
            return f"{what} = {shown} is above the allowed maximum {bounds.upper_bound.value:g}"
    if threshold.HasField("change_threshold"):
        change = threshold.change_threshold
        limit = change.absolute.value if change.HasField("absolute") else change.relative.value
        kind = "absolute" if change.HasField("absolute") else "relative"
        return (f"{what} = {shown} fails the {kind} change threshold {limit:g} "
                f"against the last blessed model")
    return failure.message or f"{what} = {shown} failed its threshold"


def evaluation_plots(evaluation_uri: str) -> Dict[str, Dict[str, Dict[str, object]]]:
    """{slice: {model: {plot: proto}}} from TFMA's plots output. A plot is named by the PlotsData
    field that holds it (e.g. 'confusion_matrix_at_thresholds'), with the sub key appended
    (' class_id=3') when the metric was computed per class."""
    import tensorflow_model_analysis as tfma

    result: Dict[str, Dict[str, Dict[str, object]]] = {}
    for plots_for_slice in tfma.load_plots(evaluation_uri):
        per_model = result.setdefault(slice_label(plots_for_slice.slice_key), {})
        for entry in plots_for_slice.plot_keys_and_values:
            model = entry.key.model_name or "candidate"
            sub_key = entry.key.sub_key
            suffix = "".join(f" {kind}={getattr(sub_key, kind).value}"
                             for kind in ("class_id", "k", "top_k") if sub_key.HasField(kind))
            for field, value in entry.value.ListFields():
                per_model.setdefault(model, {})[field.name + suffix] = value
    return result
