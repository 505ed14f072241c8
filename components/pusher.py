"""TFX's Pusher with small consecutive integer versions, no duplicate pushes, and one writer at a
time per destination.

TFX's Pusher names versions by Unix timestamp and pushes the same model again whenever the
Evaluator re-blesses it (for example on an unchanged re-run, where the baseline is the candidate
itself). This executor writes ``<base_directory>/<max existing version + 1>/`` and reuses the
existing version when a byte-identical SavedModel is already there.

Every push holds ``<base_directory>/.push.lock`` (serving.config.file_lock) while it picks the version
number and writes it, so two pipelines, or two machines sharing the volume, never write the same
number. The copy goes into a hidden staging folder (TF Serving ignores non-numeric folders) that
is renamed into place, so a version folder is either complete or absent; a staging folder left by
a killed push is removed by the next push. A destination that cannot be written raises
PushDestinationError naming it.

The Pusher also labels a new version in `<models root>/models.config` (serving.rollout.canary.on_push:
the first version becomes stable, later ones canary, or stable with rollout "stable"), inside the
pipeline, so that every runner — Kubeflow clusters included — leaves a `stable` version for the
next run's StableBaseline and the drift gate.
"""
import json
import os
import pathlib
import shutil
from typing import Any, Dict, List, Optional, Tuple

from absl import logging
from tfx import types
from tfx.components import Pusher
from tfx.components.pusher import executor as tfx_pusher_executor
from tfx.dsl.components.base import executor_spec
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, proto_utils

from components import mounts
from serving.config import configs, file_lock
from serving.rollout import canary

REUSED_VERSION_KEY = "reused_existing_version"
SERVING_LABELS_KEY = "serving_labels"
ROLLOUT_KEY = "rollout"
ROLLOUTS = ("canary", "stable", "none")
PUSH_LOCK = ".push.lock"
STAGING_PREFIX = ".incoming-"
_IDENTITY_FILES = ("fingerprint.pb", "saved_model.pb")
# The PushedModel custom properties TFX's own Pusher records and its consumers read.
PUSHED_KEY, PUSHED_DESTINATION_KEY, PUSHED_VERSION_KEY = (
    "pushed", "pushed_destination", "pushed_version")


class PushDestinationError(RuntimeError):
    """The push destination cannot be written (read-only, full, not a folder)."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"cannot write to the push destination {path}: {reason}; "
                         "nothing was pushed")
        self.path = path
        self.reason = reason


def mark_pushed(model_push: types.Artifact, destination: str, version: int) -> None:
    """Record a push on the PushedModel artifact the way TFX's Pusher does."""
    model_push.set_int_custom_property(PUSHED_KEY, 1)
    model_push.set_string_custom_property(PUSHED_DESTINATION_KEY, destination)
    model_push.set_string_custom_property(PUSHED_VERSION_KEY, str(version))


def mark_not_pushed(model_push: types.Artifact) -> None:
    """Record on the PushedModel artifact that nothing was pushed, as TFX's Pusher does."""
    model_push.set_int_custom_property(PUSHED_KEY, 0)


def _identity(model_dir: pathlib.Path) -> Optional[bytes]:
    for name in _IDENTITY_FILES:
        path = model_dir / name
        if path.is_file():
            return name.encode() + b":" + path.read_bytes()
    return None


def find_identical_version(base_directory: pathlib.Path, model_path: str) -> Optional[int]:
    """The newest version under `base_directory` whose SavedModel is byte-identical to the
    one at `model_path` (same fingerprint.pb, else saved_model.pb), or None."""
    identity = _identity(pathlib.Path(model_path))
    if identity is None:
        return None
    for version, path in reversed(configs.version_dirs(base_directory).items()):
        if _identity(path) == identity:
            return version
    return None


def remove_abandoned_staging(base_directory: pathlib.Path) -> List[str]:
    """Staging folders of pushes that were killed mid-copy (call while holding the push lock)."""
    removed = []
    for path in base_directory.glob(STAGING_PREFIX + "*"):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    return removed


