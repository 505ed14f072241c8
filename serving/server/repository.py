"""Model repository: which versions should be loaded, loading them, labels, status, warmup.

Mirrors TF Serving's core/ layer: the version policy (latest N / all / specific) picks the aspired
versions from the integer directories under base_path; new versions are loaded (and warmed up)
before no-longer-aspired ones are retired; a version that fails to load is reported in the model
status (state END with the error) and the versions already serving keep serving (availability
preserving). Requests hold a reference to the LoadedModel they resolved, so retiring a version never
breaks an in-flight request. Labels follow TF Serving's rule: a label may only point at an AVAILABLE
version unless allow_version_labels_for_unavailable_models is set. A request never touches the
file system; only `reconcile` does.
"""
import logging
import pathlib
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

from tensorflow_serving.apis import get_model_status_pb2

from serving.config import configs
from serving.server import errors
from serving.server.signature import LoadedModel

log = logging.getLogger("tfxp.serving")
State = get_model_status_pb2.ModelVersionStatus.State
WARMUP_FILE = pathlib.Path("assets.extra") / "tf_serving_warmup_requests"
MAX_WARMUP_RECORDS = 1000


class VersionState:
    """One version's ModelVersionStatus state and error, its LoadedModel once AVAILABLE, and the
    folder fingerprint at its last load (a failed version is retried only when that changes)."""

    __slots__ = ("version", "state", "error", "model", "fingerprint")

    def __init__(self, version: int):
        self.version = version
        self.state = State.START
        self.error: Optional[errors.ServingError] = None
        self.model: Optional[LoadedModel] = None
        self.fingerprint = None


class ModelState:
    """One configured model: its config entry, versions and labels. `removed` keeps it answering
    status (END) after a config drops it, as TF Serving does, while requests get NOT_FOUND."""

    def __init__(self, entry, base_dir: pathlib.Path):
        self.entry = entry
        self.base_dir = base_dir
        self.versions: Dict[int, VersionState] = {}
        self.labels: Dict[str, int] = {}
        self.removed = False

    def available(self) -> Dict[int, LoadedModel]:
        """The versions requests may use now (loaded and not yet retired), by number."""
        return {v: s.model for v, s in self.versions.items() if s.state == State.AVAILABLE}


def _fingerprint(path: pathlib.Path):
    """Changes when a version directory is rewritten, so a failed version is retried then."""
    try:
        return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(path.iterdir()))
    except OSError:
        return None


def aspired_versions(entry, on_disk: List[int]) -> List[int]:
    """The versions the entry's model_version_policy wants loaded, from the sorted versions on
    disk; no policy means TF Serving's default, the latest one."""
    policy = entry.model_version_policy.WhichOneof("policy_choice")
    if policy == "all":
        return list(on_disk)
    if policy == "specific":
        wanted = set(entry.model_version_policy.specific.versions)
        return [v for v in on_disk if v in wanted]
    n = entry.model_version_policy.latest.num_versions or 1
    return list(on_disk[-n:])


