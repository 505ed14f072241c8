"""Weighted stable/canary routing: two serving groups behind nginx (locally) or a Gateway (k8s).

TF Serving answers a request that names no label with the newest loaded version, so serving stable
and canary side by side sends every plain request to the canary. Here each model's versions are
split over two groups, each a model server with its own generated config in the models root:
`stable.config` serves every model's stable version, `canary.config` serves each model's canary
version (or its stable version when it has no canary, so both groups can answer any model).
A router sends a chosen share of each model's unlabeled traffic to the canary group:

- weights live in `<models_root>/router.json` (`{"weights": {"census": 10}}`, percent, 0-100);
- locally nginx (`split_clients` on `x-user-id` when the client sends one, else on the request id)
  proxies REST with `proxy_pass` and gRPC with `grpc_pass`; `/labels/stable|canary` and
  `/versions/N` in REST paths go to the group that serves them; a `x-tfxp-group: stable|canary`
  header (gRPC metadata) picks a group, because nginx cannot read the label inside a gRPC body;
- nginx cannot see the model name inside a gRPC body either, so the gRPC split uses one weight:
  the smallest weight among models with a canary (run one router per model for independent
  gRPC weights).

A weight change rewrites nginx.conf atomically after `nginx -t` accepted it and sends the master
SIGHUP: new workers take new connections while old ones finish theirs, so no request is dropped.
"""
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time
from typing import Dict, Optional, Sequence, Tuple

from serving.config import configs
from serving.config.configs import CANARY, GROUP_HEADER, STABLE, ConfigError
# free_port stays importable here for callers written before serving.server.process held it.
from serving.server.process import (ServerProcess, ServerProcessError, free_port,  # noqa: F401
                                    free_ports)

GROUPS = (STABLE, CANARY)
WEIGHTS_FILE = "router.json"
SHADOW_FILE = "shadow.json"
SHADOW_REST, SHADOW_GRPC = "/_tfxp_shadow_rest", "/_tfxp_shadow_grpc"
RUN_DIR = "router"
RUNTIME_FILE = "runtime.json"
STICKY_HEADER = "x-user-id"


def group_config_path(models_root: pathlib.Path, group: str) -> pathlib.Path:
    """Where the group's generated config lives: beside models.config, so relative paths in it
    resolve the same way."""
    return pathlib.Path(models_root) / f"{group}.config"


def run_dir(models_root: pathlib.Path) -> pathlib.Path:
    """The running router's folder (nginx.conf, pid, logs, runtime.json), one per models root."""
    return pathlib.Path(models_root) / RUN_DIR


def check_weight(weight) -> float:
    """Percent of a model's unlabeled traffic sent to its canary: 0-100, at most 2 decimals
    (what nginx's split_clients can express)."""
    try:
        value = float(weight)
    except (TypeError, ValueError):
        raise ConfigError(f"invalid canary weight {weight!r}: give a percentage from 0 to 100") \
            from None
    if not 0 <= value <= 100 or round(value, 2) != value:
        raise ConfigError(f"invalid canary weight {weight!r}: give a percentage from 0 to 100 "
                          "with at most two decimals")
    return int(value) if value == int(value) else value


def read_weights(models_root: pathlib.Path) -> Dict[str, float]:
    """Model -> canary weight from router.json ({} when absent); a broken file is an error, not
    silently stable, so a typo cannot move traffic."""
    path = pathlib.Path(models_root) / WEIGHTS_FILE
    if not path.exists():
        return {}
    try:
        weights = json.loads(path.read_text()).get("weights", {})
        return {configs.check_model_name(k): check_weight(v) for k, v in weights.items()}
    except (ValueError, AttributeError) as e:
        raise ConfigError(f"{path}: not a valid router state ({e}); fix it or delete it "
                          "(every model then routes to stable)") from None


