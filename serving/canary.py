"""Canary lifecycle over models.config: status, start, promote, rollback, and the post-push hook.

The state lives in the config itself (`specific` versions + `stable`/`canary` version labels), so
the real tensorflow_model_server and the local server both see every change by config polling or
HandleReloadConfigRequest. Every rewrite is validated against the protos and the disk, then
written atomically (configs.write_models_config).
"""
import pathlib
from typing import Dict, Optional

from serving import configs, file_lock
from serving.configs import CANARY, STABLE, ConfigError

POLICIES = ("canary", "stable")
CONFIG_LOCK = ".config.lock"


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
    return {"stable": labels.get(STABLE), "canary": labels.get(CANARY),
            "served": sorted(entry.model_version_policy.specific.versions),
            "versions": configs.scan_versions(configs.resolve_base_path(entry.base_path,
                                                                        models_root))}


def status(models_root: pathlib.Path = configs.DEFAULT_MODELS_ROOT) -> Dict[str, Dict]:
    """Per model: stable, canary, served versions and versions on disk (read-only)."""
    config = _load(models_root)
    return {entry.name: _describe(entry, models_root)
            for entry in config.model_config_list.config}


def _save(models_root, config, entry) -> Dict:
    configs.write_models_config(models_root, config)
    return {entry.name: _describe(entry, models_root)}


def start(models_root: pathlib.Path, name: str, version: Optional[int] = None) -> Dict:
    """The newest pushed version (or `version`) becomes canary; stable is unchanged."""
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
    return _save(models_root, config, entry)


def promote(models_root: pathlib.Path, name: str) -> Dict:
    """The canary becomes stable; the old stable is no longer served."""
    config = _load(models_root)
    entry = _entry(config, models_root, name)
    canary = entry.version_labels.get(CANARY)
    if canary is None:
        raise ConfigError(f"model {name!r} has no canary to promote (start one with "
                          "`tfxp canary start`)")
    configs.set_served_versions(entry, canary)
    return _save(models_root, config, entry)


def rollback(models_root: pathlib.Path, name: str) -> Dict:
    """Drop the canary if there is one; otherwise move stable back to the previous version on disk."""
    config = _load(models_root)
    entry = _entry(config, models_root, name)
    stable = entry.version_labels.get(STABLE)
    if entry.version_labels.get(CANARY) is not None:
        configs.set_served_versions(entry, stable)
        return _save(models_root, config, entry)
    on_disk = configs.scan_versions(configs.resolve_base_path(entry.base_path, models_root))
    older = [v for v in on_disk if stable is not None and v < stable]
    if not older:
        raise ConfigError(f"model {name!r}: no canary to drop and no version older than stable "
                          f"{stable} on disk (versions: {on_disk})")
    configs.set_served_versions(entry, older[-1])
    return _save(models_root, config, entry)


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
    with file_lock.exclusive(models_root / CONFIG_LOCK, f"labelling {model_name} {version}"):
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
    result = _save(models_root, config, entry)[model_name]
    configs.write_aux_configs(models_root)
    result.update({"model": model_name, "version": version, "role": role,
                   "config": str(models_root / configs.MODELS_CONFIG)})
    return result
