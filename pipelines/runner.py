"""Runs one model's pipeline locally (LocalDagRunner or BeamDagRunner) and summarises the run.

A run gets its own TFX run id and is read back from that run's pipeline-run context (never "the
latest run"); one run holds a pipeline root at a time; SIGINT/SIGTERM end it with 130/143.
"""
import contextlib
import dataclasses
import datetime
import hashlib
import os
import pathlib
import signal
import sqlite3
import sys
import threading
import time
from typing import Dict, Iterator, List, Mapping, Optional, Sequence

from data import settings
from models.spec import ModelSpec
from pipelines import run_info, text_table
from pipelines.arguments import model_arguments

EXIT_PUSHED, EXIT_FAILED, EXIT_DATA_GATE, EXIT_NOT_BLESSED = 0, 1, 2, 3
EXIT_BUSY = 4
RUNNERS = ("local", "beam", "flink")
RUN_LOCK = "run.lock"


@dataclasses.dataclass
class RunPaths:
    """Where one pipeline keeps its artifacts, metadata, logs and pushed models."""

    pipeline_name: str
    home: pathlib.Path
    serving_model_dir: pathlib.Path

    @property
    def pipeline_root(self) -> pathlib.Path:
        """TFX's pipeline root: the artifacts of every run."""
        return self.home / "pipeline"

    @property
    def metadata_path(self) -> pathlib.Path:
        """The SQLite ML Metadata database that records every run."""
        return self.home / "metadata.sqlite"

    def new_log_path(self) -> pathlib.Path:
        """A log file named by the start time, so each run keeps its own log."""
        return self.home / "logs" / time.strftime("run-%Y%m%d-%H%M%S.log")


def pipeline_name(model: str, sample: bool) -> str:
    """Sample runs are a separate pipeline, so their cache and history never mix with full runs."""
    return f"{model}-sample" if sample else model


def default_paths(spec: ModelSpec, sample: bool = False, home: Optional[str] = None,
                  serving_dir: Optional[str] = None) -> RunPaths:
    """Full-data runs push into serving/models/<model>; sample runs stay under their home."""
    name = pipeline_name(spec.name, sample)
    home_path = pathlib.Path(home) if home else settings.TFX_HOME / name
    if serving_dir:
        serving = pathlib.Path(serving_dir)
    elif sample:
        serving = home_path / "serving_models" / spec.name
    else:
        serving = settings.SERVING_ROOT / spec.name
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
    prepared = settings.PREPARED_ROOT / spec.name
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
          infra_validation: bool = True, baseline: str = "stable",
          accept_drift: bool = False, rollout: str = "canary", holdout_file: str = "",
          skip_latency_gate: bool = False):
    """The model's pipeline for a local run: create_pipeline with the model's arguments and the
    local paths, metadata and Beam arguments of `paths`."""
    from tfx.orchestration import metadata

    from components.holdout import user_files
    from pipelines.pipeline import create_pipeline

    if holdout_file:
        user_files(holdout_file)  # a wrong --holdout stops the run before it starts
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
        rollout=rollout,
        holdout_file=str(pathlib.Path(holdout_file).resolve()) if holdout_file else "",
        skip_latency_gate=skip_latency_gate,
        **model_arguments(spec, sample=sample, tune=tune, hyperparameters=hyperparameters),
    )


def new_run_id() -> str:
    """TFX's run id for the pipeline_run context: the local time, plus the pid so that two runs
    started in the same second (on different pipeline roots) never share one."""
    return f"{datetime.datetime.now().isoformat(timespec='microseconds')}-{os.getpid()}"


def _orchestrator(kind: str, run_id: str):
    """TFX's local or Beam runner, made to use `run_id` instead of choosing its own, so that the
    run can be read back from ML Metadata by that id."""
    from tfx import v1 as tfx
    from tfx.orchestration.portable import runtime_parameter_utils
    from tfx.dsl.compiler import constants

    if kind in ("local", "flink"):  # flink: local orchestration, Beam jobs on the cluster
        base = tfx.orchestration.LocalDagRunner
    elif kind == "beam":
        from tfx.orchestration.beam.beam_dag_runner import BeamDagRunner as base
    else:
        raise ValueError(f"runner must be one of {RUNNERS}, got {kind!r}")

    class RunnerWithOwnRunId(base):
        def run_with_ir(self, pipeline, run_options=None, **kwargs):
            runtime_parameter_utils.substitute_runtime_parameter(
                pipeline, {constants.PIPELINE_RUN_ID_PARAMETER_NAME: run_id})
            return super().run_with_ir(pipeline, run_options=run_options, **kwargs)

    return RunnerWithOwnRunId()


