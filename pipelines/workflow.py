"""What `tfxp run` and `tfxp data prepare` do: prepare, build, run, summarise, roll out."""
import dataclasses
import sys
import time
from typing import List, Mapping, Optional, Sequence

from data import common
from models import registry
from pipelines import progress, runner


def prepare_datasets(model_names: Sequence[str], stream=sys.stdout) -> int:
    for name in model_names:
        spec = registry.get(name)
        started = time.monotonic()
        out_dir = common.PREPARED_ROOT / name
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

    info = outcome.run
    trainer = info.component("Trainer") if info else None
    candidate = baseline = None
    blessed = False
    if info:
        evaluation = info.output("Evaluator", "evaluation")
        if evaluation:
            overall = run_info.evaluation_metrics(evaluation.uri).get("Overall", {})
            candidate = overall.get("candidate", {}).get(spec.key_metric)
            baseline = overall.get("baseline", {}).get(spec.key_metric)
        blessing = info.output("Evaluator", "blessing")
        blessed = bool(blessing and blessing.properties.get("blessed"))
    return ModelResult(spec.name, rows, trainer.seconds if trainer else None, spec.key_metric,
                       candidate, baseline, blessed, outcome.pushed_version, outcome.exit_code)


def format_table(results: List[ModelResult]) -> str:
    header = ("model", "rows (per split)", "train", "metric", "candidate", "baseline", "blessed",
              "pushed")
    rows = [header] + [(
        r.model, r.rows, f"{r.train_seconds:.0f}s" if r.train_seconds is not None else "-",
        r.key_metric, f"{r.candidate:.4f}" if r.candidate is not None else "-",
        f"{r.baseline:.4f}" if r.baseline is not None else "-",
        "yes" if r.blessed else "no", str(r.pushed_version) if r.pushed_version else "-")
        for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows)


def _rollout(spec, paths: runner.RunPaths, outcome: runner.RunOutcome, rollout: str, stream):
    """Labels a newly pushed version in the serving config (stable first, then canaries)."""
    if rollout == "none" or not outcome.new_version:
        return
    from serving import canary

    state = canary.on_push(paths.serving_model_dir.parent, spec.name, outcome.pushed_version,
                           policy=rollout)
    stream.write(f"  serving labels for {spec.name}: {state}\n")


def run_models(model_names: Sequence[str], data_dir: Optional[str] = None, sample: bool = False,
               runner_kind: str = "local", home: Optional[str] = None,
               serving_dir: Optional[str] = None, beam_args: Sequence[str] = (),
               hyperparameters: Optional[Mapping] = None, tune: bool = False,
               enable_cache: bool = True, infra_validation: bool = True, rollout: str = "canary",
               verbose: bool = False, accept_drift: bool = False, stream=sys.stdout) -> int:
    """Runs each model's pipeline in turn; returns 1 if any run failed, else the highest exit
    code (0 when every model was pushed)."""
    results: List[ModelResult] = []
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
        log_path = paths.new_log_path()
        stream.write(f"Running pipeline '{paths.pipeline_name}' ({runner_kind} runner); "
                     f"full logs: {log_path}\n")
        stream.flush()
        with progress.captured_logs(str(log_path), verbose=verbose, stream=stream):
            pipeline = runner.build(spec, paths, data_root, splits, sample=sample,
                                    beam_args=beam_args, enable_cache=enable_cache, tune=tune,
                                    hyperparameters=hyperparameters,
                                    infra_validation=infra_validation,
                                    accept_drift=accept_drift)
            outcome = runner.run(spec, paths, pipeline, log_path, runner=runner_kind)
        stream.write(outcome.summary + "\n")
        if outcome.exit_code == runner.EXIT_PUSHED:
            _rollout(spec, paths, outcome, rollout, stream)
        results.append(_result_row(spec, outcome, rows))
    if len(results) > 1:
        stream.write("\n" + format_table(results) + "\n")
    codes = [r.exit_code for r in results]
    return runner.EXIT_FAILED if runner.EXIT_FAILED in codes else max(codes)
