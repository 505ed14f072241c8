"""`tfxp kubeflow run-local`: executes a compiled KFP v2 spec on this machine by the open-source
KFP v2 backend's rules, as a dry run before uploading it and as the test harness of the specs.

It is not an orchestrator (Kubeflow is): no retries, no parallel tasks, no scheduling, no UI.
What it does follow, with the Go code of kubeflow/pipelines (backend 2.5) it follows:

- Run root `<pipeline root>/<pipeline name>/<run id>`, output URIs `<run root>/<task>/<output>`
  (metadata/client.go `GetPipeline`/`GenerateOutputURI`, driver.go `provisionOutputs`).
- Tasks in topological order of `dependentTasks` and producer tasks (argocompiler/dag.go
  `task`: each task depends on the tasks it names).
- Parameters from constants and the run's parameters, root defaults filling the rest
  (driver.go `resolveInputs`).
- Upstream artifacts handed over as ML Metadata returns them: named by their id, custom
  properties as metadata, and an empty `instanceSchema` (metadata/client.go
  `GetOutputArtifactsByExecutionId` + `ToRuntimeArtifact`; driver.go `resolveUpstreamArtifacts`).
- Outputs typed by the component's output definitions, plus the launcher's `executor-logs`
  output of schema title `system.Artifact` (launcher_v2.go, `--publish_logs` on by default).
- `{{$}}` and the other placeholders resolved as the launcher does (launcher_v2.go
  `getPlaceholders`), with kfp's own `kfp.local` placeholder code.
- Cache: a task with caching on is skipped when an earlier execution had the same cache key
  (inputs' artifact ids, parameter values, output names and types, command, args, image), and
  its outputs are the earlier artifacts (driver.go `getFingerPrint`/`reuseCachedOutputs`).
- Output metadata from the executor's output file merged into the recorded artifacts
  (launcher_v2.go `uploadOutputArtifacts`).

Each task runs as a subprocess of this project's Python (`python` in the container's command is
this interpreter; the image's project directory is this checkout). A JSON record under the local
root stands in for ML Metadata. Paths under the spec's pipeline root map to the local root, as if
that bucket were mounted here.
"""
import dataclasses
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional, TextIO

import yaml

from data import settings
from kubeflow import compile as kubeflow_compile

RECORD_FILE = "run-local-metadata.json"
EXECUTOR_LOGS = "executor-logs"
_SYSTEM_ARTIFACT = {"schemaTitle": "system.Artifact"}


class RunLocalError(RuntimeError):
    """The spec cannot run here, or a task failed; the message names the task and the log."""


@dataclasses.dataclass
class TaskResult:
    """One task of a local run: executed or taken from the cache, and how long it took."""

    task: str
    state: str  # "executed" or "cached"
    seconds: float
    log_path: Optional[pathlib.Path] = None


@dataclasses.dataclass
class RunResult:
    """A whole local run: its tasks in execution order and the artifacts each task output."""

    run_id: str
    run_root: pathlib.Path
    tasks: List[TaskResult]
    outputs: Dict[str, Dict[str, Dict[str, Any]]]  # task -> output name -> runtime artifact

    def task(self, name: str) -> TaskResult:
        """The result of task `name` (StopIteration when the run has no such task)."""
        return next(t for t in self.tasks if t.task == name)