class MetadataUnusable(RuntimeError):
    """The ML Metadata database is missing or corrupt while the pipeline root holds artifacts."""


def check_metadata(paths: RunPaths) -> None:
    """Refuses to start a run TFX would turn into a traceback or silently get wrong: a corrupt
    database, or a deleted one beside the artifacts it described (new execution ids would reuse
    their folders)."""
    database = paths.metadata_path
    fresh_start = (f"To start this pipeline afresh (its cache and run history are lost; pushed "
                   f"models stay), delete {paths.pipeline_root} and {database}.")
    if not database.exists():
        if paths.pipeline_root.is_dir() and any(paths.pipeline_root.iterdir()):
            raise MetadataUnusable(f"the ML Metadata database {database} is missing but "
                                   f"{paths.pipeline_root} holds artifacts of earlier runs. "
                                   + fresh_start)
        return
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as error:
        verdict = str(error)
    if verdict != "ok":
        raise MetadataUnusable(f"the ML Metadata database {database} is unreadable ({verdict}). "
                               + fresh_start)


class RunInterrupted(BaseException):
    """SIGINT or SIGTERM arrived during a run (a BaseException, so no library swallows it)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal number, the shell's convention (130 SIGINT, 143 SIGTERM)."""
        return 128 + self.signum


class SignalState:
    """The signal that stopped a run, if one did (None until then)."""

    signum: Optional[int] = None


# While a stop is pending the interruption is raised again this often: TFX, Beam and
# tf.Transform run user code under handlers that can catch or wrap an exception raised at an
# arbitrary point, and one raise is not always enough to unwind a component.
RERAISE_SECONDS = 0.5


@contextlib.contextmanager
def stop_on_signals() -> Iterator[SignalState]:
    """Turn the first SIGINT/SIGTERM into RunInterrupted in the main thread, raised again every
    RERAISE_SECONDS until it leaves the block; a second signal of the same kind takes its
    default action. The yielded state says which signal stopped the run, also when a library
    wrapped the exception into another one."""
    state = SignalState()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    watched = (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)
    saved = {signum: signal.getsignal(signum) for signum in watched}

    def handler(signum, frame):
        if state.signum is None:
            state.signum = signum
            signal.signal(signum, saved[signum] if signum != signal.SIGINT
                          else signal.default_int_handler)
            signal.setitimer(signal.ITIMER_REAL, RERAISE_SECONDS, RERAISE_SECONDS)
        raise RunInterrupted(state.signum)

    def reraise(signum, frame):
        if state.signum is not None:
            raise RunInterrupted(state.signum)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGALRM, reraise)
    try:
        yield state
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for signum, previous in saved.items():
            signal.signal(signum, previous)


@contextlib.contextmanager
def exclusive_pipeline_root(paths: RunPaths, wait: bool = True, stream=sys.stdout
                            ) -> Iterator[None]:
    """One run of a pipeline root at a time (see serving.config.file_lock for why a dead holder's lock
    is never mistaken for a live one). Raises PipelineBusy when `wait` is False."""
    from serving.config import file_lock

    def waiting(holder):
        stream.write(f"Waiting for the run that holds {paths.home}: {holder.describe()}. "
                     "This run starts when it ends (Ctrl-C to give up; --no-wait to exit "
                     "instead).\n")
        stream.flush()

    def taking_over(holder):
        stream.write(f"Taking over {paths.home} from a run that ended without releasing it "
                     f"({holder.describe()}); its finished steps come from the cache.\n")
        stream.flush()

    try:
        with file_lock.exclusive(paths.home / RUN_LOCK, f"tfxp run {paths.pipeline_name}",
                                 wait=wait, on_wait=waiting, on_takeover=taking_over):
            yield
    except file_lock.LockBusy:
        holder = file_lock.read_holder(paths.home / RUN_LOCK)
        raise PipelineBusy(f"{paths.home} is in use by another run"
                           + (f" ({holder.describe()})" if holder else "")
                           + "; not waiting (--no-wait). Run again when it has finished.") from None


class PipelineBusy(RuntimeError):
    """Another run holds the pipeline root and the caller chose not to wait."""


def _find_in_chain(error: Optional[BaseException], kind):
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, kind):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


