"""What `tfxp run` and `tfxp data prepare` do: prepare, build, run, summarise, roll out."""
import dataclasses
import sys
import time
from typing import List, Mapping, Optional, Sequence

from data import common, settings
from models import registry
from pipelines import progress, runner, text_table


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


def _result_row(spec, outcome: runner.RunOutcome, rows: str) -> ModelResult:
    from pipelines import run_info

    info = outcome.facts.info
    trainer = info.component("Trainer") if info else None
    candidate = baseline = None
    if info:
        evaluation = info.output("Evaluator", "evaluation")
        if evaluation:
            overall = run_info.evaluation_metrics(evaluation.uri).get("Overall", {})
            candidate = overall.get("candidate", {}).get(spec.key_metric)
            baseline = overall.get("baseline", {}).get(spec.key_metric)
    return ModelResult(spec.name, rows, trainer.seconds if trainer else None, spec.key_metric,
                       candidate, baseline, bool(outcome.facts.blessed),
                       outcome.facts.pushed_version, outcome.exit_code)


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


def _show_labels(spec, paths: runner.RunPaths, outcome: runner.RunOutcome, rollout: str, stream):
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


def _run_one(spec, paths: runner.RunPaths, data_root, splits, rows: str, sample: bool,
             runner_kind: str, beam_args, hyperparameters, tune: bool, enable_cache: bool,
             infra_validation: bool, rollout: str, verbose: bool, accept_drift: bool,
             stream, holdout_file: str = "", skip_latency_gate: bool = False,
             engine: Optional[str] = None) -> ModelResult:
    """Build, run, summarise and roll out one model while holding its pipeline root."""
    runner.check_metadata(paths)
    log_path = paths.new_log_path()
    stream.write(f"Running pipeline '{paths.pipeline_name}' ({runner_kind} runner); "
                 f"full logs: {log_path}\n")
    stream.flush()
    with progress.captured_logs(str(log_path), verbose=verbose, stream=stream):
        pipeline = runner.build(spec, paths, data_root, splits, sample=sample,
                                beam_args=beam_args, enable_cache=enable_cache, tune=tune,
                                hyperparameters=hyperparameters,
                                infra_validation=infra_validation, accept_drift=accept_drift,
                                rollout=rollout, holdout_file=holdout_file,
                                skip_latency_gate=skip_latency_gate)
        outcome = runner.run(spec, paths, pipeline, log_path, runner=runner_kind, engine=engine)
    stream.write(outcome.summary + "\n")
    if outcome.exit_code == runner.EXIT_PUSHED:
        _show_labels(spec, paths, outcome, rollout, stream)
    return _result_row(spec, outcome, rows)


def run_models(model_names: Sequence[str], data_dir: Optional[str] = None, sample: bool = False,
               runner_kind: str = "local", home: Optional[str] = None,
               serving_dir: Optional[str] = None, beam_args: Sequence[str] = (),
               hyperparameters: Optional[Mapping] = None, tune: bool = False,
               enable_cache: bool = True, infra_validation: bool = True, rollout: str = "canary",
               verbose: bool = False, wait: bool = True, accept_drift: bool = False,
               stream=sys.stdout, holdout_file: str = "", skip_latency_gate: bool = False) -> int:
    """Runs each model's pipeline in turn, one run per pipeline root at a time (waiting for
    another run that holds it unless `wait` is False; `accept_drift` lets the data gate pass drift;
    `holdout_file` replaces the golden holdout; `skip_latency_gate`); returns 1 if any run failed, the signal's
    code when interrupted, else the highest exit code (0 when every model was pushed)."""
    results: List[ModelResult] = []
    codes: List[int] = []
    engine = None
    if runner_kind == "flink":  # checked before any component starts
        from pipelines.cluster import flink

        cluster = flink.require_healthy()
        beam_args, engine = flink.beam_args(cluster) + list(beam_args), cluster.describe()
    for name in model_names:
        spec = registry.get(name)
        if len(model_names) > 1 and (home or serving_dir):
            raise ValueError("--pipeline-root and --serving-dir apply to one model; "
                             "drop them with --model all")
        paths = runner.default_paths(spec, sample=sample, home=home, serving_dir=serving_dir)
        data_root, splits = runner.resolve_data(spec, data_dir, sample)
        manifest = common.load_manifest(data_root) or {}
        counts = manifest.get("rows", {})
        rows = "/".join(f"{counts[s]:,}" for s in spec.splits if s in counts) or "?"
        try:
            with runner.stop_on_signals(), \
                    runner.exclusive_pipeline_root(paths, wait=wait, stream=stream):
                result = _run_one(spec, paths, data_root, splits, rows, sample, runner_kind, beam_args,
                                  hyperparameters, tune, enable_cache, infra_validation, rollout,
                                  verbose, accept_drift, stream, holdout_file,
                                  skip_latency_gate, engine)
        except runner.PipelineBusy as busy:
            stream.write(f"Not running '{paths.pipeline_name}': {busy}\n")
            codes.append(runner.EXIT_BUSY)
            continue
        except runner.MetadataUnusable as problem:
            stream.write(f"Not running '{paths.pipeline_name}': {problem}\n")
            codes.append(runner.EXIT_FAILED)
            continue
        except runner.RunInterrupted as stop:  # outside the run: waiting for the lock, rollout
            stream.write(f"Stopped by {stop.args[0]} ('{paths.pipeline_name}'); run the same "
                         "command again to resume from the cache.\n")
            return stop.exit_code
        results.append(result)
        codes.append(result.exit_code)
        if result.exit_code > 128:
            return result.exit_code
    if len(results) > 1:
        stream.write("\n" + format_table(results) + "\n")
    return runner.EXIT_FAILED if runner.EXIT_FAILED in codes else max(codes)