def copy_model_atomically(model_path: str, base_directory: pathlib.Path, version: int) -> str:
    """Copies the model into `base_directory/<version>` through a staging folder and one
    rename, so TF Serving never sees a half-copied version. Returns the version folder."""
    serving_path = base_directory / str(version)
    staging = base_directory / f"{STAGING_PREFIX}{version}-{os.getpid()}"
    try:
        io_utils.copy_dir(model_path, str(staging))
        os.rename(staging, serving_path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return str(serving_path)


def push_model(model_path: str, base_directory: str) -> Tuple[int, str, bool]:
    """(version, its folder, whether an identical earlier version was reused)."""
    base = pathlib.Path(base_directory)
    try:
        base.mkdir(parents=True, exist_ok=True)
        with file_lock.exclusive(
                base / PUSH_LOCK, f"pushing a model to {base}",
                on_wait=lambda holder: logging.info("Waiting for the push lock held by %s.",
                                                    holder.describe())):
            abandoned = remove_abandoned_staging(base)
            if abandoned:
                logging.info("Removed staging folders of interrupted pushes: %s", abandoned)
            version = find_identical_version(base, model_path)
            if version is not None:
                return version, str(configs.version_dirs(base)[version]), True
            version = (configs.scan_versions(base) or [0])[-1] + 1
            while (base / str(version)).exists():  # a numbered folder that holds no SavedModel
                version += 1
            return version, copy_model_atomically(model_path, base, version), False
    except OSError as error:
        raise PushDestinationError(str(base), error.strerror or str(error)) from error


class Executor(tfx_pusher_executor.Executor):
    """Pushes a blessed model to the next integer version under the filesystem destination."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        """TFX executor override: pushes a blessed model as a new numbered version (or reuses an
        identical one) and records it on the PushedModel artifact."""
        model_push = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.PUSHED_MODEL_KEY])
        if not self.CheckBlessing(input_dict):
            mark_not_pushed(model_push)
            return
        model_path = self.GetModelPath(input_dict)
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(
            exec_properties[standard_component_specs.PUSH_DESTINATION_KEY], destination)
        if destination.WhichOneof("destination") != "filesystem":
            raise NotImplementedError("this Pusher only pushes to a filesystem destination")
        base_directory = mounts.local_path(destination.filesystem.base_directory)
        version, serving_path, reused = push_model(model_path, base_directory)
        model_push.set_int_custom_property(REUSED_VERSION_KEY, int(reused))
        if reused:
            logging.info("Model is identical to version %d at %s; not pushing it again.",
                         version, serving_path)
        else:
            logging.info("Model written to serving path %s.", serving_path)
        io_utils.copy_dir(model_path, model_push.uri)
        mark_pushed(model_push, serving_path, version)
        rollout = json.loads(exec_properties.get(
            standard_component_specs.CUSTOM_CONFIG_KEY) or "null") or {}
        rollout = rollout.get(ROLLOUT_KEY, "canary")
        if not reused and rollout != "none":
            model_push.set_string_custom_property(
                SERVING_LABELS_KEY, label_pushed_version(base_directory, version, rollout))


def label_pushed_version(base_directory: str, version: int, rollout: str) -> str:
    """Label a new version in the models.config beside the destination; returns the labels as
    'stable=1 canary=2' (the version folder is already complete, so a failure here leaves a pushed
    but unlabelled version that no server is told to load)."""
    base = pathlib.Path(base_directory)
    state = canary.on_push(base.parent, base.name, version, policy=rollout)
    return " ".join(f"{label}={state[label] if state.get(label) is not None else '-'}"
                    for label in (configs.STABLE, configs.CANARY))


class VersionedPusher(Pusher):
    """Pusher whose executor writes consecutive integer versions and labels a new one in the
    serving config by `rollout` ("canary", "stable" or "none"; see module docstring)."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, rollout: str = "canary", **kwargs):
        if rollout not in ROLLOUTS:
            raise ValueError(f"rollout must be one of {ROLLOUTS}, got {rollout!r}")
        super().__init__(custom_config={ROLLOUT_KEY: rollout}, **kwargs)