@dataclasses.dataclass
class RunFacts:
    """What one run did, read from its own pipeline-run context and its outcome in this process."""

    pipeline_name: str
    run_id: str
    seconds: float
    log_path: pathlib.Path
    info: Optional[run_info.RunInfo] = None
    failure: Optional[BaseException] = None
    interrupted: Optional[RunInterrupted] = None
    candidate: Dict[str, float] = dataclasses.field(default_factory=dict)
    baseline: Dict[str, float] = dataclasses.field(default_factory=dict)
    evaluated: bool = False
    blessed: Optional[bool] = None
    threshold_failures: List[str] = dataclasses.field(default_factory=list)
    infra_failed: bool = False
    pushed_version: Optional[int] = None
    pushed_destination: Optional[str] = None
    reused: bool = False
    cached_push: bool = False
    holdout_candidate: Dict[str, float] = dataclasses.field(default_factory=dict)
    holdout_baseline: Dict[str, float] = dataclasses.field(default_factory=dict)
    holdout_skipped: str = ""
    lost_on: str = ""
    latency_gate: Dict[str, object] = dataclasses.field(default_factory=dict)
    engine: Optional[str] = None

    @property
    def data_gate(self) -> Optional[BaseException]:
        """The DataGateError that stopped the run, however TFX or Beam wrapped it, or None."""
        from components.data_gate import DataGateError

        return _find_in_chain(self.failure, DataGateError)

    @property
    def push_destination_error(self):
        """The PushDestinationError that failed the push, however it was wrapped, or None."""
        from components.pusher import PushDestinationError

        return _find_in_chain(self.failure, PushDestinationError)


@dataclasses.dataclass
class RunOutcome:
    """What `run` hands back: the exit code and the printed summary, with the facts both were
    decided from (the workflow's result table and roll-out read them)."""

    exit_code: int
    summary: str
    facts: RunFacts

    @property
    def new_version(self) -> bool:
        """This run pushed a version; False when the push was cached or reused a served one."""
        return self.facts.pushed_version is not None and not self.facts.reused


def run(spec: ModelSpec, paths: RunPaths, pipeline, log_path: pathlib.Path,
        runner: str = "local", run_id: Optional[str] = None,
        engine: Optional[str] = None) -> RunOutcome:
    """Runs a built pipeline as run `run_id` and returns that run's summary and exit code (call
    inside captured_logs). SIGINT/SIGTERM end the run early with exit 130/143. `engine` names
    the cluster the Beam jobs went to, for the failure line."""
    run_id = run_id or new_run_id()
    started = time.monotonic()
    failure: Optional[BaseException] = None
    interrupted: Optional[RunInterrupted] = None
    try:
        with stop_on_signals() as stop:
            _orchestrator(runner, run_id).run(pipeline)
    except RunInterrupted as stopped:
        interrupted = stopped
    except Exception as error:  # reported in the summary with the log path; exit code says which
        failure = error
        if stop.signum is not None:  # the interruption, wrapped by Beam or TFX
            interrupted, failure = RunInterrupted(stop.signum), None
    facts = read_run(spec, paths, run_id, failure, interrupted, time.monotonic() - started,
                     log_path)
    facts.engine = engine
    return RunOutcome(decide_exit_code(facts), format_summary(facts), facts)


def read_run(spec: ModelSpec, paths: RunPaths, run_id: str,
             failure: Optional[BaseException] = None,
             interrupted: Optional[RunInterrupted] = None, seconds: float = 0.0,
             log_path: Optional[pathlib.Path] = None) -> RunFacts:
    """The facts of run `run_id`, read from that run's pipeline-run context in ML Metadata."""
    facts = RunFacts(paths.pipeline_name, run_id, seconds, log_path or paths.home, None, failure,
                     interrupted)
    try:
        info = facts.info = run_info.load_run(str(paths.metadata_path), paths.pipeline_name,
                                              run_id)
    except (LookupError, FileNotFoundError):
        return facts
    evaluation = info.output("Evaluator", "evaluation")
    if evaluation:
        facts.evaluated = True
        metrics = run_info.evaluation_metrics(evaluation.uri).get("Overall", {})
        facts.candidate = metrics.get("candidate", {})
        facts.baseline = metrics.get("baseline", {})
    facts.blessed = info.blessed
    if evaluation and facts.blessed is False:
        facts.threshold_failures = [f"[{failed.slice}]: {failed.message}" for failed in
                                    run_info.validation_failures(evaluation.uri) or []]
    _read_holdout(info, facts)
    infra = info.output("LocalInfraValidator", "blessing")
    facts.infra_failed = infra is not None and not infra.properties.get("blessed")
    facts.latency_gate = {key[len("latency_gate_"):] if key != "latency_gate" else "verdict": value
                          for key, value in (infra.properties if infra else {}).items()
                          if key.startswith("latency_gate")}
    pushed = info.output("VersionedPusher", "pushed_model")
    if pushed and pushed.properties.get("pushed"):
        facts.pushed_version = int(pushed.properties["pushed_version"])
        facts.pushed_destination = pushed.properties["pushed_destination"]
        facts.cached_push = info.component("VersionedPusher").state == "cached"
        facts.reused = facts.cached_push or bool(pushed.properties.get("reused_existing_version"))
    return facts