class MetadataRecord:
    """The small JSON record that stands in for ML Metadata: artifacts by id, and executions
    with their cache key and outputs."""

    def __init__(self, path: pathlib.Path):
        self.path = path
        self.data = (json.loads(path.read_text()) if path.exists()
                     else {"next_id": 1, "artifacts": {}, "executions": []})

    def save(self) -> None:
        """Writes the record atomically, so an interrupted run never leaves it half-written."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        temporary.replace(self.path)

    def put_artifact(self, artifact: Dict[str, Any]) -> str:
        """Stores an artifact and returns its new id (ids are numbers, as in ML Metadata)."""
        artifact_id = str(self.data["next_id"])
        self.data["next_id"] += 1
        self.data["artifacts"][artifact_id] = artifact
        return artifact_id

    def cached_outputs(self, fingerprint: str) -> Optional[Dict[str, str]]:
        """The output artifact ids of the newest execution with this cache key, or None."""
        for execution in reversed(self.data["executions"]):
            if execution["fingerprint"] == fingerprint and execution["state"] == "executed":
                return execution["outputs"]
        return None

    def add_execution(self, **execution) -> None:
        """Records one task execution (fingerprint, state, outputs) for later cache hits."""
        self.data["executions"].append(execution)


def load_spec(path: pathlib.Path) -> Dict[str, Any]:
    """The compiled spec at `path`; RunLocalError saying how to compile it when it is missing."""
    if not path.exists():
        raise RunLocalError(f"no compiled spec at {path}; write it with `tfxp kubeflow compile "
                            "--model M [--sample] --image IMAGE --pipeline-root ROOT`")
    return yaml.safe_load(path.read_text())


def topological_order(tasks: Dict[str, Dict[str, Any]]) -> List[str]:
    """Task names, each after every task it depends on (dependentTasks and producer tasks)."""
    upstream = {name: set(task.get("dependentTasks", [])) for name, task in tasks.items()}
    for name, task in tasks.items():
        for kind in ("artifacts", "parameters"):
            for value in task.get("inputs", {}).get(kind, {}).values():
                producer = value.get("taskOutputArtifact", value.get("taskOutputParameter", {}))
                if producer.get("producerTask"):
                    upstream[name].add(producer["producerTask"])
    order: List[str] = []
    done = set()
    while len(order) < len(tasks):
        ready = sorted(n for n in tasks if n not in done and upstream[n] <= done)
        if not ready:
            raise RunLocalError(f"the spec's tasks form a cycle: {sorted(set(tasks) - done)}")
        order.extend(ready)
        done.update(ready)
    return order


@dataclasses.dataclass(frozen=True)
class LocalMounts:
    """Where the container's paths are on this machine: the spec's root (the bucket) is the
    local root, and the image's project directory is this checkout."""

    spec_root: str
    local_root: pathlib.Path
    project_root: pathlib.Path = settings.PROJECT_ROOT

    def map(self, value: Any) -> Any:
        """`value` with the container's paths replaced by this machine's (non-strings unchanged)."""
        if not isinstance(value, str):
            return value
        value = value.replace(self.spec_root.rstrip("/") + "/", str(self.local_root) + "/")
        return value.replace(kubeflow_compile.IMAGE_PROJECT_DIR.rstrip("/") + "/",
                             str(self.project_root) + "/")


def spec_root(spec: Dict[str, Any]) -> str:
    """The --pipeline-root the spec was compiled with (defaultPipelineRoot is ROOT/pipelines/NAME)."""
    default = spec.get("defaultPipelineRoot", "")
    suffix = f"/pipelines/{spec['pipelineInfo']['name']}"
    return default[:-len(suffix)] if default.endswith(suffix) else default


def _parameter_values(task: Dict[str, Any], run_parameters: Dict[str, Any],
                      mounts: LocalMounts) -> Dict[str, Any]:
    values = {}
    for name, source in task.get("inputs", {}).get("parameters", {}).items():
        if "componentInputParameter" in source:
            value = run_parameters[source["componentInputParameter"]]
        elif "runtimeValue" in source:
            runtime = source["runtimeValue"]
            value = runtime.get("constant", runtime.get("constantValue", {}).get("stringValue"))
        else:
            raise RunLocalError(f"parameter {name!r}: only constants and pipeline parameters are "
                                f"supported here, got {sorted(source)}")
        values[name] = mounts.map(value)
    return values


def _upstream_artifact(record: MetadataRecord, artifact_id: str) -> Dict[str, Any]:
    """An artifact as the OSS driver hands it downstream: its id as name, custom properties as
    metadata, and the empty instanceSchema of a type read back from ML Metadata."""
    stored = record.data["artifacts"][artifact_id]
    return {"name": artifact_id, "uri": stored["uri"], "metadata": stored.get("metadata", {}),
            "type": {"instanceSchema": ""}}


