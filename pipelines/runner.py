"""Runs one model's pipeline locally (LocalDagRunner or BeamDagRunner) and summarises the run."""
import dataclasses
import hashlib
import os
import pathlib
import time
from typing import List, Mapping, Optional, Sequence

from data import common
from models.spec import ModelSpec
from pipelines import run_info

EXIT_PUSHED, EXIT_FAILED, EXIT_DATA_GATE, EXIT_NOT_BLESSED = 0, 1, 2, 3
RUNNERS = ("local", "beam")
TFX_ROOT = pathlib.Path(os.environ.get("TFXP_HOME", common.PROJECT_ROOT / "tfx_root"))
SERVING_ROOT = pathlib.Path(os.environ.get("TFXP_SERVING_ROOT",
                                           common.PROJECT_ROOT / "serving" / "models"))


@dataclasses.dataclass
class RunPaths:
    """Where one pipeline keeps its artifacts, metadata, logs and pushed models."""

    pipeline_name: str
    home: pathlib.Path
    serving_model_dir: pathlib.Path

    @property
    def pipeline_root(self) -> pathlib.Path:
        return self.home / "pipeline"

    @property
    def metadata_path(self) -> pathlib.Path:
        return self.home / "metadata.sqlite"

    def new_log_path(self) -> pathlib.Path:
        return self.home / "logs" / time.strftime("run-%Y%m%d-%H%M%S.log")


def pipeline_name(model: str, sample: bool) -> str:
    return f"{model}-sample" if sample else model


def default_paths(spec: ModelSpec, sample: bool = False, home: Optional[str] = None,
                  serving_dir: Optional[str] = None) -> RunPaths:
    """Full-data runs push into serving/models/<model>; sample runs stay under their home."""
    name = pipeline_name(spec.name, sample)
    home_path = pathlib.Path(home) if home else TFX_ROOT / name
    if serving_dir:
        serving = pathlib.Path(serving_dir)
    elif sample:
        serving = home_path / "serving_models" / spec.name
    else:
        serving = SERVING_ROOT / spec.name
    return RunPaths(name, home_path.resolve(), serving.resolve())


def resolve_data(spec: ModelSpec, data_dir: Optional[str], sample: bool):
    """(data root, split folder names or None for a hash split). Prepares full data if needed."""
    if data_dir:
        root = pathlib.Path(data_dir).resolve()
        if not root.is_dir():
            raise FileNotFoundError(f"--data {data_dir}: no such directory")
        present = [s for s in spec.splits if (root / s).is_dir()]
        if present and present[:2] != list(spec.splits[:2]):
            raise ValueError(f"--data {data_dir}: found split folder(s) {present} but need "
                             f"{list(spec.splits[:2])}, or put all files directly in the folder")
        return root, (present or None)
    if sample:
        return spec.sample_dir, list(spec.splits)
    prepared = common.PREPARED_ROOT / spec.name
    spec.prepare_data(prepared)
    return prepared, list(spec.splits)


def stage_schema(schema_path: pathlib.Path, paths: RunPaths) -> str:
    """A content-addressed copy of the curated schema. ImportSchemaGen's cache key is the file
    path, so an edited schema at the same path would be ignored; a new path per content is not."""
    content = pathlib.Path(schema_path).read_bytes()
    staged = paths.home / "schemas" / hashlib.sha256(content).hexdigest()[:16] / "schema.pbtxt"
    if not staged.exists():
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.write_bytes(content)
    return str(staged)


def build(spec: ModelSpec, paths: RunPaths, data_root, splits: Optional[Sequence[str]],
          sample: bool = False, beam_args: Sequence[str] = (), enable_cache: bool = True,
          tune: bool = False, hyperparameters: Optional[Mapping] = None,
          infra_validation: bool = True, baseline: str = "previous_blessed",
          accept_drift: bool = False):
    from tfx.orchestration import metadata

    from pipelines.pipeline import create_pipeline

    return create_pipeline(
        pipeline_name=paths.pipeline_name,
        pipeline_root=str(paths.pipeline_root),
        data_root=str(data_root),
        schema_path=stage_schema(spec.schema_path, paths) if spec.schema_path else None,
        serving_model_dir=str(paths.serving_model_dir),
        splits=splits,
        infra_validation=infra_validation,
        baseline=baseline,
        metadata_connection_config=metadata.sqlite_metadata_connection_config(
            str(paths.metadata_path)),
        beam_pipeline_args=list(beam_args),
        enable_cache=enable_cache,
        accept_drift=accept_drift,
        **model_arguments(spec, sample=sample, tune=tune, hyperparameters=hyperparameters),
    )


def _orchestrator(kind: str):
    from tfx import v1 as tfx

    if kind == "local":
        return tfx.orchestration.LocalDagRunner()
    if kind == "beam":
        from tfx.orchestration.beam.beam_dag_runner import BeamDagRunner

        return BeamDagRunner()
    raise ValueError(f"runner must be one of {RUNNERS}, got {kind!r}")