def write_weights(models_root: pathlib.Path, weights: Dict[str, float]) -> None:
    """Replace router.json atomically, each weight checked, so readers never see half a file."""
    state = {"weights": {k: check_weight(v) for k, v in sorted(weights.items())}}
    configs.write_atomic(pathlib.Path(models_root) / WEIGHTS_FILE, json.dumps(state, indent=2) + "\n")


def read_shadows(models_root: pathlib.Path) -> Dict[str, int]:
    """Model -> version in shadow mode (shadow.json; {} when absent): the canary group serves it
    and gets a copy of every request the stable group answers."""
    path = pathlib.Path(models_root) / SHADOW_FILE
    if not path.exists():
        return {}
    try:
        shadows = json.loads(path.read_text()).get("shadow", {})
        return {configs.check_model_name(k): int(v) for k, v in shadows.items()}
    except (ValueError, AttributeError, TypeError) as e:
        raise ConfigError(f"{path}: not a valid shadow state ({e}); fix it or delete it "
                          "(no model is then mirrored)") from None


def write_shadows(models_root: pathlib.Path, shadows: Dict[str, int]) -> None:
    """Replace shadow.json atomically."""
    state = {"shadow": {k: int(v) for k, v in sorted(shadows.items())}}
    configs.write_atomic(pathlib.Path(models_root) / SHADOW_FILE,
                         json.dumps(state, indent=2) + "\n")


def _shadow_locations(shadows: Sequence[str], rest_location: str) -> Tuple[str, str]:
    """nginx locations for shadow mode: (REST, gRPC). A shadowed model's REST paths always go to
    the stable group and are mirrored to the canary group; with any model in shadow every gRPC
    call goes to stable and is mirrored (the model name is inside the gRPC body, so nginx cannot
    pick by model: the canary group answers other models' copies with their stable versions).
    nginx mirrors grpc_pass traffic only when the mirror location restores the gRPC path: a
    mirror subrequest's URI is the mirror location's, so `rewrite ^ $request_uri break;`."""
    if not shadows:
        return "", ""
    rest = []
    for name in sorted(shadows):
        escaped = name.replace(".", r"\.")
        rest.append(f"""        location ~ ^/v1/models/{escaped}([/:]|$) {{
            mirror {SHADOW_REST};
{rest_location.replace("$tfxp_rest_group", STABLE)}
        }}""")
    rest.append(f"""        location = {SHADOW_REST} {{
            internal;
            rewrite ^ $request_uri break;
            proxy_pass http://tfxp_rest_{CANARY};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_read_timeout 60s;
        }}""")
    grpc = f"""        location / {{
            mirror {SHADOW_GRPC};
            grpc_pass grpc://tfxp_grpc_{STABLE};
            grpc_read_timeout 60s;
        }}
        location = {SHADOW_GRPC} {{
            internal;
            rewrite ^ $request_uri break;
            grpc_pass grpc://tfxp_grpc_{CANARY};
            grpc_read_timeout 60s;
        }}"""
    return "\n".join(rest), grpc


def canaries(models_config) -> Dict[str, int]:
    """Model -> canary version, for models whose config carries a canary label."""
    return {e.name: e.version_labels[CANARY] for e in models_config.model_config_list.config
            if CANARY in e.version_labels}


def effective_weights(models_config, weights: Dict[str, float]) -> Dict[str, float]:
    """Weights of models that have a canary (a weight without a canary routes nothing)."""
    return {name: weights.get(name, 0) for name in canaries(models_config)}


