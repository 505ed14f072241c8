"""`python -m serving` as a child process: start on free loopback ports, wait until it serves, stop.

Every caller that needs a server process (the infra validator, the router's serving groups, the
serving bench and the tests) starts it here, so each child gets the same environment: this
repository first on PYTHONPATH (the child never depends on an installed copy), the legacy Keras
flavour the models were exported with, and TensorFlow's C++ logging quiet.
"""
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Dict, List, Optional, Sequence

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


class ServerProcessError(RuntimeError):
    """The server exited, a model failed to load, or it did not serve in time; the message ends
    with the tail of the server's log."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS reports free now: something else could take it before the server binds,
    which local servers and tests accept."""
    return free_ports(1, host)[0]


def free_ports(count: int, host: str = "127.0.0.1", exclude: Sequence[int] = ()) -> List[int]:
    """`count` distinct free ports, none in `exclude`. Ports picked one after another by
    free_port can repeat (the OS may hand back a port just released: measured 20 repeats in
    20,000 picks of six), and two servers told the same port make the second one fail or, worse,
    a readiness check connect to the wrong one; holding every socket until all are picked cannot
    repeat."""
    sockets, ports = [], []
    try:
        while len(ports) < count:
            s = socket.socket()
            sockets.append(s)  # bound until every port is picked, excluded ones included
            s.bind((host, 0))
            if s.getsockname()[1] not in exclude:
                ports.append(s.getsockname()[1])
        return ports
    finally:
        for s in sockets:
            s.close()


def server_env(base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment every `python -m serving` child gets (from `base`, else os.environ)."""
    env = dict(os.environ if base is None else base)
    path = env.get("PYTHONPATH", "")
    env.update(TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=str(REPO_ROOT) + (os.pathsep + path if path else ""))
    return env


def server_command(flags: Sequence[str]) -> list:
    """argv of `python -m serving FLAGS` with this interpreter."""
    return [sys.executable, "-m", "serving", *flags]


def run_to_exit(flags: Sequence[str], timeout: float = 120.0) -> subprocess.CompletedProcess:
    """Run a server that is expected to stop by itself (a start-up refusal, `--version`);
    output captured as text."""
    return subprocess.run(server_command(flags), env=server_env(), capture_output=True,
                          text=True, timeout=timeout)


class ServerProcess:
    """One `python -m serving --port=P --rest_api_port=R FLAGS` child, stdout and stderr in a log.

    `log_path=None` logs to a temporary file removed by `stop()`; `extra_env` adds to (or
    overrides) the shared environment, e.g. GOMAXPROCS. Use as a context manager or call
    `stop()`; `wait_ready()` returns once REST answers and every model named is AVAILABLE."""

    def __init__(self, flags: Sequence[str] = (), log_path: Optional[pathlib.Path] = None,
                 grpc_port: Optional[int] = None, rest_port: Optional[int] = None,
                 host: str = "127.0.0.1", extra_env: Optional[Dict[str, str]] = None):
        self.host = host
        picked = iter(free_ports((not grpc_port) + (not rest_port), host,
                                 exclude=[p for p in (grpc_port, rest_port) if p]))
        self.grpc_port = grpc_port or next(picked)
        self.rest_port = rest_port or next(picked)
        self.rest = f"{host}:{self.rest_port}"
        self.grpc = f"{host}:{self.grpc_port}"
        self._temporary_log = log_path is None
        self._final_log = ""
        if log_path is None:
            handle, name = tempfile.mkstemp(prefix="serving-", suffix=".log")
            os.close(handle)
            log_path = pathlib.Path(name)
        self.log_path = pathlib.Path(log_path)
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            server_command([f"--port={self.grpc_port}", f"--rest_api_port={self.rest_port}",
                            *flags]),
            env={**server_env(), **(extra_env or {})}, stdout=self._log,
            stderr=subprocess.STDOUT)

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def log(self) -> str:
        """Everything the server wrote so far (kept after `stop()` removes a temporary log)."""
        return self.log_path.read_text() if self.log_path.exists() else self._final_log

    def _fail(self, reason: str) -> ServerProcessError:
        """Stop the server and describe why, with the tail of its log."""
        self.stop()
        tail = "".join(self.log().splitlines(keepends=True)[-15:])
        where = "" if self._temporary_log else f" (log: {self.log_path})"
        return ServerProcessError(f"{reason}{where}\n--- server log tail ---\n{tail}")

    def _model_states(self, name: str, timeout: float) -> Optional[list]:
        """The model's version states, [] while REST answers but the model is unknown, None
        while REST does not answer yet."""
        url = f"http://{self.rest}/v1/models/{name}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return json.loads(response.read())["model_version_status"]
        except urllib.error.HTTPError:
            return []
        except OSError:
            return None

    def wait_ready(self, models: Sequence[str] = (), timeout: float = 180.0) -> "ServerProcess":
        """Return once REST answers and each of `models` has an AVAILABLE version; a version that
        ends with a load error, an exited server or the timeout raise ServerProcessError."""
        deadline = time.monotonic() + timeout
        pending = list(models) or [""]
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise self._fail(f"model server exited with code {self.process.returncode}")
            states = self._model_states(pending[0] or "_", timeout=2)
            if states is not None and not pending[0]:
                return self
            if any(s["state"] == "AVAILABLE" for s in states or ()):
                pending.pop(0)
                if not pending:
                    return self
                continue
            for state in states or ():
                if state["state"] == "END" and state["status"].get("error_code", "OK") != "OK":
                    raise self._fail(f"model {pending[0]} failed to load: "
                                     f"{state['status'].get('error_message', '')}")
            time.sleep(0.2)
        raise self._fail(f"model server not ready after {timeout:.0f} s")

    def stop(self, grace: float = 15.0) -> Optional[int]:
        """SIGTERM, then SIGKILL after `grace` seconds; returns the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self._log.closed:
            self._log.close()
        if self._temporary_log and self.log_path.exists():
            self._final_log = self.log_path.read_text()
            self.log_path.unlink()
        return self.process.returncode
