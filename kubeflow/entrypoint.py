"""Every Kubeflow task's container entrypoint: `python -m kubeflow.entrypoint <TFX's arguments>`.

One compiled spec runs on open-source KFP v2 (backend >= 2.5) and on Vertex AI Pipelines. The
two backends write the ExecutorInput (`{{$}}`) differently, and TFX 1.16's
`kubeflow_v2_run_executor` only reads Vertex's shape (tensorflow/tfx#7768). This module turns
either shape into the one TFX reads, then hands over to TFX's entrypoint unchanged:

- Input artifacts from upstream tasks arrive on OSS with an empty `instanceSchema`: the driver
  reads them back from ML Metadata without their schema (metadata/client.go
  `GetOutputArtifactsByExecutionId` leaves `Schema` empty, `ToRuntimeArtifact` copies it into
  `instanceSchema`; driver.go `resolveUpstreamArtifacts` passes them on). They take the type
  the task's own input spec declares, which the compiled spec passes to every task
  (`--json_serialized_inputs_spec_args`).
- The OSS launcher adds an `executor-logs` output of schema title `system.Artifact` (on by
  default, `--publish_logs`). Outputs of a `system.*` type are not TFX artifacts: they are left
  out of what TFX sees (the launcher writes and uploads the logs itself).
- Remote URIs (`gs://`, `minio://`, `s3://`) are read and written under the launcher's mount
  points (launcher_v2.go `getPlaceholders` and `uploadOutputArtifacts`: downloads to, uploads
  from `/gcs/`, `/minio/`, `/s3/`; the KFP SDK's executor uses the same mapping). The executor
  output names the remote URIs again, so ML Metadata records where the data really is.
- The project's own artifact types (e.g. the data gate's `tfxp.DataGateResult`): TFX's V2
  compiler only accepts a `<namespace>.<Name>` title for a custom type, while its entrypoint
  imports the title as a class path. Their titles are turned into their class paths.
- ExampleGen's span, version and input fingerprint come from TFX's `preCacheCheck` hook on Vertex
  (the hook writes them to the task's output file before the executor runs). The OSS backend
  does not run that hook, so when the file is not there this runs the same driver first.
"""
import argparse
import copy
import json
import os
from typing import Any, Dict, List, Optional, Set, Tuple

import yaml

from components import mounts

SYSTEM_TYPE_PREFIX = "system."
FILE_BASED_EXAMPLE_GEN_PARAMETER = "input_base"


class ExecutorInputError(ValueError):
    """An ExecutorInput this entrypoint cannot make valid; the message says what is missing."""


def schema_title(artifact_type: Optional[Dict[str, Any]]) -> str:
    """The title of an ArtifactTypeSchema given as JSON (schemaTitle or instanceSchema's title);
    empty when the type is missing or its instanceSchema is empty."""
    if not artifact_type:
        return ""
    if artifact_type.get("schemaTitle"):
        return artifact_type["schemaTitle"]
    schema = artifact_type.get("instanceSchema") or ""
    parsed = yaml.safe_load(schema) if schema.strip() else None
    return (parsed or {}).get("title", "") if isinstance(parsed, dict) else ""


def project_artifact_classes() -> Dict[str, str]:
    """Title -> class path of the project's custom artifact types."""
    from components.data_gate import DataGateResult

    return {cls.TYPE_NAME: f"{cls.__module__}.{cls.__name__}" for cls in (DataGateResult,)}


def _importable_type(artifact: Dict[str, Any], classes: Dict[str, str]) -> None:
    class_path = classes.get(schema_title(artifact.get("type")))
    if class_path:
        artifact["type"] = {"schemaTitle": class_path}


def _declared_type(inputs_spec: Dict[str, Any], name: str) -> Dict[str, Any]:
    declared = inputs_spec.get("artifacts", {}).get(name, {}).get("artifactType")
    if not schema_title(declared):
        raise ExecutorInputError(
            f"input artifact {name!r} arrived without a type and the task's input spec "
            "(--json_serialized_inputs_spec_args) declares none; recompile the spec with "
            "`tfxp kubeflow compile` so every task carries its input spec")
    return declared


def normalise(executor_input: Dict[str, Any], inputs_spec: Optional[Dict[str, Any]]
              ) -> Tuple[Dict[str, Any], List[str]]:
    """The ExecutorInput (JSON) as TFX reads it, and the names of the outputs left out.

    Inputs without a TFX type (missing, empty instanceSchema, or a `system.*` title) take the
    type from `inputs_spec`; `system.*` outputs are dropped; the project's custom types get their
    class paths; remote URIs become mount paths."""
    fixed = copy.deepcopy(executor_input)
    inputs_spec = inputs_spec or {}
    classes = project_artifact_classes()
    for name, artifact_list in fixed.get("inputs", {}).get("artifacts", {}).items():
        for artifact in artifact_list.get("artifacts", []):
            title = schema_title(artifact.get("type"))
            if not title or title.startswith(SYSTEM_TYPE_PREFIX):
                artifact["type"] = _declared_type(inputs_spec, name)
            _importable_type(artifact, classes)
            if artifact.get("uri"):
                artifact["uri"] = mounts.local_path(artifact["uri"])
    outputs = fixed.get("outputs", {}).get("artifacts", {})
    dropped = sorted(name for name, artifact_list in outputs.items()
                     if any(schema_title(a.get("type")).startswith(SYSTEM_TYPE_PREFIX)
                            for a in artifact_list.get("artifacts", [])))
    for name in dropped:
        del outputs[name]
    for artifact_list in outputs.values():
        for artifact in artifact_list.get("artifacts", []):
            _importable_type(artifact, classes)
            if artifact.get("uri"):
                artifact["uri"] = mounts.local_path(artifact["uri"])
    return fixed, dropped