def group_config(models_config, group: str, shadows: Sequence[str] = ()):
    """The ModelServerConfig one group serves: per labelled model the group's own version under
    its label, and the other group's version under that label too when it is older.

    TF Serving answers an unlabeled request with the newest loaded version, so a group can hold
    an older version without changing what its unlabeled requests get: the canary group also
    serves the stable version as `stable`, and a `stable` labelled gRPC call succeeds whichever
    group nginx picks. The stable group cannot hold a newer canary (its unlabeled requests would
    get it); a `canary` call that reaches it is refused with the hint LocalStack passes. In the
    canary group a model in shadow mode (`shadows`) labels its canary version stable instead, so
    mirrored requests that name the stable label reach the shadow."""
    if group not in GROUPS:
        raise ConfigError(f"unknown serving group {group!r}; choose one of {GROUPS}")
    out = type(models_config)()
    out.model_config_list.SetInParent()
    for entry in models_config.model_config_list.config:
        copy = out.model_config_list.config.add()
        copy.CopyFrom(entry)
        stable = entry.version_labels.get(STABLE)
        canary = entry.version_labels.get(CANARY)
        if stable is None:
            continue
        version, label = ((canary, CANARY) if group == CANARY and canary is not None
                          else (stable, STABLE))
        held = {label: version}
        for other_label, other in ((STABLE, stable), (CANARY, canary)):
            if other_label != label and other is not None and other < version:
                held[other_label] = other
        if group == CANARY and label == CANARY and entry.name in shadows:
            held[STABLE] = version
        copy.model_version_policy.Clear()
        copy.model_version_policy.specific.versions.extend(sorted(set(held.values())))
        copy.version_labels.clear()
        copy.version_labels.update(held)
    return out


def write_group_configs(models_root: pathlib.Path, models_config=None) -> Dict[str, pathlib.Path]:
    """Regenerate stable.config and canary.config from models.config (validated, atomic)."""
    models_root = pathlib.Path(models_root)
    if models_config is None:
        models_config = configs.read_models_config(models_root / configs.MODELS_CONFIG)
    written, shadows = {}, read_shadows(models_root)
    for group in GROUPS:
        path = group_config_path(models_root, group)
        text = configs.render(group_config(models_config, group, list(shadows)))
        configs.validate_models_config(configs.parse_models_config(text, str(path)), models_root,
                                       str(path))
        configs.write_atomic(path, text)
        written[group] = path
    return written


# ---------------------------------------------------------------- nginx

def _split_block(variable: str, weight: float) -> str:
    """Every split hashes the same key, and the canary takes the first `weight` percent of the
    hash range: a user is in the same group for REST and gRPC, and raising the weight only moves
    users from stable to canary, never back."""
    if weight <= 0:
        return f"map $tfxp_split_key ${variable} {{ default {STABLE}; }}"
    if weight >= 100:
        return f"map $tfxp_split_key ${variable} {{ default {CANARY}; }}"
    return (f'split_clients "${{tfxp_split_key}}" ${variable} {{\n'
            f"    {weight}% {CANARY};\n    * {STABLE};\n}}")


def _tls_directives(tls: Optional[Dict]) -> str:
    """The http-level TLS settings for `tls` (see write_tls_files), or none."""
    if not tls:
        return ""
    lines = [f"    ssl_certificate {tls['cert']};", f"    ssl_certificate_key {tls['key']};",
             "    ssl_protocols TLSv1.2 TLSv1.3;"]
    if tls.get("client_ca"):
        lines.append(f"    ssl_client_certificate {tls['client_ca']};")
    if tls.get("client_verify"):
        lines.append("    ssl_verify_client on;")
    return "\n".join(lines) + "\n"


def write_tls_files(ssl_config, folder: pathlib.Path) -> Dict:
    """The SSLConfig's PEM text as the files nginx reads (key readable by its owner only); the CA
    client certificates are verified against is custom_ca, else gRPC's default roots, as the
    model server's own --ssl_config_file does."""
    from serving.server.grpc_server import default_root_certificates
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / "server.key"
    handle = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "w") as out:
        out.write(ssl_config.server_key)
    (folder / "server.crt").write_text(ssl_config.server_cert)
    tls = {"cert": str(folder / "server.crt"), "key": str(key),
           "client_verify": ssl_config.client_verify, "client_ca": None}
    roots = ssl_config.custom_ca.encode() if ssl_config.custom_ca else None
    if ssl_config.client_verify and roots is None:
        roots = default_root_certificates()
    if roots is not None:
        (folder / "client_ca.crt").write_bytes(roots)
        tls["client_ca"] = str(folder / "client_ca.crt")
    return tls


