"""Builds one model's pipeline for a run on this machine and runs it with TFX's LocalDagRunner or
BeamDagRunner (the Beam jobs on the Flink or Spark cluster with `--runner flink|spark`).

A run gets its own TFX run id and is read back from that run's pipeline-run context (never "the
latest run"); run_guard holds the pipeline root and the signals, run_outcome says what happened.
"""
import datetime
import os
import pathlib
import time
from typing import Optional, Sequence

from models.spec import ModelSpec
from pipelines import run_outcome
from pipelines.arguments import model_arguments
from pipelines.run_guard import RunInterrupted, SignalGuard
from pipelines.run_options import RUNNERS, RunOptions
from pipelines.run_paths import RunPaths, stage_schema


def build(spec: ModelSpec, paths: RunPaths, data_root, splits: Optional[Sequence[str]],
          options: RunOptions):
    """The model's pipeline for a local run: create_pipeline with the model's arguments, the
    local paths and metadata of `paths` and the choices of `options`."""
    from tfx.orchestration import metadata

    from components.holdout import user_files
    from pipelines.pipeline import create_pipeline

    holdout_file = options.holdout_file
    if holdout_file:
        user_files(holdout_file)  # a wrong --holdout stops the run before it starts
    return create_pipeline(
        pipeline_name=paths.pipeline_name,
        pipeline_root=str(paths.pipeline_root),
        data_root=str(data_root),
        schema_path=stage_schema(spec.schema_path, paths) if spec.schema_path else None,
        serving_model_dir=str(paths.serving_model_dir),
        splits=splits,
        infra_validation=options.infra_validation,
        baseline=options.baseline,
        metadata_connection_config=metadata.sqlite_metadata_connection_config(
            str(paths.metadata_path)),
        beam_pipeline_args=list(options.beam_args),
        enable_cache=options.enable_cache,
        accept_drift=options.accept_drift,
        rollout=options.rollout,
        holdout_file=str(pathlib.Path(holdout_file).resolve()) if holdout_file else "",
        skip_latency_gate=options.skip_latency_gate,
        **model_arguments(spec, sample=options.sample, tune=options.tune,
                          hyperparameters=options.hyperparameters),
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

    if kind in ("local", "flink", "spark"):  # local orchestration, Beam jobs on the cluster
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


def run(spec: ModelSpec, paths: RunPaths, pipeline, log_path: pathlib.Path, runner: str,
        guard: SignalGuard, run_id: Optional[str] = None,
        engine: Optional[str] = None) -> run_outcome.RunOutcome:
    """Runs a built pipeline as run `run_id` and returns that run's summary and exit code (call
    inside captured_logs and run_guard's `guarded`/`stop_on_signals`, which gives `guard`).
    SIGINT/SIGTERM end the run early with exit 130/143. `engine` names the cluster the Beam
    jobs went to, for the failure line."""
    run_id = run_id or new_run_id()
    started = time.monotonic()
    failure: Optional[BaseException] = None
    interrupted: Optional[RunInterrupted] = None
    try:
        with guard.window() as stop:
            _orchestrator(runner, run_id).run(pipeline)
    except RunInterrupted as stopped:
        interrupted = stopped
    except Exception as error:  # reported in the summary with the log path; exit code says which
        failure = error
        if stop.signum is not None:  # the interruption, wrapped by Beam or TFX
            interrupted, failure = RunInterrupted(stop.signum), None
    facts = run_outcome.read_run(spec, paths, run_id, failure, interrupted,
                                 time.monotonic() - started, log_path)
    facts.engine = engine
    return run_outcome.RunOutcome(run_outcome.decide_exit_code(facts),
                                  run_outcome.format_summary(facts), facts)
