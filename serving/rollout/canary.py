"""Canary lifecycle over models.config: status, start, set-weight, promote, rollback, post-push.

The version state lives in the config itself (`specific` versions + `stable`/`canary` version
labels); the share of traffic the canary gets lives in router.json (serving.rollout.router). Every change
regenerates the two group configs (stable.config, canary.config) and, when the local router runs,
reloads the groups (HandleReloadConfigRequest, which returns once the versions are served) and
then nginx. Steps are ordered so that no request meets a group without its version: promote first
sends all of the model's traffic to the canary group, then moves stable, then routes back to the
stable group; rollback first routes everything to stable, then drops the canary. Every rewrite is
validated against the protos and the disk, then written atomically.
"""
import functools
import pathlib
from typing import Dict, Optional

from data import settings
from serving.config import configs, file_lock
from serving.config.configs import CANARY, STABLE, ConfigError
from serving.rollout import router

POLICIES = ("canary", "stable")
CONFIG_LOCK = ".config.lock"


def _serialized(change):
    """One change at a time per models root: a second `tfxp canary` (or a push finishing) waits
    instead of interleaving its config writes and router reloads with the first."""
    @functools.wraps(change)
    def run(models_root, *args, **kwargs):
        root = pathlib.Path(models_root)
        with file_lock.exclusive(root / CONFIG_LOCK, f"tfxp canary {change.__name__}"):
            return change(models_root, *args, **kwargs)
    return run


def _load(models_root: pathlib.Path):
    path = models_root / configs.MODELS_CONFIG
    previous = configs.read_models_config(path) if path.exists() else None
    return configs.build_models_config(models_root, previous)


def _entry(config, models_root: pathlib.Path, name: str):
    configs.check_model_name(name)
    entry = configs.model_entry(config, name)
    if entry is None:
        on_disk = ", ".join(configs.scan_models(models_root)) or "none"
        raise ConfigError(f"model {name!r} has no pushed versions under {models_root} "
                          f"(models on disk: {on_disk})")
    return entry


def _describe(entry, models_root: pathlib.Path) -> Dict:
    labels = dict(entry.version_labels)
    weight = router.read_weights(models_root).get(entry.name, 0) if CANARY in labels else 0
    shadow = router.read_shadows(models_root).get(entry.name)
    return {**({"shadow": shadow} if shadow is not None else {}),
            "stable": labels.get(STABLE), "canary": labels.get(CANARY), "weight": weight,
            "served": sorted(entry.model_version_policy.specific.versions),
            "versions": configs.scan_versions(configs.resolve_base_path(entry.base_path,
                                                                        models_root))}


def status(models_root: pathlib.Path = settings.SERVING_ROOT) -> Dict[str, Dict]:
    """Per model: stable, canary, served versions and versions on disk (read-only)."""
    config = _load(models_root)
    return {entry.name: _describe(entry, models_root)
            for entry in config.model_config_list.config}


def _save(models_root, config, entry) -> Dict:
    configs.write_models_config(models_root, config)
    router.reload_groups(models_root, config)
    return {entry.name: _describe(entry, models_root)}


def _route(models_root: pathlib.Path, name: str, weight: Optional[float]) -> None:
    """Set (or with None drop) the model's canary weight and reload a running router."""
    weights = router.read_weights(models_root)
    if weight is None:
        weights.pop(name, None)
    else:
        weights[name] = router.check_weight(weight)
    router.write_weights(models_root, weights)
    router.reload_router(models_root)


def _serve_only(models_root: pathlib.Path, config, entry, version: int,
                weight_while_switching: float) -> Dict:
    """Serve only `version` of the model (labelled stable) and drop its canary weight. Meanwhile
    the model's traffic goes `weight_while_switching` percent to the canary group, chosen by the
    caller as the group that serves `version` throughout, so no request meets a group without it."""
    configs.set_served_versions(entry, version)
    configs.validate_models_config(config, models_root)
    _route(models_root, entry.name, weight_while_switching)
    result = _save(models_root, config, entry)
    _route(models_root, entry.name, None)
    return result


def _set_shadow(models_root: pathlib.Path, name: str, version: Optional[int]) -> bool:
    """Put the model in shadow mode on `version` (None: take it out); True if that changed
    anything. Writes shadow.json only; the caller reloads groups and router."""
    shadows = router.read_shadows(models_root)
    previous = shadows.pop(name, None)
    if version is not None:
        shadows[name] = int(version)
    if previous == version:
        return False
    router.write_shadows(models_root, shadows)
    return True


@_serialized
def shadow(models_root: pathlib.Path, name: str, version: Optional[int] = None) -> Dict:
    """Shadow mode: the newest pushed version (or `version`) becomes canary with no weight; the
    stable group answers every client and the canary group gets a copy of each request (nginx
    `mirror`), whose answers and failures never reach a client. `start` or `stop_shadow` end it."""
    if STABLE not in _entry(_load(models_root), models_root, name).version_labels:
        raise ConfigError(f"model {name!r} has no stable version to answer clients; shadow "
                          "mode needs one (push a first version first)")
    _start(models_root, name, version, 0)
    entry = _entry(_load(models_root), models_root, name)
    _set_shadow(models_root, name, entry.version_labels[CANARY])
    router.reload_groups(models_root)
    router.reload_router(models_root)
    return {name: _describe(entry, models_root)}


