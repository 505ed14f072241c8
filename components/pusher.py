"""TFX's Pusher with small consecutive integer versions and no duplicate pushes.

TFX's Pusher names versions by Unix timestamp and pushes the same model again whenever the
Evaluator re-blesses it (for example on an unchanged re-run, where the baseline is the candidate
itself). This executor writes ``<base_directory>/<max existing version + 1>/``, atomically
(copy into a hidden temporary directory, then rename: TF Serving ignores non-numeric
directories), and reuses the existing version when a byte-identical SavedModel is already there.
"""
import os
from typing import Any, Dict, List, Optional

from absl import logging
from tfx import types
from tfx.components.pusher import executor as tfx_pusher_executor
from tfx.components import Pusher
from tfx.dsl.components.base import executor_spec
from tfx.dsl.io import fileio
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, proto_utils

REUSED_VERSION_KEY = "reused_existing_version"
_IDENTITY_FILES = ("fingerprint.pb", "saved_model.pb")


def integer_versions(base_directory: str) -> List[int]:
    if not fileio.exists(base_directory):
        return []
    return sorted(int(name.rstrip("/")) for name in fileio.listdir(base_directory)
                  if name.rstrip("/").isdigit())


def _identity(model_dir: str) -> Optional[bytes]:
    for name in _IDENTITY_FILES:
        path = os.path.join(model_dir, name)
        if fileio.exists(path):
            with fileio.open(path, "rb") as f:
                return name.encode() + b":" + f.read()
    return None


def find_identical_version(base_directory: str, model_path: str) -> Optional[int]:
    identity = _identity(model_path)
    if identity is None:
        return None
    for version in reversed(integer_versions(base_directory)):
        if _identity(os.path.join(base_directory, str(version))) == identity:
            return version
    return None


def copy_model_atomically(model_path: str, base_directory: str, version: int) -> str:
    serving_path = os.path.join(base_directory, str(version))
    staging = os.path.join(base_directory, f".incoming-{version}")
    if fileio.exists(staging):
        fileio.rmtree(staging)
    io_utils.copy_dir(model_path, staging)
    fileio.rename(staging, serving_path)
    return serving_path


class Executor(tfx_pusher_executor.Executor):
    """Pushes a blessed model to the next integer version under the filesystem destination."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        model_push = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.PUSHED_MODEL_KEY])
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(model_push)
            return
        model_path = self.GetModelPath(input_dict)
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(
            exec_properties[standard_component_specs.PUSH_DESTINATION_KEY], destination)
        if destination.WhichOneof("destination") != "filesystem":
            raise NotImplementedError("this Pusher only pushes to a filesystem destination")
        base_directory = destination.filesystem.base_directory
        fileio.makedirs(base_directory)

        version = find_identical_version(base_directory, model_path)
        if version is not None:
            serving_path = os.path.join(base_directory, str(version))
            model_push.set_int_custom_property(REUSED_VERSION_KEY, 1)
            logging.info("Model is identical to version %d at %s; not pushing it again.",
                         version, serving_path)
        else:
            version = (integer_versions(base_directory) or [0])[-1] + 1
            serving_path = copy_model_atomically(model_path, base_directory, version)
            model_push.set_int_custom_property(REUSED_VERSION_KEY, 0)
            logging.info("Model written to serving path %s.", serving_path)
        io_utils.copy_dir(model_path, model_push.uri)
        self._MarkPushed(model_push, pushed_destination=serving_path, pushed_version=str(version))


class VersionedPusher(Pusher):
    """Pusher whose executor writes consecutive integer versions (see module docstring)."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)
