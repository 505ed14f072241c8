"""Generate, validate and atomically write TF Serving's config files.

Layout (decision): pushed models live in `serving/models/<model>/<integer version>/` and the three
generated configs sit beside them in `serving/models/` (`models.config`, `batching.config`,
`monitoring.config`), so the one directory the container mounts at `/models` carries both models
and configs. `base_path` in models.config is always the container path `/models/<model>`: the file
is valid unchanged for the real tensorflow_model_server. The local server maps a base_path under
`/models/` to the directory holding the config file when `/models` does not exist on the machine
(see `resolve_base_path`), so the same file serves both.

Everything here only needs model_server_config_pb2 (no TensorFlow import), except the batching and
monitoring parsers, which import `serving.config.protos` lazily.
"""
import os
import pathlib
import re
import tempfile
from typing import Dict, List, Optional

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from data import settings

CONTAINER_ROOT = "/models"
MODELS_CONFIG = "models.config"
BATCHING_CONFIG = "batching.config"
MONITORING_CONFIG = "monitoring.config"
PROMETHEUS_PATH = "/monitoring/prometheus/metrics"
STABLE, CANARY = "stable", "canary"
# gRPC metadata / HTTP header naming the serving group a request must reach: the canary router
# cannot read a version label inside a gRPC body, so labelled clients name the group here.
GROUP_HEADER = "x-tfxp-group"

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_LABEL = re.compile(r"^[a-zA-Z0-9_]+$")
_SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")


class ConfigError(ValueError):
    """A config file or request that would make the server misbehave; the message names the fault."""


def check_model_name(name: str) -> str:
    """Model names become directory names: refuse anything that could leave the model root."""
    if not isinstance(name, str) or not _MODEL_NAME.match(name) or ".." in name:
        raise ConfigError(f"invalid model name {name!r}: use letters, digits, '_', '-', '.' "
                          "(no path separators, no '..', not starting with '.')")
    return name


def check_label(label: str) -> str:
    """TF Serving's label syntax: a config with any other label is refused before it reaches a
    server."""
    if not _LABEL.match(label or ""):
        raise ConfigError(f"invalid version label {label!r}: labels must match [a-zA-Z0-9_]+")
    return label


def is_saved_model_dir(path: pathlib.Path) -> bool:
    """True for a folder TF Serving would load as a version (binary or text saved_model)."""
    return any((path / f).is_file() for f in _SAVED_MODEL_FILES)


def version_dirs(model_dir: pathlib.Path) -> Dict[int, pathlib.Path]:
    """Version number -> its folder, for every subfolder holding a SavedModel whose name parses as
    a non-negative integer (TF Serving's rule: `00000123` is version 123, loaded from that folder).
    This is the one place the project scans version folders."""
    if not model_dir.is_dir():
        return {}
    found: Dict[int, pathlib.Path] = {}
    for path in sorted(model_dir.iterdir()):
        if path.is_dir() and path.name.isascii() and path.name.isdigit() and is_saved_model_dir(path):
            found.setdefault(int(path.name), path)
    return dict(sorted(found.items()))


def scan_versions(model_dir: pathlib.Path) -> List[int]:
    """Versions on disk, ascending (what TF Serving's file-system source sees)."""
    return list(version_dirs(model_dir))


def labelled_version_dir(models_root: pathlib.Path, model: str,
                         label: str = STABLE) -> Optional[pathlib.Path]:
    """The folder of the version that `label` names for `model` in `models_root/models.config`,
    or None when there is no config, no entry, no such label or the version is not on disk."""
    config_path = models_root / MODELS_CONFIG
    if not config_path.exists():
        return None
    entry = model_entry(read_models_config(config_path), model)
    if entry is None or label not in entry.version_labels:
        return None
    model_dir = resolve_base_path(entry.base_path, models_root)
    return version_dirs(model_dir).get(entry.version_labels[label])


def scan_models(models_root: pathlib.Path) -> Dict[str, List[int]]:
    """Model name -> versions on disk, for every subdirectory with at least one version."""
    if not models_root.is_dir():
        return {}
    found = {}
    for path in sorted(models_root.iterdir()):
        if path.is_dir() and _MODEL_NAME.match(path.name):
            versions = scan_versions(path)
            if versions:
                found[path.name] = versions
    return found