def data_gate_message(error: BaseException) -> Optional[str]:
    """The DataGateError message if `error` (or what caused it) came from the data gate."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        text = str(error)
        if "DataGateError" in text:
            return text[text.index("DataGateError"):].split("\n\n")[0].strip()
        error = error.__cause__ or error.__context__
    return None


@dataclasses.dataclass
class RunOutcome:
    exit_code: int
    summary: str
    log_path: pathlib.Path
    run: Optional[run_info.RunInfo] = None
    pushed_version: Optional[int] = None
    pushed_path: Optional[str] = None
    new_version: bool = False


def run(spec: ModelSpec, paths: RunPaths, pipeline, log_path: pathlib.Path,
        runner: str = "local") -> RunOutcome:
    """Runs a built pipeline and returns its summary and exit code (call inside captured_logs)."""
    started = time.monotonic()
    failure: Optional[BaseException] = None
    try:
        _orchestrator(runner).run(pipeline)
    except Exception as error:  # reported in the summary with the log path; exit code says which
        failure = error
    elapsed = time.monotonic() - started
    info = None
    try:
        info = run_info.load_run(str(paths.metadata_path), paths.pipeline_name)
    except (LookupError, FileNotFoundError):
        pass
    return summarise(spec, info, failure, elapsed, log_path)


def _data_gate_lines(info: run_info.RunInfo) -> List[str]:
    """What the data gate let through knowingly (drift accepted with --accept-drift)."""
    from components import data_gate

    result = info.output("DataGate", "result")
    report = data_gate.read_result(result.uri) if result else None
    return data_gate.summary_lines(report) if report else []


def summarise(spec: ModelSpec, info: Optional[run_info.RunInfo], failure: Optional[BaseException],
              elapsed: float, log_path: pathlib.Path) -> RunOutcome:
    lines: List[str] = ["", f"Summary of '{info.pipeline_name if info else spec.name}' "
                        f"run {info.run_id if info else '?'} ({elapsed:.0f}s)"]
    if info:
        executed = [c for c in info.components if c.state == "executed"]
        cached = [c for c in info.components if c.state == "cached"]
        lines.append(f"  components: {len(executed)} executed, {len(cached)} cached, "
                     f"{len(info.components) - len(executed) - len(cached)} other")
        for component in info.components:
            lines.append(f"    {component.node_id:<34} {component.state:<8} {component.seconds:6.1f}s")
    if failure is not None:
        gate = data_gate_message(failure)
        if gate:
            lines += ["", gate, f"Nothing was trained or pushed. Log: {log_path}"]
            return RunOutcome(EXIT_DATA_GATE, "\n".join(lines), log_path, info)
        lines += ["", f"The run failed: {type(failure).__name__}: {str(failure)[:2000]}",
                  f"See the log for details: {log_path}"]
        return RunOutcome(EXIT_FAILED, "\n".join(lines), log_path, info)
    if info is None:
        lines.append(f"No run was recorded in ML Metadata. Log: {log_path}")
        return RunOutcome(EXIT_FAILED, "\n".join(lines), log_path)

    lines += _data_gate_lines(info)
    evaluation = info.output("Evaluator", "evaluation")
    if evaluation:
        metrics = run_info.evaluation_metrics(evaluation.uri).get("Overall", {})
        candidate, baseline = metrics.get("candidate", {}), metrics.get("baseline", {})
        lines.append("  metrics (Overall)       candidate    baseline")
        for name in sorted(candidate):
            if name in ("example_count", "weighted_example_count"):
                continue
            base = f"{baseline[name]:.4f}" if name in baseline else "-"
            lines.append(f"    {name:<22} {candidate[name]:9.4f}   {base:>9}")
        if not baseline:
            lines.append("    (no blessed baseline yet: judged on value thresholds only)")
    blessing = info.output("Evaluator", "blessing")
    blessed = bool(blessing and blessing.properties.get("blessed"))
    lines.append(f"  blessed: {'yes' if blessed else 'NO'}")
    if evaluation and not blessed:
        for failed in run_info.validation_failures(evaluation.uri) or []:
            lines.append(f"    failed threshold [{failed.slice}]: {failed.message}")
    infra = info.output("LocalInfraValidator", "blessing")
    if infra is not None and not infra.properties.get("blessed"):
        lines.append("  infra validation: FAILED (the model could not be served); see the log")
    pushed = info.output("VersionedPusher", "pushed_model")
    if pushed and pushed.properties.get("pushed"):
        version = int(pushed.properties["pushed_version"])
        cached = info.component("VersionedPusher").state == "cached"
        reused = cached or bool(pushed.properties.get("reused_existing_version"))
        destination = pushed.properties["pushed_destination"]
        note = (" (cached: this model was already pushed; no new version)" if cached else
                " (identical model already pushed; no new version)" if reused else "")
        lines.append(f"  pushed: version {version} at {destination}{note}")
        return RunOutcome(EXIT_PUSHED, "\n".join(lines), log_path, info, version, destination,
                          new_version=not reused)
    lines.append("  pushed: nothing (the model was not blessed)")
    return RunOutcome(EXIT_NOT_BLESSED, "\n".join(lines), log_path, info)


def model_arguments(spec: ModelSpec, sample: bool = False, tune: bool = False,
                    hyperparameters: Optional[Mapping] = None) -> dict:
    """The create_pipeline arguments that come from the model spec alone (no paths, no runner).

    Runners that place data, schema and outputs elsewhere (Kubeflow) combine these with their own
    paths, so a model is described to every runner the same way `build` describes it."""
    if tune and not spec.tuner_fn:
        raise ValueError(f"model {spec.name!r} defines no tuner search space (tuner_fn)")
    thresholds = spec.sample_thresholds if sample else spec.thresholds
    return dict(
        example_format=spec.example_format,
        preprocessing_fn=spec.preprocessing_fn,
        run_fn=spec.run_fn,
        train_steps=spec.sample_train_steps if sample else spec.train_steps,
        eval_steps=spec.sample_eval_steps if sample else spec.eval_steps,
        eval_config=spec.eval_config(thresholds),
        hyperparameters=hyperparameters,
        tuner_fn=spec.tuner_fn if tune else None,
        code_fingerprint=spec.source_fingerprint(),
        model_name=spec.name,
        min_split_examples=dict(spec.min_split_examples),
    )