def cache_key(executor_input: Dict[str, Any], container: Dict[str, Any]) -> str:
    """Inputs (artifact ids and parameter values), outputs (names and types), command, args and
    image, hashed (what driver.go's getFingerPrint feeds to the cache key)."""
    inputs = executor_input["inputs"]
    key = {
        "artifacts": {name: [a["name"] for a in lst["artifacts"]]
                      for name, lst in inputs.get("artifacts", {}).items()},
        "parameters": inputs.get("parameterValues", {}),
        "outputs": {name: [a["type"] for a in lst["artifacts"]]
                    for name, lst in executor_input["outputs"].get("artifacts", {}).items()},
        "command": container.get("command", []), "args": container.get("args", []),
        "image": container.get("image", ""),
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class TaskLaunch:
    """What one task's container runs, as the pod would get it: the image, the container's
    command and args with every placeholder resolved, and the container's own environment from
    the spec. A launcher (the local subprocess, or a container runtime) turns it into a process."""

    task: str
    image: str
    command: List[str]
    args: List[str]
    env: Dict[str, str]
    output_file: str


def task_launch(task_name: str, container: Dict[str, Any], component: Dict[str, Any],
                executor_input: Dict[str, Any], pipeline_name: str, pipeline_root: str,
                run_id: str) -> TaskLaunch:
    """The one place a task becomes image + command + args + env: placeholders (`{{$}}`,
    pipeline/task names, root, run id) resolved by kfp.local's own placeholder code."""
    from google.protobuf import json_format
    from kfp.local import executor_input_utils, placeholder_utils
    from kfp.pipeline_spec import pipeline_spec_pb2

    proto = json_format.ParseDict(executor_input, pipeline_spec_pb2.ExecutorInput())
    component_proto = json_format.ParseDict(component, pipeline_spec_pb2.ComponentSpec(),
                                            ignore_unknown_fields=True)
    as_dict = executor_input_utils.executor_input_to_dict(proto, component_proto)

    def resolve(parts: List[str]) -> List[str]:
        return placeholder_utils.replace_placeholders(
            list(parts), as_dict, pipeline_resource_name=pipeline_name,
            task_resource_name=task_name, pipeline_root=pipeline_root, unique_pipeline_id=run_id)

    return TaskLaunch(task_name, container.get("image", ""), resolve(container.get("command", [])),
                      resolve(container.get("args", [])),
                      {item["name"]: item.get("value", "") for item in container.get("env", [])},
                      executor_input["outputs"]["outputFile"])


# A launcher runs a TaskLaunch with its output going to the log file; it returns the exit code.
Launcher = Callable[[TaskLaunch, pathlib.Path], int]


@dataclasses.dataclass(frozen=True)
class LocalProcessLauncher:
    """Runs a task as a subprocess of this machine's Python: `python` in the container's command
    is this interpreter and the image's project directory is this checkout (on PYTHONPATH)."""

    project_root: pathlib.Path = settings.PROJECT_ROOT

    def environment(self, launch: TaskLaunch) -> Dict[str, str]:
        """This process's environment, the container's own variables, and the checkout first on
        PYTHONPATH."""
        env = {**os.environ, **launch.env}
        env["PYTHONPATH"] = os.pathsep.join(
            [str(self.project_root)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        env.setdefault("TF_USE_LEGACY_KERAS", "1")
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        return env

    def __call__(self, launch: TaskLaunch, log_path: pathlib.Path) -> int:
        """Runs the task to completion; stdout and stderr go to `log_path`."""
        command = launch.command + launch.args
        if command and command[0] in ("python", "python3"):
            command[0] = sys.executable
        with open(log_path, "wb") as log:
            return subprocess.run(command, stdout=log, stderr=subprocess.STDOUT,
                                  cwd=str(self.project_root), env=self.environment(launch),
                                  check=False).returncode


def run_spec(spec: Dict[str, Any], local_root: pathlib.Path,
             parameters: Optional[Dict[str, Any]] = None,
             project_root: pathlib.Path = settings.PROJECT_ROOT,
             stream: TextIO = sys.stdout, launcher: Optional[Launcher] = None) -> RunResult:
    """Runs every task of a compiled spec in topological order with `launcher` (default: a
    local subprocess); raises RunLocalError naming the task and its log when one fails (later
    tasks do not run, as on a cluster)."""
    launcher = launcher or LocalProcessLauncher(project_root)
    local_root = pathlib.Path(local_root).resolve()
    mounts = LocalMounts(spec_root(spec), local_root, project_root)
    pipeline_name = spec["pipelineInfo"]["name"]
    root_parameters = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    run_parameters = {name: definition.get("defaultValue")
                      for name, definition in root_parameters.items()}
    unknown = set(parameters or {}) - set(run_parameters)
    if unknown:
        raise RunLocalError(f"unknown run parameter(s) {sorted(unknown)}; the spec has "
                            f"{sorted(run_parameters)}")
    run_parameters.update(parameters or {})
    run_parameters = {name: mounts.map(value) for name, value in run_parameters.items()}

    pipeline_root = pathlib.Path(mounts.map(spec.get("defaultPipelineRoot", "")) or
                                 local_root / "pipelines" / pipeline_name)
    run_id = time.strftime("run-%Y%m%d-%H%M%S-") + os.urandom(3).hex()
    run_root = pipeline_root / pipeline_name / run_id
    record = MetadataRecord(local_root / RECORD_FILE)
    tasks = spec["root"]["dag"]["tasks"]
    outputs_by_task: Dict[str, Dict[str, str]] = {}
    results: List[TaskResult] = []
    for task_name in topological_order(tasks):
        task = tasks[task_name]
        component = spec["components"][task["componentRef"]["name"]]
        container = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
        task_root = run_root / task_name
        executor_input = {
            "inputs": {
                "parameterValues": _parameter_values(task, run_parameters, mounts),
                "artifacts": {
                    name: {"artifacts": [_upstream_artifact(record, outputs_by_task[
                        source["taskOutputArtifact"]["producerTask"]][
                        source["taskOutputArtifact"]["outputArtifactKey"]])]}
                    for name, source in task.get("inputs", {}).get("artifacts", {}).items()},
            },
            "outputs": {
                "artifacts": {
                    name: {"artifacts": [{"uri": str(task_root / name),
                                          "type": definition["artifactType"]}]}
                    for name, definition in
                    component.get("outputDefinitions", {}).get("artifacts", {}).items()},
                "outputFile": str(task_root / ".kfp_outputs" / "output_metadata.json"),
            },
        }
        executor_input["outputs"]["artifacts"][EXECUTOR_LOGS] = {"artifacts": [
            {"uri": str(task_root / EXECUTOR_LOGS), "type": dict(_SYSTEM_ARTIFACT)}]}
        fingerprint = cache_key(executor_input, container)
        cached = (record.cached_outputs(fingerprint)
                  if task.get("cachingOptions", {}).get("enableCache") else None)
        if cached is not None:
            outputs_by_task[task_name] = cached
            results.append(TaskResult(task_name, "cached", 0.0))
            record.add_execution(run_id=run_id, task=task_name, state="cached",
                                 fingerprint=fingerprint, outputs=cached, seconds=0.0)
            record.save()
            stream.write(f"  {task_name:<22} cached\n")
            stream.flush()
            continue

        launch = task_launch(task_name, container, component, executor_input, pipeline_name,
                             str(pipeline_root), run_id)
        log_path = task_root / EXECUTOR_LOGS
        log_path.parent.mkdir(parents=True, exist_ok=True)
        stream.write(f"  {task_name:<22} running ...")
        stream.flush()
        started = time.monotonic()
        returncode = launcher(launch, log_path)
        seconds = time.monotonic() - started
        if returncode != 0:
            stream.write(f" FAILED ({seconds:.1f}s)\n")
            record.add_execution(run_id=run_id, task=task_name, state="failed",
                                 fingerprint=fingerprint, outputs={}, seconds=seconds)
            record.save()
            tail = log_path.read_text(errors="replace").strip().splitlines()[-15:]
            raise RunLocalError(f"task {task_name} failed (exit code {returncode}); "
                                f"log: {log_path}\n" + "\n".join(tail))
        stream.write(f" done ({seconds:.1f}s)\n")
        outputs_by_task[task_name] = _record_outputs(record, executor_input)
        results.append(TaskResult(task_name, "executed", seconds, log_path))
        record.add_execution(run_id=run_id, task=task_name, state="executed",
                             fingerprint=fingerprint, outputs=outputs_by_task[task_name],
                             seconds=seconds)
        record.save()
    outputs = {task: {name: {**record.data["artifacts"][artifact_id], "id": artifact_id}
                      for name, artifact_id in names.items()}
               for task, names in outputs_by_task.items()}
    return RunResult(run_id, run_root, results, outputs)


def _record_outputs(record: MetadataRecord, executor_input: Dict[str, Any]) -> Dict[str, str]:
    """Each output artifact as the launcher publishes it: the provisioned one, updated with the
    URI and metadata the executor wrote to its output file."""
    output_file = pathlib.Path(executor_input["outputs"]["outputFile"])
    written = json.loads(output_file.read_text()).get("artifacts", {}) if output_file.exists() else {}
    ids = {}
    for name, artifact_list in executor_input["outputs"]["artifacts"].items():
        artifact = dict(artifact_list["artifacts"][0])
        update = (written.get(name, {}).get("artifacts") or [{}])[0]
        artifact["uri"] = update.get("uri") or artifact["uri"]
        artifact["metadata"] = {**artifact.get("metadata", {}), **update.get("metadata", {})}
        ids[name] = record.put_artifact(artifact)
    return ids


def format_times(result: RunResult) -> str:
    """Seconds per task, as printed after `tfxp kubeflow run-local`."""
    lines = [f"run {result.run_id}: {sum(t.seconds for t in result.tasks):.0f}s in tasks"]
    lines += [f"  {t.task:<22} {t.state:<8} {t.seconds:6.1f}s" for t in result.tasks]
    return "\n".join(lines)


def default_local_root(model: str, sample: bool) -> pathlib.Path:
    """The local folder that stands in for the spec's pipeline root (the bucket)."""
    home = settings.TFX_HOME
    return home / "kubeflow-local" / (f"{model}-sample" if sample else model)


def default_data_root(model: str, sample: bool) -> pathlib.Path:
    """The committed sample, or the prepared full data (RunLocalError when it was never
    prepared)."""
    from models import registry

    spec = registry.get(model)
    if sample:
        return pathlib.Path(spec.sample_dir)
    prepared = settings.PREPARED_ROOT / model
    if not prepared.is_dir():
        raise RunLocalError(f"no prepared data at {prepared}; run `tfxp data prepare --model "
                            f"{model}`, pass --sample, or --param data_root=DIR")
    return prepared


@dataclasses.dataclass
class PushOutcome:
    """What the Pusher task of a local run did: `version` None when nothing was pushed."""

    version: Optional[int]
    new_version: bool
    models_root: Optional[pathlib.Path]


def push_outcome(result: RunResult) -> PushOutcome:
    """What the Pusher task recorded: the version, and whether this run made it (a cached
    Pusher or an identical model already pushed made nothing new)."""
    for task, outputs in result.outputs.items():
        pushed = outputs.get("pushed_model")
        if pushed is None:
            continue
        cached = result.task(task).state == "cached"
        metadata = pushed.get("metadata", {})
        if not metadata.get("pushed"):
            return PushOutcome(None, False, None)
        destination = pathlib.Path(metadata["pushed_destination"])
        return PushOutcome(int(metadata["pushed_version"]),
                           not cached and not metadata.get("reused_existing_version"),
                           destination.parent.parent)
    return PushOutcome(None, False, None)


def run_model(model: str, sample: bool = False, spec_file: Optional[str] = None,
              local_root: Optional[str] = None, parameters: Optional[Dict[str, Any]] = None,
              stream: TextIO = sys.stdout, container: Optional[str] = None) -> RunResult:
    """`tfxp kubeflow run-local`: the model's compiled spec on the sample or the prepared data;
    the spec's Pusher labels a new version in the serving config (stable first, then canary)."""
    spec_path = pathlib.Path(spec_file) if spec_file else kubeflow_compile.spec_path(model, sample)
    spec = load_spec(spec_path)
    root = pathlib.Path(local_root) if local_root else default_local_root(model, sample)
    parameters = dict(parameters or {})
    parameters.setdefault(kubeflow_compile.DATA_ROOT_PARAMETER,
                          str(default_data_root(model, sample)))
    stream.write(f"run-local {spec_path} (root {root}; not an orchestrator: a dry run by KFP v2's "
                 "rules)\n")
    result = run_spec(spec, root, parameters, stream=stream,
                      launcher=_launcher(container, spec, root, parameters))
    stream.write(format_times(result) + "\n")
    baseline_task = next((task for task, o in result.outputs.items() if "baseline" in o), None)
    if baseline_task is not None:
        version = result.outputs[baseline_task]["baseline"].get("metadata", {}).get(
            "stable_version")
        what = f"stable version {int(version)}" if version else "none, no stable version yet"
        cached = result.task(baseline_task).state == "cached"
        stream.write(f"  baseline: {what}{' (cached with its candidate)' if cached else ''}\n")
    pushed = push_outcome(result)
    if pushed.version is None:
        stream.write("  pushed: nothing\n")
    elif pushed.new_version:
        from serving.rollout import canary

        state = canary.status(pushed.models_root).get(model, {})
        stream.write(f"  pushed: version {pushed.version}; serving labels: "
                     f"stable={state.get('stable')} canary={state.get('canary')}\n")
    else:
        stream.write(f"  pushed: version {pushed.version} (already pushed)\n")
    return result


def _launcher(container: Optional[str], spec: Dict[str, Any], root: pathlib.Path,
              parameters: Dict[str, Any]):
    """None (tasks in-process, LocalProcessLauncher), or the `--container podman` launcher: the
    local root at the spec's pipeline root, the data root read-only."""
    if container is None:
        return None
    from kubeflow import container as kubeflow_container

    if container != "podman":
        raise RunLocalError(f"--container {container!r}: only podman is supported")
    return kubeflow_container.PodmanLauncher(
        spec_root(spec), root.resolve(), settings.PROJECT_ROOT,
        read_only=[pathlib.Path(parameters[kubeflow_compile.DATA_ROOT_PARAMETER])])
