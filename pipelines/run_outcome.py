"""What one run did and what `tfxp run` makes of it: the facts read back from the run's own
pipeline-run context, the exit code decided from them, and the printed summary."""
import dataclasses
import pathlib
from typing import Dict, List, Mapping, Optional, Sequence

from models.spec import ModelSpec
from pipelines import run_info, text_table
from pipelines.run_guard import RunInterrupted
from pipelines.run_paths import RunPaths

EXIT_PUSHED, EXIT_FAILED, EXIT_DATA_GATE, EXIT_NOT_BLESSED = 0, 1, 2, 3
EXIT_BUSY = 4


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