def _read_holdout(info: run_info.RunInfo, facts: RunFacts) -> None:
    """The golden holdout's metrics, failures and the set the candidate lost on."""
    from components import holdout

    blessing = info.output("HoldoutEvaluator", "blessing")
    if blessing is None:
        return
    facts.holdout_skipped = str(blessing.properties.get(holdout.SKIPPED_KEY) or "")
    joint = info.output("JointBlessing", "blessing")
    facts.lost_on = str(joint.properties.get(holdout.LOST_ON_KEY) or "") if joint else ""
    evaluation = info.output("HoldoutEvaluator", "evaluation")
    if facts.holdout_skipped or evaluation is None:
        return
    metrics = run_info.evaluation_metrics(evaluation.uri).get("Overall", {})
    facts.holdout_candidate = metrics.get("candidate", {})
    facts.holdout_baseline = metrics.get("baseline", {})
    if "holdout" in facts.lost_on:
        facts.threshold_failures += [
            f"[holdout, {failed.slice}]: {failed.message}"
            for failed in run_info.validation_failures(evaluation.uri) or []]


def _evaluation_lines(facts: RunFacts) -> List[str]:
    """The metrics table (eval split, and the golden holdout beside it when it was judged)."""
    names = [n for n in sorted(facts.candidate)
             if n not in ("example_count", "weighted_example_count")]
    def shown(values: Dict[str, float], name: str) -> str:
        return f"{values[name]:.4f}" if name in values else "-"

    holdout = bool(facts.holdout_candidate)
    header = ("metric", "candidate", "baseline") + (
        ("holdout candidate", "holdout baseline") if holdout else ())
    rows = [(name, shown(facts.candidate, name), shown(facts.baseline, name)) + (
        (shown(facts.holdout_candidate, name), shown(facts.holdout_baseline, name))
        if holdout else ()) for name in names]
    lines = ["  metrics (Overall)"] + _table([header] + rows)
    if holdout:
        lines.append("    (holdout: the golden holdout the stable version carries; "
                     "the other columns: this run's eval split)")
    if not facts.baseline:
        lines.append("    (no stable version to compare with yet: judged on value thresholds only)")
    if facts.holdout_skipped:
        lines.append(f"    golden holdout: not judged ({facts.holdout_skipped})")
    return lines


def latency_gate_lines(gate: Mapping[str, object]) -> List[str]:
    """The latency gate in words and numbers (empty when the run had no infra validation)."""
    verdict = gate.get("verdict")
    if not verdict:
        return []
    if verdict == "skipped":
        return [f"  latency gate: skipped ({gate.get('reason')})"]
    lines = [f"  latency gate: {'passed' if verdict == 'passed' else 'FAILED'}: "
             f"{gate.get('reason')}"]
    if "candidate_p95_ms" not in gate:
        return lines
    lines.append(f"    {gate.get('request_source')}, concurrency {gate.get('concurrency')}, "
                 f"{gate.get('rounds')} alternating rounds of {gate.get('requests_per_round')} "
                 f"per version against stable version {gate.get('stable_version')} "
                 f"({float(gate.get('seconds', 0)):.0f}s)")
    rows = [("version", "p50 ms", "p95 ms (95% CI)", "p99 ms", "errors")]
    for side in ("candidate", "stable"):
        rows.append((side, f"{float(gate[side + '_p50_ms']):.2f}",
                     f"{float(gate[side + '_p95_ms']):.2f} ({gate[side + '_p95_ci_ms']})",
                     f"{float(gate[side + '_p99_ms']):.2f}",
                     f"{float(gate[side + '_error_rate']):.1%} of {gate[side + '_requests']}"))
    return lines + _table(rows)


def _data_gate_lines(info: run_info.RunInfo) -> List[str]:
    """What the data gate let through knowingly (drift accepted with --accept-drift)."""
    from components import data_gate

    result = info.output("DataGate", "result")
    report = data_gate.read_result(result.uri) if result else None
    return data_gate.summary_lines(report) if report else []



