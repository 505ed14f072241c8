"""What `tfxp run` and `tfxp data prepare` do: prepare, build, run, summarise, roll out."""
import dataclasses
import sys
import time
from typing import List, Mapping, Optional, Sequence

from data import common, settings
from models import registry
from pipelines import progress, run_guard, run_outcome, run_paths, runner, text_table
from pipelines.run_options import RunOptions
from pipelines.run_paths import RunPaths


def prepare_datasets(model_names: Sequence[str], stream=sys.stdout) -> int:
    """What `tfxp data prepare` does: prepares each model's full dataset and prints its rows
    per split. Returns 1 at the first dataset that cannot be prepared."""
    for name in model_names:
        spec = registry.get(name)
        started = time.monotonic()
        out_dir = settings.PREPARED_ROOT / name
        try:
            manifest = spec.prepare_data(out_dir)
        except common.DataPreparationError as error:
            stream.write(f"{name}: could not prepare the dataset: {error}\n")
            return 1
        rows = ", ".join(f"{split} {count:,}" for split, count in manifest["rows"].items())
        stream.write(f"{name}: {out_dir} ({rows} rows; {time.monotonic() - started:.1f}s)\n")
    return 0


@dataclasses.dataclass
class ModelResult:
    """One row of the table `tfxp run` prints after running several models."""

    model: str
    rows: str
    train_seconds: Optional[float]
    key_metric: str
    candidate: Optional[float]
    baseline: Optional[float]
    blessed: bool
    pushed_version: Optional[int]
    exit_code: int


def _result_row(spec, outcome: run_outcome.RunOutcome, rows: str) -> ModelResult:
    """The table row of one model, from the facts its run summary was written from."""
    facts = outcome.facts
    trainer = facts.info.component("Trainer") if facts.info else None
    return ModelResult(spec.name, rows, trainer.seconds if trainer else None, spec.key_metric,
                       facts.candidate.get(spec.key_metric), facts.baseline.get(spec.key_metric),
                       bool(facts.blessed), facts.pushed_version, outcome.exit_code)


def format_table(results: List[ModelResult]) -> str:
    """The results of a multi-model run, one row per model."""
    header = ("model", "rows (per split)", "train", "metric", "candidate", "baseline", "blessed",
              "pushed")
    rows = [header] + [(
        r.model, r.rows, f"{r.train_seconds:.0f}s" if r.train_seconds is not None else "-",
        r.key_metric, f"{r.candidate:.4f}" if r.candidate is not None else "-",
        f"{r.baseline:.4f}" if r.baseline is not None else "-",
        "yes" if r.blessed else "no", str(r.pushed_version) if r.pushed_version else "-")
        for r in results]
    return "\n".join(text_table.align(rows))


def _show_labels(spec, paths: RunPaths, outcome: run_outcome.RunOutcome, rollout: str,
                 stream):
    """The serving labels after a new version was pushed (the Pusher labelled it)."""
    if rollout == "none" or not outcome.new_version:
        return
    from serving.rollout import canary

    models_root = paths.serving_model_dir.parent
    state = dict(canary.status(models_root).get(spec.name, {}), model=spec.name,
                 config=str(models_root / "models.config"))
    stream.write(f"  {serving_line(state)}\n")


def serving_line(state: Mapping) -> str:
    """'serving: census stable=1 canary=2 (/srv/models/models.config)' from canary's state."""
    def shown(version):
        return "-" if version is None else str(version)

    return (f"serving: {state['model']} stable={shown(state.get('stable'))} "
            f"canary={shown(state.get('canary'))} ({state['config']})")


def _run_one(spec, paths: RunPaths, data, options: RunOptions, guard: run_guard.SignalGuard,
             engine: Optional[str], stream) -> run_outcome.RunOutcome:
    """Build, run, summarise and roll out one model on `data` (data root, splits) while `guard`'s
    block holds its pipeline root."""
    data_root, splits = data
    log_path = paths.new_log_path()
    stream.write(f"Running pipeline '{paths.pipeline_name}' ({options.runner} runner); "
                 f"full logs: {log_path}\n")
    stream.flush()
    with progress.captured_logs(str(log_path), verbose=options.verbose, stream=stream):
        pipeline = runner.build(spec, paths, data_root, splits, options)
        outcome = runner.run(spec, paths, pipeline, log_path, options.runner, guard,
                             engine=engine)
    stream.write(outcome.summary + "\n")
    if outcome.exit_code == run_outcome.EXIT_PUSHED:
        _show_labels(spec, paths, outcome, options.rollout, stream)
    return outcome


def _on_cluster(options: RunOptions):
    """(options, engine): with `--runner flink|spark` the cluster is checked before any
    component starts and its Beam arguments go first; `engine` names it in a failure line."""
    if options.runner not in ("flink", "spark"):
        return options, None
    from pipelines.cluster import engines

    beam_args, engine = engines.cluster_beam_args(options.runner, options.beam_args)
    return dataclasses.replace(options, beam_args=tuple(beam_args)), engine


def _rows(spec, data_root) -> str:
    """The data's rows per split for the table, from the prepared data's manifest ('?' unknown)."""
    counts = (common.load_manifest(data_root) or {}).get("rows", {})
    return "/".join(f"{counts[s]:,}" for s in spec.splits if s in counts) or "?"


def run_models(model_names: Sequence[str], options: RunOptions, stream=sys.stdout) -> int:
    """Runs each model's pipeline in turn, one run per pipeline root at a time (waiting for
    another run that holds it unless `options.wait` is False); returns 1 if any run failed, the
    signal's code when interrupted, else the highest exit code (0 when every model was pushed)."""
    if len(model_names) > 1 and (options.pipeline_root or options.serving_dir):
        raise ValueError("--pipeline-root and --serving-dir apply to one model; "
                         "drop them with --model all")
    options, engine = _on_cluster(options)
    results: List[ModelResult] = []
    codes: List[int] = []
    for name in model_names:
        spec = registry.get(name)
        paths = run_paths.default_paths(spec, sample=options.sample, home=options.pipeline_root,
                                        serving_dir=options.serving_dir)
        data = run_paths.resolve_data(spec, options.data_dir, options.sample)
        rows = _rows(spec, data[0])
        try:
            with run_guard.guarded(paths, wait=options.wait, stream=stream) as guard:
                outcome = _run_one(spec, paths, data, options, guard, engine, stream)
        except run_guard.PipelineBusy as busy:
            stream.write(f"Not running '{paths.pipeline_name}': {busy}\n")
            codes.append(run_outcome.EXIT_BUSY)
            continue
        except run_guard.MetadataUnusable as problem:
            stream.write(f"Not running '{paths.pipeline_name}': {problem}\n")
            codes.append(run_outcome.EXIT_FAILED)
            continue
        except run_guard.RunInterrupted as stop:  # outside the run: waiting for the lock, rollout
            stream.write(f"Stopped by {stop.args[0]} ('{paths.pipeline_name}'); run the same "
                         "command again to resume from the cache.\n")
            return stop.exit_code
        results.append(_result_row(spec, outcome, rows))
        codes.append(outcome.exit_code)
        if outcome.exit_code > 128:
            return outcome.exit_code
    if len(results) > 1:
        stream.write("\n" + format_table(results) + "\n")
    return run_outcome.EXIT_FAILED if run_outcome.EXIT_FAILED in codes else max(codes)