def remote_uris(executor_input: Dict[str, Any]) -> Set[str]:
    """The remote URIs (gs://, minio://, s3://) of every artifact the backend handed over."""
    found = set()
    for side in ("inputs", "outputs"):
        for artifact_list in executor_input.get(side, {}).get("artifacts", {}).values():
            for artifact in artifact_list.get("artifacts", []):
                uri = artifact.get("uri", "")
                if mounts.local_path(uri) != uri:
                    found.add(uri)
    return found


def restore_remote_uris(executor_output: Dict[str, Any], original: Set[str]) -> Dict[str, Any]:
    """Output artifacts written under a mount point get back the remote URI they were given."""
    by_local = {mounts.local_path(uri): uri for uri in original}
    for artifact_list in executor_output.get("artifacts", {}).values():
        for artifact in artifact_list.get("artifacts", []):
            uri = artifact.get("uri", "")
            if uri in by_local:
                artifact["uri"] = by_local[uri]
            elif original:
                artifact["uri"] = mounts.remote_uri(uri)
    return executor_output


def merge_driver_metadata(executor_output: Dict[str, Any], driver_output: Dict[str, Any]
                          ) -> Dict[str, Any]:
    """The driver's artifact metadata (span, version, input_fingerprint) under the executor's:
    Vertex merges the hook's output into the artifact itself; on OSS this does it."""
    for name, artifact_list in driver_output.get("artifacts", {}).items():
        written = executor_output.get("artifacts", {}).get(name, {}).get("artifacts", [])
        for driver_artifact, artifact in zip(artifact_list.get("artifacts", []), written):
            artifact["metadata"] = {**driver_artifact.get("metadata", {}),
                                    **artifact.get("metadata", {})}
    return executor_output


def is_file_based_example_gen(executor_class_path: str, executor_input: Dict[str, Any]) -> bool:
    """True for a file-based ExampleGen task: its span and fingerprint must be recorded here,
    since only Vertex AI runs the driver that does it otherwise."""
    from tfx.components.example_gen import base_example_gen_executor
    from tfx.utils import import_utils

    executor_class = import_utils.import_class_by_path(executor_class_path)
    return (issubclass(executor_class, base_example_gen_executor.BaseExampleGenExecutor)
            and FILE_BASED_EXAMPLE_GEN_PARAMETER in
            executor_input.get("inputs", {}).get("parameterValues", {}))


def record_span_and_fingerprint(invocation_args: str, inputs_spec_args: Optional[str]) -> None:
    """What Vertex's preCacheCheck hook does: TFX's file-based ExampleGen driver computes span,
    version and input fingerprint and writes them to the task's output file, which TFX's
    entrypoint then reads as execution properties."""
    from tfx.orchestration.kubeflow.v2.file_based_example_gen import driver

    driver.main(argparse.Namespace(json_serialized_invocation_args=invocation_args,
                                   json_serialized_inputs_spec_args=inputs_spec_args))


def _parse_flags(argv: List[str]) -> Tuple[argparse.Namespace, List[str]]:
    """TFX's own flags; everything else goes to the executor as Beam arguments."""
    from absl.flags import argparse_flags

    parser = argparse_flags.ArgumentParser(
        description="Runs a TFX executor from an ExecutorInput written by OSS KFP v2 or Vertex AI.")
    parser.add_argument("--executor_class_path", required=True)
    parser.add_argument("--json_serialized_invocation_args", required=True)
    parser.add_argument("--json_serialized_inputs_spec_args")
    return parser.parse_known_args(argv[1:])


def run(args: argparse.Namespace, beam_args: List[str]) -> None:
    """Normalises the ExecutorInput, runs TFX's entrypoint, then restores the remote URIs."""
    from tfx.dsl.io import fileio
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor

    executor_input = json.loads(args.json_serialized_invocation_args)
    inputs_spec = (json.loads(args.json_serialized_inputs_spec_args)
                   if args.json_serialized_inputs_spec_args else None)
    fixed, _ = normalise(executor_input, inputs_spec)
    fixed_args = argparse.Namespace(**{**vars(args),
                                       "json_serialized_invocation_args": json.dumps(fixed)})
    output_file = fixed.get("outputs", {}).get("outputFile", "")
    driver_output = None
    if (output_file and not fileio.exists(output_file)
            and is_file_based_example_gen(args.executor_class_path, fixed)):
        record_span_and_fingerprint(fixed_args.json_serialized_invocation_args,
                                    args.json_serialized_inputs_spec_args)
        driver_output = _read_json(output_file)
    kubeflow_v2_run_executor.main((fixed_args, beam_args))
    original = remote_uris(executor_input)
    if (driver_output or original) and output_file and fileio.exists(output_file):
        executor_output = _read_json(output_file)
        if driver_output:
            merge_driver_metadata(executor_output, driver_output)
        restore_remote_uris(executor_output, original)
        with fileio.open(output_file, "w") as f:
            f.write(json.dumps(executor_output, indent=2))


def _read_json(path: str) -> Dict[str, Any]:
    from tfx.dsl.io import fileio

    with fileio.open(path, "r") as f:
        return json.loads(f.read())


def main(parsed: Tuple[argparse.Namespace, List[str]]) -> None:
    """absl's entry point: the legacy Keras the pipeline trains with, then `run`."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    run(*parsed)


if __name__ == "__main__":
    from absl import app

    app.run(main, flags_parser=_parse_flags)