def resolve_base_path(base_path: str, config_dir: Optional[pathlib.Path]) -> pathlib.Path:
    """Where a config's base_path lives on this machine (container paths map to the config's dir)."""
    path = pathlib.Path(base_path)
    if not path.is_absolute() and config_dir is not None:
        return (config_dir / path).resolve()
    container = pathlib.PurePosixPath(CONTAINER_ROOT)
    if (config_dir is not None and not pathlib.Path(CONTAINER_ROOT).exists()
            and pathlib.PurePosixPath(base_path).is_relative_to(container)):
        return (config_dir / pathlib.PurePosixPath(base_path).relative_to(container)).resolve()
    return path


def model_entry(config: model_server_config_pb2.ModelServerConfig, name: str):
    """The model's ModelConfig in `config`, or None."""
    for entry in config.model_config_list.config:
        if entry.name == name:
            return entry
    return None


def set_served_versions(entry, stable: int, canary: Optional[int] = None) -> None:
    """specific { stable [, canary] } with labels pointing at them; other labels are dropped."""
    entry.model_version_policy.Clear()
    versions = sorted({stable} | ({canary} if canary is not None else set()))
    entry.model_version_policy.specific.versions.extend(versions)
    entry.version_labels.clear()
    entry.version_labels[STABLE] = stable
    if canary is not None:
        entry.version_labels[CANARY] = canary


def add_model(config, name: str, stable: int, canary: Optional[int] = None):
    """Append a model with the container base_path (valid for the real tensorflow_model_server
    too) serving `stable` (and `canary`) under those labels."""
    entry = config.model_config_list.config.add()
    entry.name = check_model_name(name)
    entry.base_path = f"{CONTAINER_ROOT}/{name}"
    entry.model_platform = "tensorflow"
    set_served_versions(entry, stable, canary)
    return entry


def build_models_config(models_root: pathlib.Path,
                        previous: Optional[model_server_config_pb2.ModelServerConfig] = None):
    """One entry per model on disk; models already configured keep their entry (labels included),
    new ones start with their newest version as stable."""
    config = model_server_config_pb2.ModelServerConfig()
    config.model_config_list.SetInParent()
    on_disk = scan_models(models_root)
    for name, versions in on_disk.items():
        old = model_entry(previous, name) if previous is not None else None
        if old is not None and set(_served(old)) <= set(versions):
            config.model_config_list.config.add().CopyFrom(old)
        else:
            add_model(config, name, versions[-1])
    return config


def _served(entry) -> List[int]:
    return list(entry.model_version_policy.specific.versions) + list(entry.version_labels.values())


def render(message) -> str:
    """Text format, as TF Serving reads its config files."""
    return text_format.MessageToString(message)


def parse_models_config(text: str, source: str = MODELS_CONFIG):
    """A ModelServerConfig text proto; a syntax error in tensorflow_model_server's words, which
    scripts match on."""
    config = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as e:
        raise ConfigError(f"Error parsing text-format tensorflow.serving.ModelServerConfig: {e}\n"
                          f"Invalid protobuf file: '{source}'") from None
    return config


def validate_models_config(config, models_root: Optional[pathlib.Path] = None,
                           source: str = MODELS_CONFIG, strict: bool = True) -> None:
    """TF Serving's own checks (unique names, label syntax, platform); with `strict` (what this
    project writes) also labels only on served versions and, given `models_root`, every served
    version present on disk. The server uses strict=False and applies TF Serving's label rule."""
    if config.WhichOneof("config") != "model_config_list":
        raise ConfigError(f"{source}: only model_config_list configs are supported "
                          "(custom_model_config is not)")
    seen = set()
    for entry in config.model_config_list.config:
        where = f"{source}: model {entry.name!r}"
        try:
            check_model_name(entry.name)
        except ConfigError as e:
            raise ConfigError(f"{source}: {e}") from None
        if entry.name in seen:
            raise ConfigError(f"{where} is configured twice")
        seen.add(entry.name)
        if not entry.base_path:
            raise ConfigError(f"{where} has no base_path")
        if entry.model_platform not in ("", "tensorflow"):
            raise ConfigError(f"{where}: model_platform {entry.model_platform!r} is not supported")
        policy = entry.model_version_policy.WhichOneof("policy_choice")
        specific = set(entry.model_version_policy.specific.versions)
        if policy == "specific" and not specific:
            raise ConfigError(f"{where}: specific version policy lists no versions")
        if policy == "latest" and entry.model_version_policy.latest.num_versions < 0:
            raise ConfigError(f"{where}: latest.num_versions must be >= 1")
        for label, version in entry.version_labels.items():
            try:
                check_label(label)
            except ConfigError as e:
                raise ConfigError(f"{where}: {e}") from None
            if strict and policy == "specific" and version not in specific:
                raise ConfigError(f"{where}: label {label!r} points at version {version}, which "
                                  f"the specific policy does not serve ({sorted(specific)})")
        if models_root is not None and policy == "specific":
            model_dir = resolve_base_path(entry.base_path, models_root)
            missing = sorted(specific - set(scan_versions(model_dir)))
            if missing:
                raise ConfigError(f"{where}: versions {missing} are not on disk under {model_dir}")


