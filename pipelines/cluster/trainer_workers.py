"""A finished run's Trainer again, on several worker processes on loopback: each process gets
its own TF_CONFIG (one chief, the rest workers), models.common.training then picks
MultiWorkerMirroredStrategy, and TF's collective ops synchronise the gradients over gRPC.

The Trainer's inputs and execution properties are read from the run's ML Metadata, so the
workers train exactly what the pipeline's Trainer trained. Only the chief's SavedModel is kept.
A worker that dies stops the others: a collective op would otherwise wait for it for ever.
"""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

from serving.server.process import free_ports

TRAINER_NODE = "Trainer"


class WorkerFailed(RuntimeError):
    """A worker process exited with an error or was killed; the others were stopped."""


def trainer_inputs(metadata_path: str, pipeline_name: str,
                   run_id: Optional[str] = None) -> Tuple[Dict[str, list], Dict[str, object]]:
    """The Trainer's input artifacts (TFX Artifact objects by key) and execution properties in
    run `run_id` (default: the pipeline's newest run)."""
    from ml_metadata.proto import metadata_store_pb2
    from tfx.types import artifact_utils, standard_artifacts  # noqa: F401 (registers the types)

    from pipelines import run_info

    store = run_info.open_store(metadata_path)
    run_id = run_id or run_info.run_ids(store, pipeline_name)[-1]
    context = store.get_context_by_type_and_name(run_info.RUN_CONTEXT_TYPE, run_id)
    for execution in store.get_executions_by_context(context.id):
        names = [c.name for c in store.get_contexts_by_execution(execution.id)]
        if f"{pipeline_name}.{TRAINER_NODE}" in names:
            break
    else:
        raise LookupError(f"run {run_id!r} of {pipeline_name!r} has no Trainer")
    events = [e for e in store.get_events_by_execution_ids([execution.id])
              if e.type == metadata_store_pb2.Event.INPUT]
    artifacts = {a.id: a for a in store.get_artifacts_by_id([e.artifact_id for e in events])}
    types = {t.id: t for t in store.get_artifact_types()}
    inputs: Dict[str, list] = {}
    for event in events:
        artifact = artifacts[event.artifact_id]
        inputs.setdefault(event.path.steps[0].key, []).append(
            artifact_utils.deserialize_artifact(types[artifact.type_id], artifact))
    properties = {name: getattr(value, value.WhichOneof("value"))
                  for name, value in execution.custom_properties.items()
                  if value.WhichOneof("value") in ("string_value", "int_value", "double_value")}
    return inputs, properties


def train_this_worker(metadata_path: str, pipeline_name: str, run_id: Optional[str],
                      output_dir: str) -> None:
    """One worker's part (its TF_CONFIG is in the environment): the run's run_fn on its inputs;
    the chief's SavedModel goes to output_dir/Format-Serving."""
    from tfx.components.trainer import fn_args_utils
    from tfx.utils import import_utils

    inputs, properties = trainer_inputs(metadata_path, pipeline_name, run_id)
    fn_args = fn_args_utils.get_common_fn_args(inputs, properties,
                                               working_dir=os.path.join(output_dir, "working"))
    fn_args.transform_output = fn_args.transform_graph_path  # as TFX's Trainer executor sets
    fn_args.schema_file = fn_args.schema_path
    fn_args.serving_model_dir = os.path.join(output_dir, "Format-Serving")
    fn_args.model_run_dir = os.path.join(output_dir, "model_run")
    fn_args.hyperparameters = None
    run_fn = import_utils.import_func_from_module(*properties["run_fn"].rsplit(".", 1))
    run_fn(fn_args)


def _stop(processes) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _describe_exit(code: int) -> str:
    return f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with {code}"


def run_workers(metadata_path: str, pipeline_name: str, output_dir: str, workers: int = 2,
                run_id: Optional[str] = None, started=None) -> pathlib.Path:
    """Trains on `workers` processes (a chief and workers-1 workers) and returns the chief's
    SavedModel folder; WorkerFailed names the worker that failed and its log. `started`, if
    given, is called with the processes by task name once they run."""
    if workers < 2:
        raise ValueError(f"--workers must be at least 2 (a chief and a worker), got {workers}")
    output = pathlib.Path(output_dir).resolve()
    (output / "logs").mkdir(parents=True, exist_ok=True)
    addresses = [f"localhost:{port}" for port in free_ports(workers)]
    cluster = {"chief": addresses[:1], "worker": addresses[1:]}
    tasks = [("chief", 0)] + [("worker", i) for i in range(workers - 1)]
    processes: Dict[str, subprocess.Popen] = {}
    logs: Dict[str, pathlib.Path] = {}
    command = [sys.executable, "-m", "pipelines.cluster.trainer_workers", metadata_path,
               pipeline_name, str(output), run_id or ""]
    try:
        for task_type, index in tasks:
            name = f"{task_type}-{index}"
            env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CONFIG=json.dumps(
                {"cluster": cluster, "task": {"type": task_type, "index": index}}))
            logs[name] = output / "logs" / f"{name}.log"
            with open(logs[name], "wb") as log:
                processes[name] = subprocess.Popen(command, env=env, stdout=log,
                                                   stderr=subprocess.STDOUT,
                                                   stdin=subprocess.DEVNULL,
                                                   start_new_session=True)
        if started:
            started(processes)
        while any(p.poll() is None for p in processes.values()):
            failed = [(n, p) for n, p in processes.items() if p.poll() not in (None, 0)]
            if failed:
                name, process = failed[0]
                raise WorkerFailed(
                    f"Trainer {name} (pid {process.pid}) {_describe_exit(process.returncode)}: "
                    f"multi-worker training of '{pipeline_name}' stopped, no model was kept. "
                    f"Log: {logs[name]}")
            time.sleep(0.5)
        failed = [(n, p) for n, p in processes.items() if p.returncode != 0]
        if failed:
            name, process = failed[0]
            raise WorkerFailed(f"Trainer {name} (pid {process.pid}) "
                               f"{_describe_exit(process.returncode)}. Log: {logs[name]}")
    finally:
        _stop(processes.values())
    return output / "Format-Serving"


def main(argv: List[str]) -> int:
    """A worker process: METADATA PIPELINE OUTPUT_DIR [RUN_ID], TF_CONFIG from the environment."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    metadata_path, pipeline_name, output_dir, run_id = (argv + [""])[:4]
    train_this_worker(metadata_path, pipeline_name, run_id or None, output_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