def render_nginx_config(models_config, weights: Dict[str, float], rest_port: int, grpc_port: int,
                        groups: Dict[str, Dict[str, int]], prefix: pathlib.Path,
                        host: str = "127.0.0.1", max_body_bytes: int = 64 << 20,
                        tls: Optional[Dict] = None, shadows: Sequence[str] = ()) -> str:
    """nginx.conf for the router; `groups` maps group -> {"rest_port", "grpc_port"}; with `tls`
    (write_tls_files) both ports terminate TLS, and require client certificates when it says;
    models in `shadows` are answered by stable and mirrored to the canary group
    (_shadow_locations)."""
    weights = effective_weights(models_config, weights)
    canary_versions = canaries(models_config)
    splits, version_rules, rest_rules = [], [], []
    for name in sorted(weights):
        var = "tfxp_split_" + "".join(c if c.isalnum() else "_" for c in name)
        splits.append(_split_block(var, weights[name]))
        escaped = name.replace(".", r"\.")
        version_rules.append(f'    "~^/v1/models/{escaped}/versions/{canary_versions[name]}([/:]|$)" '
                             f"{CANARY};")
        rest_rules.append(f'    "~^/v1/models/{escaped}([/:]|$)" ${var};')
    version_rules.append(f'    "~^/v1/models/[^/]+/versions/" {STABLE};')
    rest_rules = version_rules + rest_rules
    splits.append(_split_block("tfxp_split_grpc", min(weights.values(), default=0)))
    upstreams = []
    for group in GROUPS:
        for api in ("rest", "grpc"):
            upstreams.append(f"upstream tfxp_{api}_{group} {{\n"
                             f"    server 127.0.0.1:{groups[group][f'{api}_port']};\n"
                             f"    keepalive 32;\n}}")
    temp = "\n".join(f"    {kind}_temp_path {prefix}/tmp/{kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    split_text = "\n".join(splits)
    rules = "\n".join(rest_rules)
    upstream_text = "\n".join(upstreams)
    tls_text = _tls_directives(tls)
    ssl = " ssl" if tls else ""
    rest_location = """            proxy_pass http://tfxp_rest_$tfxp_rest_group;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_read_timeout 60s;
            proxy_request_buffering off;
            proxy_buffering off;
            add_header X-Tfxp-Group $tfxp_rest_group always;"""
    shadow_rest, shadow_grpc = _shadow_locations(
        [name for name in shadows if name in canary_versions], rest_location)
    grpc_location = shadow_grpc or f"""        location / {{
            grpc_pass grpc://tfxp_grpc_$tfxp_grpc_group;
            grpc_read_timeout 60s;
        }}"""
    return f"""# Generated by serving/rollout/router.py from models.config and router.json; do not edit.
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log notice;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
{temp}
    client_max_body_size {max_body_bytes};
{tls_text}    map $http_{STICKY_HEADER.replace('-', '_')} $tfxp_split_key {{
        "" $request_id;
        default $http_{STICKY_HEADER.replace('-', '_')};
    }}
{split_text}
    map $uri $tfxp_rest_route {{
    "~^/v1/models/[^/]+/labels/(?<tfxp_label>{STABLE}|{CANARY})([/:]|$)" $tfxp_label;
{rules}
    default {STABLE};
    }}
    map $http_{GROUP_HEADER.replace('-', '_')} $tfxp_rest_group {{
        {STABLE} {STABLE};
        {CANARY} {CANARY};
        default $tfxp_rest_route;
    }}
    map $http_{GROUP_HEADER.replace('-', '_')} $tfxp_grpc_group {{
        {STABLE} {STABLE};
        {CANARY} {CANARY};
        default $tfxp_split_grpc;
    }}
{upstream_text}
    server {{
        listen {host}:{rest_port}{ssl};
{shadow_rest}
        location / {{
{rest_location}
        }}
    }}
    server {{
        listen {host}:{grpc_port}{ssl} http2;
{grpc_location}
    }}
}}
"""


def nginx_binary() -> str:
    """nginx's path; Debian installs it in sbin, which a non-root PATH often lacks."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None)
    if found is None:
        raise ConfigError("nginx is not installed: `apt-get install nginx` (Debian; `make "
                          "system-packages` does it) to run the canary router")
    return found


def _nginx_test(conf: pathlib.Path, prefix: pathlib.Path) -> None:
    result = subprocess.run([nginx_binary(), "-t", "-q", "-p", str(prefix), "-c", str(conf),
                             "-e", str(prefix / "error.log")], capture_output=True, text=True)
    if result.returncode != 0:
        raise ConfigError(f"nginx rejected the generated config {conf}: "
                          f"{(result.stderr or result.stdout).strip()}")


def read_runtime(models_root: pathlib.Path) -> Optional[Dict]:
    """Ports of the running router and groups, or None when no router runs for this models root."""
    path = run_dir(models_root) / RUNTIME_FILE
    if not path.exists():
        return None
    runtime = json.loads(path.read_text())
    pid_file = run_dir(models_root) / "nginx.pid"
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
    except (OSError, ValueError):
        return None
    return runtime


def write_nginx_config(models_root: pathlib.Path, runtime: Dict, models_config=None) -> pathlib.Path:
    """Render, `nginx -t`, then rename into place: a bad config never replaces a good one."""
    models_root = pathlib.Path(models_root)
    prefix = run_dir(models_root)
    # Bodies stream through (no request/response buffering), so the temp folders stay unused:
    # nginx's worker user (nobody when started as root) need not reach into the models root.
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    if models_config is None:
        models_config = configs.read_models_config(models_root / configs.MODELS_CONFIG)
    text = render_nginx_config(models_config, read_weights(models_root), runtime["rest_port"],
                               runtime["grpc_port"], runtime["groups"], prefix,
                               runtime.get("host", "127.0.0.1"), tls=runtime.get("tls"),
                               shadows=list(read_shadows(models_root)))
    conf = prefix / "nginx.conf"
    candidate = prefix / "nginx.conf.candidate"
    candidate.write_text(text)
    try:
        _nginx_test(candidate, prefix)
    finally:
        candidate.unlink()
    configs.write_atomic(conf, text)
    return conf


def reload_router(models_root: pathlib.Path, models_config=None) -> bool:
    """Rewrite nginx.conf and HUP the running nginx; False when no router runs.

    Returns once the new worker runs and the old one has finished its requests (or after 10 s
    if a slow request keeps it): from then on every new connection sees the new weights.
    """
    runtime = read_runtime(models_root)
    if runtime is None:
        return False
    write_nginx_config(models_root, runtime, models_config)
    pid = int((run_dir(models_root) / "nginx.pid").read_text().strip())
    started, exited = _log_count(models_root, "start worker process"), \
        _log_count(models_root, "exited with code")
    os.kill(pid, signal.SIGHUP)
    if not _wait_log(models_root, "start worker process", started, 10.0):
        raise ConfigError(f"nginx did not start a worker with the new config within 10 s; see "
                          f"{run_dir(models_root) / 'error.log'}")
    _wait_log(models_root, "exited with code", exited, 10.0)
    return True


def _log_count(models_root: pathlib.Path, text: str) -> int:
    """How often nginx's notice-level log says `text` (one line per worker start or exit)."""
    log = run_dir(models_root) / "error.log"
    return log.read_text(errors="replace").count(text) if log.exists() else 0


def _wait_log(models_root: pathlib.Path, text: str, before: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _log_count(models_root, text) > before:
            return True
        time.sleep(0.02)
    return False


def reload_groups(models_root: pathlib.Path, models_config=None) -> Dict[str, pathlib.Path]:
    """Write both group configs and, when groups run, make each load its config now
    (HandleReloadConfigRequest returns once the versions are served)."""
    written = write_group_configs(models_root, models_config)
    runtime = read_runtime(models_root)
    if runtime is not None:
        for group in GROUPS:
            send_reload(f"127.0.0.1:{runtime['groups'][group]['grpc_port']}",
                        configs.read_models_config(written[group]))
    return written


def send_reload(target: str, config, timeout: float = 120.0) -> None:
    """HandleReloadConfigRequest to one group (`target` host:port); it returns once the group
    serves the config, so the router may send it traffic. A refusal raises ConfigError."""
    import grpc
    from tensorflow_serving.apis import model_management_pb2, model_service_pb2_grpc
    request = model_management_pb2.ReloadConfigRequest()
    request.config.CopyFrom(config)
    with grpc.insecure_channel(target) as channel:
        response = model_service_pb2_grpc.ModelServiceStub(channel).HandleReloadConfigRequest(
            request, timeout=timeout)
    if response.status.error_code:
        raise ConfigError(f"serving group at {target} refused the config: "
                          f"{response.status.error_message}")


# ---------------------------------------------------------------- the local stack

def _wait_port(port: int, process: subprocess.Popen, what: str, log: pathlib.Path,
               timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ConfigError(f"{what} exited with code {process.returncode}; see {log}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise ConfigError(f"{what} did not open port {port} within {timeout}s; see {log}")


def _wait_nginx_bound(pid_file: pathlib.Path, process: subprocess.Popen, log: pathlib.Path,
                      timeout: float) -> None:
    """nginx writes its pid file only once every listen socket is bound; a port that accepts
    connections before then may belong to another process (nginx retries a busy port for 2.5 s,
    then exits), and a request sent there would reach the wrong server."""
    deadline = time.monotonic() + timeout
    while not pid_file.exists():
        if process.poll() is not None:
            raise ConfigError(f"nginx exited with code {process.returncode} (a port in use? "
                              f"{_nginx_failure(log)}); see {log}")
        if time.monotonic() > deadline:
            raise ConfigError(f"nginx did not bind its ports within {timeout}s; see {log}")
        time.sleep(0.05)


def _nginx_failure(log: pathlib.Path) -> str:
    """nginx's first fatal line (e.g. which bind() failed and why) and its last line, for an
    error message."""
    lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    fatal = [line for line in lines if "[emerg]" in line][:1]
    shown = fatal + [line for line in lines[-1:] if line not in fatal]
    return " | ".join(shown) or "its error log is empty"


class LocalStack:
    """nginx on (rest_port, grpc_port) in front of two `python -m serving` groups on free ports.

    `start()` returns when all three accept connections and runtime.json names their ports;
    `tfxp canary ...` then finds them and reloads groups and router on every change.
    """

    def __init__(self, models_root: pathlib.Path, rest_port: int = 8501, grpc_port: int = 8500,
                 host: str = "127.0.0.1", server_flags=(),
                 ssl_config_file: Optional[pathlib.Path] = None):
        self.models_root = pathlib.Path(models_root).resolve()
        self.ssl_config_file = ssl_config_file
        self.rest_port, self.grpc_port, self.host = rest_port, grpc_port, host
        self.server_flags = list(server_flags)
        self.processes: Dict[str, subprocess.Popen] = {}
        self.servers: Dict[str, ServerProcess] = {}
        self.groups: Dict[str, Dict[str, int]] = {}

    def start(self) -> "LocalStack":
        """Start both groups, then nginx in front; refuses when a router already runs for this
        models root, and stops whatever it started if any part fails."""
        nginx = nginx_binary()
        ssl_config = (configs.read_ssl_config(self.ssl_config_file)
                      if self.ssl_config_file else None)
        prefix = run_dir(self.models_root)
        prefix.mkdir(parents=True, exist_ok=True)
        if read_runtime(self.models_root) is not None:
            raise ConfigError(f"a router already runs for {self.models_root} "
                              f"(see {prefix / RUNTIME_FILE}); stop it first")
        if not (self.models_root / configs.MODELS_CONFIG).exists():
            configs.generate(self.models_root)
        configs.write_aux_configs(self.models_root)
        written = write_group_configs(self.models_root)
        if self.rest_port == self.grpc_port:
            raise ConfigError(f"the router's REST and gRPC ports are both {self.rest_port}; "
                              "give them different ports")
        ports = iter(free_ports(2 * len(GROUPS), exclude=(self.rest_port, self.grpc_port)))
        self.groups = {group: {"rest_port": next(ports), "grpc_port": next(ports)}
                       for group in GROUPS}
        try:
            for group in GROUPS:
                ports = self.groups[group]
                server = ServerProcess(
                    [f"--model_config_file={written[group]}",
                     "--model_config_file_poll_wait_seconds=2",
                     f"--monitoring_config_file={self.models_root / configs.MONITORING_CONFIG}",
                     f"--unrecognized_label_hint={self.label_hint(group)}",
                     *self.server_flags], log_path=prefix / f"{group}.log",
                    grpc_port=ports["grpc_port"], rest_port=ports["rest_port"])
                self.servers[group] = server
                self.processes[group] = server.process
            for group in GROUPS:
                try:
                    self.servers[group].wait_ready()
                except ServerProcessError as e:
                    raise ConfigError(f"serving group {group}: {e}") from None
            runtime = {"host": self.host, "rest_port": self.rest_port,
                       "grpc_port": self.grpc_port, "groups": self.groups}
            if ssl_config is not None:
                runtime["tls"] = write_tls_files(ssl_config, prefix / "tls")
            conf = write_nginx_config(self.models_root, runtime)
            log = prefix / "error.log"
            pid_file = prefix / "nginx.pid"
            pid_file.unlink(missing_ok=True)
            self.processes["nginx"] = subprocess.Popen(
                [nginx, "-p", str(prefix), "-c", str(conf), "-e", str(log), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _wait_nginx_bound(pid_file, self.processes["nginx"], log, 30)
            _wait_port(self.rest_port, self.processes["nginx"], "nginx", log, 30)
            _wait_port(self.grpc_port, self.processes["nginx"], "nginx", log, 30)
            configs.write_atomic(prefix / RUNTIME_FILE, json.dumps(runtime, indent=2) + "\n")
        except BaseException:
            self.stop()
            raise
        return self

    def label_hint(self, group: str) -> str:
        """What a group adds when it refuses a label: the other group may serve it, reached
        through the router with the group header or on that group's own port."""
        other = CANARY if group == STABLE else STABLE
        return (f"this is the {group} serving group behind the tfxp canary router; a label "
                f"it lacks may be served by the {other} group: through the router send gRPC "
                f"metadata '{GROUP_HEADER}: {other}' (tfxp predict --grpc --label and "
                f"serving.client set it), or call the {other} group on "
                f"127.0.0.1:{self.groups[other]['grpc_port']} (gRPC) / "
                f"127.0.0.1:{self.groups[other]['rest_port']} (REST)")

    def stop(self) -> None:
        """Remove runtime.json first (so `tfxp canary` stops reloading), then end nginx gracefully
        (SIGQUIT lets it finish requests) and the groups, killing any that take over 20 s."""
        runtime_file = run_dir(self.models_root) / RUNTIME_FILE
        if runtime_file.exists():
            runtime_file.unlink()
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGQUIT if process is self.processes.get("nginx")
                                    else signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        for server in self.servers.values():
            server.stop()

    def wait(self) -> int:
        """Block until a process exits or SIGTERM/SIGINT arrives; stop the rest."""
        stop = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.append(1))
        while not stop and all(p.poll() is None for p in self.processes.values()):
            time.sleep(0.5)
        failed = [n for n, p in self.processes.items() if p.poll() not in (None, 0)]
        self.stop()
        return 1 if failed else 0