def write_atomic(path: pathlib.Path, text: str) -> None:
    """Temp file in the same directory + rename: a poller never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_models_config(path: pathlib.Path):
    """`parse_models_config` of a file, with the path in any error."""
    return parse_models_config(path.read_text(), str(path))


def write_models_config(models_root: pathlib.Path, config) -> pathlib.Path:
    """Validate (including a re-parse of the rendered text), then replace atomically."""
    text = render(config)
    path = models_root / MODELS_CONFIG
    reparsed = parse_models_config(text, str(path))
    validate_models_config(reparsed, models_root, str(path))
    write_atomic(path, text)
    return path


def default_batching_parameters():
    """The batching.config written beside models.config: batches of at most 32 rows, closed after
    2 ms, so batching adds little latency to a lone request."""
    from serving.config import protos
    params = protos.BatchingParameters()
    params.max_batch_size.value = 32
    params.batch_timeout_micros.value = 2000
    params.max_enqueued_batches.value = 64
    params.num_batch_threads.value = 2
    params.allowed_batch_sizes.extend([8, 16, 32])
    params.pad_variable_length_inputs = False
    return params


def _parse_text_proto(text: str, message, source: str):
    """Fill `message` from text format; a syntax error becomes a ConfigError naming the file."""
    try:
        text_format.Parse(text, message)
    except text_format.ParseError as e:
        kind = message.DESCRIPTOR.name
        raise ConfigError(f"{source}: not a valid {kind} text proto: {e}") from None
    return message


def parse_batching_config(text: str, source: str = BATCHING_CONFIG):
    """A BatchingParameters text proto, checked the way TF Serving's batching session checks it."""
    from serving.config import protos
    params = _parse_text_proto(text, protos.BatchingParameters(), source)
    max_batch = params.max_batch_size.value if params.HasField("max_batch_size") else 1000
    if max_batch < 1:
        raise ConfigError(f"{source}: max_batch_size must be >= 1")
    if params.HasField("num_batch_threads") and params.num_batch_threads.value < 1:
        raise ConfigError(f"{source}: num_batch_threads must be >= 1")
    if params.HasField("batch_timeout_micros") and params.batch_timeout_micros.value < 0:
        raise ConfigError(f"{source}: batch_timeout_micros must be >= 0")
    sizes = list(params.allowed_batch_sizes)
    if sizes:
        if sizes != sorted(set(sizes)) or sizes[0] < 1:
            raise ConfigError(f"{source}: allowed_batch_sizes must be positive and increasing")
        if sizes[-1] != max_batch:
            raise ConfigError(f"{source}: the last allowed_batch_sizes entry ({sizes[-1]}) must "
                              f"equal max_batch_size ({max_batch})")
    return params


def default_monitoring_config(path: str = PROMETHEUS_PATH):
    """Prometheus metrics on at TF Serving's usual path, so the canary watch can read them."""
    from serving.config import protos
    config = protos.MonitoringConfig()
    config.prometheus_config.enable = True
    config.prometheus_config.path = path
    return config


def parse_monitoring_config(text: str, source: str = MONITORING_CONFIG):
    """A MonitoringConfig text proto; a Prometheus path must be absolute, or the metrics endpoint
    could never be reached."""
    from serving.config import protos
    config = _parse_text_proto(text, protos.MonitoringConfig(), source)
    path = config.prometheus_config.path
    if config.prometheus_config.enable and path and not path.startswith("/"):
        raise ConfigError(f"{source}: prometheus_config.path must start with '/', got {path!r}")
    return config