def decide_exit_code(facts: RunFacts) -> int:
    """The `tfxp run` exit code of a run: 130/143 interrupted, 2 data gate, 1 failed,
    0 pushed, 3 not blessed."""
    if facts.interrupted is not None:
        return facts.interrupted.exit_code
    if facts.failure is not None:
        return EXIT_DATA_GATE if facts.data_gate else EXIT_FAILED
    if facts.info is None:
        return EXIT_FAILED
    return EXIT_PUSHED if facts.pushed_version is not None else EXIT_NOT_BLESSED


def _where_stopped(info: Optional[run_info.RunInfo]) -> str:
    if info is None or not info.components:
        return "before its first step"
    unfinished = [c for c in info.components if c.state in ("running", "new", "failed")]
    if unfinished:
        return f"during {unfinished[-1].node_id}"
    return f"after {info.components[-1].node_id}"


def _first_line(error: BaseException) -> str:
    """The error's type and the first line of its message (Beam's job failures run to pages)."""
    text = str(error).strip().split("\n")[0][:300]
    return f"{type(error).__name__}: {text}"


def _table(rows: Sequence[Sequence[str]]) -> List[str]:
    """The summary's tables: names left, figures right, under their heading."""
    return text_table.align(rows, right=range(1, len(rows[0]) if rows else 0), indent="    ")


def format_summary(facts: RunFacts) -> str:
    """The run summary printed after a run (what happened, from its own run context)."""
    info = facts.info
    lines: List[str] = ["", f"Summary of '{facts.pipeline_name}' run {facts.run_id} "
                        f"({facts.seconds:.0f}s)"]
    if info:
        executed = [c for c in info.components if c.state == "executed"]
        cached = [c for c in info.components if c.state == "cached"]
        lines.append(f"  components: {len(executed)} executed, {len(cached)} cached, "
                     f"{len(info.components) - len(executed) - len(cached)} other")
        lines += _table([(c.node_id, c.state, f"{c.seconds:.1f}s")
                               for c in info.components])
    if facts.interrupted is not None:
        lines += ["", f"Stopped by {facts.interrupted.args[0]} {_where_stopped(info)}; nothing "
                  "half-written was left in the push destination. Run the same command again "
                  "to resume: finished steps come from the cache.", f"Log: {facts.log_path}"]
        return "\n".join(lines)
    if facts.failure is not None:
        gate, destination = facts.data_gate, facts.push_destination_error
        if gate:
            lines += ["", str(gate).split("\n\n")[0].strip(),
                      f"Nothing was trained or pushed. Log: {facts.log_path}"]
        elif destination:
            lines += ["", f"The push failed: {destination}; models.config was not changed.",
                      f"Make {destination.path} writable (or free space there, or choose "
                      "another --serving-dir) and run again: finished steps come from the cache.",
                      f"Log: {facts.log_path}"]
        elif facts.engine:
            lines += ["", f"The run failed {_where_stopped(info)} on the {facts.engine}: "
                      f"{_first_line(facts.failure)} (`tfxp cluster status` checks the cluster; "
                      "run the same command again to resume from the cache). "
                      f"Log: {facts.log_path}"]
        else:
            lines += ["", f"The run failed: {type(facts.failure).__name__}: "
                      f"{str(facts.failure)[:2000]}", f"See the log for details: {facts.log_path}"]
        return "\n".join(lines)
    if info is None:
        lines.append(f"No run {facts.run_id} was recorded in ML Metadata. Log: {facts.log_path}")
        return "\n".join(lines)
    lines += _data_gate_lines(info)
    if facts.evaluated:
        lines += _evaluation_lines(facts)
    lost = (f" (lost on the {'golden holdout' if facts.lost_on == 'holdout' else facts.lost_on}"
            f"{' split' if facts.lost_on == 'eval' else ''})") if facts.lost_on else ""
    lines.append(f"  blessed: {'yes' if facts.blessed else 'NO'}{lost}")
    lines += [f"    failed threshold {failure}" for failure in facts.threshold_failures]
    lines += latency_gate_lines(facts.latency_gate)
    if facts.infra_failed and facts.latency_gate.get("verdict") == "failed":
        lines.append("  infra validation: FAILED (the latency gate stopped the candidate)")
    elif facts.infra_failed:
        lines.append("  infra validation: FAILED (the model could not be served); see the log")
    if facts.pushed_version is not None:
        note = (" (cached: this model was already pushed; no new version)" if facts.cached_push
                else " (identical model already pushed; no new version)" if facts.reused else "")
        lines.append(f"  pushed: version {facts.pushed_version} at {facts.pushed_destination}"
                     f"{note}")
    else:
        lines.append("  pushed: nothing (the model was not blessed)")
    return "\n".join(lines)