class ModelRepository:
    """Every configured model's versions and labels; the one place that loads and unloads.

    `loader` and `warmup_runner` are injected so tests can load fakes; `on_change(name, version,
    state)` reports each state change (the server feeds its Prometheus gauge); `load_observer`
    (`load(path, ok, seconds)`, `warmup(path, ok, seconds)`) gets each load and warmup attempt,
    for TF Serving's load and warmup metric families; `label_hint` follows the refusal of an
    unknown label (the canary router says there where the other group's labels are served)."""

    def __init__(self, config_dir: Optional[pathlib.Path] = None,
                 allow_labels_for_unavailable: bool = False, allow_labels: bool = True,
                 warmup: bool = True, warmup_iterations: int = 1,
                 loader: Callable[[str, int, pathlib.Path], LoadedModel] = LoadedModel.load,
                 warmup_runner: Optional[Callable] = None,
                 on_change: Optional[Callable[[str, int, int], None]] = None,
                 load_observer=None, label_hint: str = ""):
        self.config_dir = config_dir
        self.allow_labels_for_unavailable = allow_labels_for_unavailable
        self.allow_labels = allow_labels
        self.warmup = warmup
        self.warmup_iterations = max(1, warmup_iterations)
        self.loader = loader
        self.warmup_runner = warmup_runner
        self.on_change = on_change
        # called after any change to what requests may resolve (versions or labels)
        self.listeners: List[Callable[[], None]] = []
        self.load_observer = load_observer
        self.label_hint = label_hint
        self._models: Dict[str, ModelState] = {}
        self._lock = threading.Lock()
        self._reconcile_lock = threading.Lock()
        self.config = None

    # ---- requests (no file system access) ----
    def _labelled(self, name: str, version: Optional[int], label: Optional[str]):
        """(model state or None, the version `label` names, else `version`); call holding the
        lock. An unknown label is INVALID_ARGUMENT, as in TF Serving."""
        model = self._models.get(name)
        if label:
            if model is None or label not in model.labels:
                raise errors.unrecognized_label(label, self.label_hint)
            version = model.labels[label]
        return model, version

    def resolve(self, name: str, version: Optional[int] = None,
                label: Optional[str] = None) -> LoadedModel:
        """The LoadedModel a request names (label, else version, else the newest available); the
        caller keeps the reference, so a version retired meanwhile still finishes the request."""
        with self._lock:
            model, version = self._labelled(name, version, label)
            if model is None or model.removed:
                raise errors.servable_not_found(name, version)
            available = model.available()
        if version is None:
            if not available:
                raise errors.servable_not_found(name)
            return available[max(available)]
        if version not in available:
            raise errors.servable_not_found(name, version)
        return available[version]

    def status(self, name: str, version: Optional[int] = None, label: Optional[str] = None):
        """GetModelStatusResponse for one model (all versions, newest first) or one version."""
        with self._lock:
            model, version = self._labelled(name, version, label)
            if model is None or not model.versions:
                raise errors.no_versions(name)
            states = sorted(model.versions.values(), key=lambda s: -s.version)
            if version is not None:
                states = [s for s in states if s.version == version]
                if not states:
                    raise errors.version_not_found(name, version)
            response = get_model_status_pb2.GetModelStatusResponse()
            for s in states:
                item = response.model_version_status.add()
                item.version = s.version
                item.state = s.state
                item.status.SetInParent()
                if s.error is not None:
                    item.status.error_code = s.error.error_code_value
                    item.status.error_message = s.error.message
            return response

    def served(self) -> Dict[str, Tuple[Dict[str, int], Dict[int, LoadedModel]]]:
        """(labels, AVAILABLE versions) of every model requests may name now."""
        with self._lock:
            return {name: (dict(m.labels), m.available()) for name, m in self._models.items()
                    if not m.removed}

    def labels(self, name: str) -> Dict[str, int]:
        """Label -> version as this server assigns them now (metrics name a request's version)."""
        with self._lock:
            model = self._models.get(name)
            return dict(model.labels) if model else {}

    # ---- config and file system ----
    def apply_config(self, config) -> None:
        """Switch to a new ModelServerConfig: load, relabel, then retire. Raises ServingError
        (config kept for loading, labels unchanged) if a label cannot be assigned."""
        try:
            configs.validate_models_config(config, source="model config", strict=False)
        except configs.ConfigError as e:
            raise errors.invalid_argument(str(e)) from None
        with self._reconcile_lock:
            with self._lock:
                names = set()
                for entry in config.model_config_list.config:
                    names.add(entry.name)
                    base_dir = configs.resolve_base_path(entry.base_path, self.config_dir)
                    model = self._models.get(entry.name)
                    if model is None:
                        self._models[entry.name] = ModelState(entry, base_dir)
                    else:
                        model.entry, model.base_dir, model.removed = entry, base_dir, False
                        for state in model.versions.values():
                            state.fingerprint = None
                for name, model in self._models.items():
                    if name not in names:
                        model.removed = True
                self.config = config
            for name in list(self._models):
                self._reconcile(name, unload=False)
            try:
                self._apply_labels(config)
            finally:
                for name in list(self._models):
                    self._reconcile(name, load=False)

    def poll(self) -> None:
        """One file-system poll: pick up new or removed version directories."""
        with self._reconcile_lock:
            for name in list(self._models):
                self._reconcile(name)

    def _apply_labels(self, config) -> None:
        new_labels = {}
        for entry in config.model_config_list.config:
            if entry.version_labels and not self.allow_labels:
                raise errors.failed_precondition(
                    "Model version labels are not currently allowed by the server.")
            model = self._models[entry.name]
            available = model.available()
            for label, version in entry.version_labels.items():
                if version not in available and not self.allow_labels_for_unavailable:
                    raise errors.label_unavailable(entry.name, label, version)
            new_labels[entry.name] = dict(entry.version_labels)
        with self._lock:
            for name, model in self._models.items():
                model.labels = new_labels.get(name, {})
        self._notify()

    def _reconcile(self, name: str, load: bool = True, unload: bool = True) -> None:
        """Load aspired versions first, then retire the rest; a config reload relabels between
        the two so a label never points at a version that is already gone."""
        model = self._models[name]
        folders = {} if model.removed else configs.version_dirs(model.base_dir)
        aspired = [] if model.removed else aspired_versions(model.entry, list(folders))
        for version in aspired if load else ():
            state = model.versions.get(version)
            if state is not None and state.state == State.AVAILABLE:
                continue
            path = folders[version]
            fingerprint = _fingerprint(path)
            if state is not None and state.error is not None and state.fingerprint == fingerprint:
                continue
            self._load(model, name, version, path, fingerprint)
        if not unload:
            return
        available = model.available()
        keep_old = not model.removed and not any(v in available for v in aspired)
        labelled = set(model.labels.values())
        for version in sorted(available):
            if version in aspired:
                continue
            if version in labelled:
                log.warning("Keeping version %d of model %s loaded: a version label still points "
                            "at it", version, name)
                continue
            if keep_old:
                log.warning("Keeping version %d of model %s serving: no aspired version of %s is "
                            "available (aspired: %s)", version, name, name, aspired)
                continue
            self._unload(model, name, version)

    def _load(self, model: ModelState, name: str, version: int, path: pathlib.Path,
              fingerprint) -> None:
        with self._lock:
            state = model.versions.setdefault(version, VersionState(version))
            state.state, state.error = State.LOADING, None
        log.info("Loading servable: {name: %s version: %d} from %s", name, version, path)
        started = time.monotonic()
        stage = self._observe_load
        try:
            loaded = self.loader(name, version, path)
            stage(path, True, time.monotonic() - started)
            if self.warmup:
                stage, warmup_started = self._observe_warmup, time.monotonic()
                if self._run_warmup(loaded):
                    stage(path, True, time.monotonic() - warmup_started)
        except Exception as e:  # any load failure must leave the old versions serving
            stage(path, False, 0.0)
            error = e if isinstance(e, errors.ServingError) else errors.unknown(
                f"{type(e).__name__}: {e}".split("\n")[0])
            log.error("Loading servable: {name: %s version: %d} failed: %s", name, version,
                      error.message)
            with self._lock:
                state.state, state.error, state.fingerprint = State.END, error, fingerprint
            self._changed(name, version, State.END)
            return
        with self._lock:
            state.model, state.state, state.fingerprint = loaded, State.AVAILABLE, fingerprint
        log.info("Successfully loaded servable version {name: %s version: %d} in %.1f s",
                 name, version, time.monotonic() - started)
        self._changed(name, version, State.AVAILABLE)

    def _unload(self, model: ModelState, name: str, version: int) -> None:
        with self._lock:
            state = model.versions[version]
            state.state = State.UNLOADING
            state.model = None
            state.state = State.END
        log.info("Unloaded servable version {name: %s version: %d} (in-flight requests keep "
                 "their reference until they finish)", name, version)
        self._changed(name, version, State.END)

    def _observe_load(self, path: pathlib.Path, ok: bool, seconds: float) -> None:
        if self.load_observer is not None:
            self.load_observer.load(str(path), ok, seconds)

    def _observe_warmup(self, path: pathlib.Path, ok: bool, seconds: float) -> None:
        if self.load_observer is not None:
            self.load_observer.warmup(str(path), ok, seconds)

    def _changed(self, name, version, state) -> None:
        if self.on_change is not None:
            self.on_change(name, version, state)
        self._notify()

    def _notify(self) -> None:
        for listener in self.listeners:
            listener()

    def _run_warmup(self, loaded: LoadedModel) -> int:
        path = loaded.path / WARMUP_FILE
        if not path.exists() or self.warmup_runner is None:
            return 0
        count = self.warmup_runner(loaded, path, MAX_WARMUP_RECORDS, self.warmup_iterations)
        log.info("Finished reading warmup data for model at %s. Number of warmup records read: "
                 "%d.", path, count)
        return count