def parse_ssl_config(text: str, source: str = "--ssl_config_file"):
    """TF Serving's SSLConfig text proto (--ssl_config_file): the fields hold PEM text, not file
    names. The key and certificate must be a matching pair and any custom CA must parse, so a bad
    file stops start-up with the reason instead of leaving a port that accepts nobody."""
    import ssl
    from serving.config import protos
    config = _parse_text_proto(text, protos.SSLConfig(), source)
    if not config.server_key or not config.server_cert:
        raise ConfigError(f"{source}: server_key and server_cert must both hold PEM text")
    for field in ("server_key", "server_cert", "custom_ca"):
        value = getattr(config, field)
        if value and "-----BEGIN " not in value:
            raise ConfigError(
                f"{source}: {field} holds no PEM block ({value[:60]!r}); SSLConfig fields hold "
                "the PEM text itself, not a file name")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="ssl-check-") as folder:
        cert, key = pathlib.Path(folder) / "cert.pem", pathlib.Path(folder) / "key.pem"
        cert.write_text(config.server_cert)
        key.write_text(config.server_key)
        try:
            context.load_cert_chain(cert, key)
        except ssl.SSLError as e:
            raise ConfigError(f"{source}: server_key and server_cert are not a usable pair "
                              f"({e.reason or e})") from None
    if config.custom_ca:
        try:
            context.load_verify_locations(cadata=config.custom_ca)
        except ssl.SSLError as e:
            raise ConfigError(f"{source}: custom_ca is not a PEM CA certificate "
                              f"({e.reason or e})") from None
    return config


def read_ssl_config(path: pathlib.Path):
    """parse_ssl_config of a file; a missing or unreadable file is a ConfigError naming it."""
    try:
        text = pathlib.Path(path).read_text()
    except OSError as e:
        raise ConfigError(f"--ssl_config_file={path}: {e.strerror or e}") from None
    return parse_ssl_config(text, f"--ssl_config_file={path}")


def write_aux_configs(models_root: pathlib.Path) -> Dict[str, pathlib.Path]:
    """Write the default batching.config and monitoring.config unless they already exist."""
    written = {}
    for name, message, parse in (
            (BATCHING_CONFIG, default_batching_parameters(), parse_batching_config),
            (MONITORING_CONFIG, default_monitoring_config(), parse_monitoring_config)):
        path = models_root / name
        if not path.exists():
            text = render(message)
            parse(text, str(path))
            write_atomic(path, text)
        written[name] = path
    return written


def generate(models_root: pathlib.Path = settings.SERVING_ROOT) -> Dict[str, pathlib.Path]:
    """(Re)write all three configs; models.config keeps the labels of models already configured."""
    models_root.mkdir(parents=True, exist_ok=True)
    config_path = models_root / MODELS_CONFIG
    previous = read_models_config(config_path) if config_path.exists() else None
    written = {MODELS_CONFIG: write_models_config(models_root,
                                                  build_models_config(models_root, previous))}
    written.update(write_aux_configs(models_root))
    return written


def render_k8s_configmap(config, name: str = "tfserving-config",
                         extra: Optional[Dict[str, str]] = None) -> str:
    """A Kubernetes ConfigMap carrying models.config (+ the default batching/monitoring configs
    and `extra` files, e.g. the canary router's group configs)."""
    def block(text):
        return "\n".join("    " + line if line else "" for line in text.rstrip("\n").split("\n"))
    parts = {MODELS_CONFIG: render(config), BATCHING_CONFIG: render(default_batching_parameters()),
             MONITORING_CONFIG: render(default_monitoring_config()), **(extra or {})}
    body = "\n".join(f"  {key}: |\n{block(text)}" for key, text in parts.items())
    return ("# Generated by `tfxp canary --k8s-dir` (serving/rollout/manifests.py); do not edit by hand.\n"
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
            f"  name: {name}\n  labels:\n    app: tfserving\ndata:\n{body}\n")


def main(argv=None) -> int:
    """`python -m serving.config.configs generate [MODELS_ROOT]` (Kubernetes manifests:
    `python -m serving.rollout.manifests`)."""
    import argparse
    parser = argparse.ArgumentParser(prog="python -m serving.config.configs", description=main.__doc__)
    parser.add_argument("command", choices=["generate"])
    parser.add_argument("models_root", nargs="?", type=pathlib.Path, default=settings.SERVING_ROOT)
    args = parser.parse_args(argv)
    for path in generate(args.models_root).values():
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