@_serialized
def stop_shadow(models_root: pathlib.Path, name: str) -> Dict:
    """End shadow mode: no more copies; the version stays canary with no weight."""
    entry = _entry(_load(models_root), models_root, name)
    if not _set_shadow(models_root, name, None):
        raise ConfigError(f"model {name!r} is not in shadow mode")
    router.reload_router(models_root)
    router.reload_groups(models_root)
    return {name: _describe(entry, models_root)}


@_serialized
def start(models_root: pathlib.Path, name: str, version: Optional[int] = None,
          weight: float = 0) -> Dict:
    """The newest pushed version (or `version`) becomes canary with `weight` percent of the
    model's unlabeled traffic; stable is unchanged. Ends shadow mode."""
    return _start(models_root, name, version, weight)


def _end_shadow(models_root: pathlib.Path, name: str) -> None:
    """Stop mirroring the model's traffic (a weighted start, promote and rollback end shadow
    mode) before its canary changes."""
    if _set_shadow(models_root, name, None):
        router.reload_router(models_root)


def _start(models_root: pathlib.Path, name: str, version: Optional[int], weight: float) -> Dict:
    """`start` without the lock (shadow holds it)."""
    weight = router.check_weight(weight)
    _end_shadow(models_root, name)
    config = _load(models_root)
    entry = _entry(config, models_root, name)
    on_disk = configs.scan_versions(configs.resolve_base_path(entry.base_path, models_root))
    stable = entry.version_labels.get(STABLE)
    candidate = on_disk[-1] if version is None else int(version)
    if candidate not in on_disk:
        raise ConfigError(f"model {name!r} has no version {candidate} on disk (versions: {on_disk})")
    if stable is None:
        configs.set_served_versions(entry, candidate)
    elif candidate == stable:
        raise ConfigError(f"version {candidate} of {name!r} is already stable; push a new version "
                          "or pass --version")
    else:
        configs.set_served_versions(entry, stable, candidate)
    _route(models_root, name, 0)
    result = _save(models_root, config, entry)
    _route(models_root, name, weight if stable is not None else None)
    result[name]["weight"] = weight if stable is not None else 0
    return result


@_serialized
def set_weight(models_root: pathlib.Path, name: str, weight: float) -> Dict:
    """Send `weight` percent of the model's unlabeled traffic to its canary."""
    weight = router.check_weight(weight)
    config = _load(models_root)
    entry = _entry(config, models_root, name)
    if CANARY not in entry.version_labels:
        raise ConfigError(f"model {name!r} has no canary to route traffic to (start one with "
                          "`tfxp canary start`)")
    _route(models_root, name, weight)
    return {name: _describe(entry, models_root)}


@_serialized
def promote(models_root: pathlib.Path, name: str) -> Dict:
    """The canary becomes stable; the old stable is no longer served."""
    config = _load(models_root)
    entry = _entry(config, models_root, name)
    canary = entry.version_labels.get(CANARY)
    if canary is None:
        raise ConfigError(f"model {name!r} has no canary to promote (start one with "
                          "`tfxp canary start`)")
    _end_shadow(models_root, name)
    return _serve_only(models_root, config, entry, canary, 100)


@_serialized
def rollback(models_root: pathlib.Path, name: str) -> Dict:
    """Drop the canary if there is one; otherwise move stable back to the previous version on disk."""
    config = _load(models_root)
    entry = _entry(config, models_root, name)
    stable = entry.version_labels.get(STABLE)
    if entry.version_labels.get(CANARY) is not None:
        _end_shadow(models_root, name)
        return _serve_only(models_root, config, entry, stable, 0)
    on_disk = configs.scan_versions(configs.resolve_base_path(entry.base_path, models_root))
    older = [v for v in on_disk if stable is not None and v < stable]
    if not older:
        raise ConfigError(f"model {name!r}: no canary to drop and no version older than stable "
                          f"{stable} on disk (versions: {on_disk})")
    configs.set_served_versions(entry, older[-1])
    return _save(models_root, config, entry)


@_serialized
def on_push(models_root: pathlib.Path, model_name: str, version: int,
            policy: str = "canary") -> dict:
    """Called by the pipeline runner after a successful push; regenerates models.config.

    The first version ever pushed becomes stable; later ones become canary (policy "canary") or
    replace stable directly (policy "stable"). Holds the models root's config lock, so two
    pipelines finishing together do not overwrite each other's labels.
    """
    if policy not in POLICIES:
        raise ConfigError(f"unknown push policy {policy!r}; choose one of {POLICIES}")
    models_root = pathlib.Path(models_root)
    configs.check_model_name(model_name)
    return _label_pushed_version(models_root, model_name, int(version), policy)


def _label_pushed_version(models_root: pathlib.Path, model_name: str, version: int,
                          policy: str) -> dict:
    if version not in configs.scan_versions(models_root / model_name):
        raise ConfigError(f"pushed version {version} of {model_name!r} is not a SavedModel under "
                          f"{models_root / model_name}")
    path = models_root / configs.MODELS_CONFIG
    known = path.exists() and configs.model_entry(configs.read_models_config(path),
                                                  model_name) is not None
    config = _load(models_root)
    entry = configs.model_entry(config, model_name)
    stable = entry.version_labels.get(STABLE) if known else None
    if stable is None or stable == version or policy == "stable":
        configs.set_served_versions(entry, version)
        role = STABLE
    else:
        configs.set_served_versions(entry, stable, version)
        role = CANARY
    _route(models_root, model_name, 0 if role == CANARY else None)
    result = _save(models_root, config, entry)[model_name]
    configs.write_aux_configs(models_root)
    result.update({"model": model_name, "version": version, "role": role,
                   "config": str(models_root / configs.MODELS_CONFIG)})
    return result
