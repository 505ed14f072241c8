"""What the local clusters' JVMs have in common (Flink's and Spark's): the state file that keeps
a cluster's ports between `up`s, pid files, ports, stopping a process, Beam's LOOPBACK options.

The engine modules (flink.py, spark.py) start their own daemons; this module never knows which.
"""
import dataclasses
import json
import os
import pathlib
import signal
import socket
import subprocess
import time
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Type, TypeVar

STATE_FILE = "cluster.json"
# Java 17 needs these for Flink's, Spark's and Beam's reflection (the list apache-flink's
# config.yaml ships, with what Spark's launcher adds for its driver: JavaModuleOptions).
JAVA_OPENS = " ".join(
    ["--add-exports=java.base/sun.net.util=ALL-UNNAMED",
     "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED"]
    + [f"--add-opens=java.base/{package}=ALL-UNNAMED" for package in (
        "java.lang", "java.net", "java.io", "java.nio", "sun.nio.ch", "java.lang.reflect",
        "java.text", "java.time", "java.util", "java.util.concurrent",
        "java.util.concurrent.atomic", "java.util.concurrent.locks")])

State = TypeVar("State")


class ClusterError(RuntimeError):
    """The cluster's tools are missing, it did not come up, or it is down."""


class Folders:
    """The folders under a local cluster's home (a base of the engines' Cluster dataclasses)."""

    home: pathlib.Path

    @property
    def logs_dir(self) -> pathlib.Path:
        """The cluster's daemons' and job server's logs."""
        return self.home / "logs"

    @property
    def staging_dir(self) -> pathlib.Path:
        """Where the job server keeps the artifacts Beam stages (one folder every worker reads)."""
        return self.home / "staging"


def state_path(home: pathlib.Path) -> pathlib.Path:
    """The file `up` writes the cluster's ports to."""
    return home / STATE_FILE


def load_state(home: pathlib.Path, kind: Type[State]) -> Optional[State]:
    """The cluster recorded in `home` (a dataclass with a `home` field), or None."""
    path = state_path(home)
    if not path.exists():
        return None
    return kind(**{**json.loads(path.read_text()), "home": path.parent})


def save_state(cluster) -> None:
    """Records the cluster's fields (all but its home) for the next `load_state`."""
    state_path(cluster.home).write_text(json.dumps(
        {k: v for k, v in dataclasses.asdict(cluster).items() if k != "home"}) + "\n")


def alive_pids(pid_file: pathlib.Path) -> List[int]:
    """The pids listed in `pid_file` that still run."""
    pids = []
    for line in pid_file.read_text().split() if pid_file.exists() else []:
        try:
            os.kill(int(line), 0)
        except (ProcessLookupError, ValueError):
            continue
        pids.append(int(line))
    return pids


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def port_free(port: int) -> bool:
    """Whether 127.0.0.1:port can be bound."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def start_daemon(command: Sequence[str], log: pathlib.Path, pid_file: pathlib.Path,
                 env: Optional[dict] = None) -> int:
    """Starts a JVM (or a script that execs one) in its own session, output to `log`, and
    records its pid in `pid_file`."""
    with open(log, "ab") as output:
        process = subprocess.Popen(list(command), stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True, env=env)
    pid_file.write_text(f"{process.pid}\n")
    return process.pid


def stop_pid(pid: Optional[int], timeout: float = 20.0) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds."""
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)


def same_ports_if_free(stopped, **changes):
    """The stopped cluster (a dataclass whose `*_port` fields are its ports) again, with
    `changes`, when all its ports are free: the job endpoint is part of the Beam arguments,
    which are part of TFX's cache key, so a cluster restarted on new ports would re-run every
    step. None when there was none or a port is taken."""
    if stopped is None:
        return None
    ports = [value for name, value in dataclasses.asdict(stopped).items()
             if name.endswith("_port")]
    if not all(port_free(port) for port in ports):
        return None
    return dataclasses.replace(stopped, **changes)


class Part(NamedTuple):
    """One process of a cluster: its name, what says it runs, what starts it."""

    what: str
    alive: Callable[[], object]
    start: Callable[[], object]


START_ATTEMPTS = 3


def wait_healthy(cluster, status: Callable[[object], Dict], parts: Sequence[Part],
                 timeout: float) -> Dict:
    """Waits until `status(cluster)` is healthy, starting again a part that exited while
    starting: on a loaded machine Flink's Pekko remoting gives up after a fixed 10 s ("Could not
    create actor system: Futures timed out after [10000 milliseconds]"; pekko.startup-timeout
    does not reach it), and a second start usually succeeds."""
    deadline = time.monotonic() + timeout
    starts = {part.what: 1 for part in parts}
    report = status(cluster)
    while not report["healthy"] and time.monotonic() < deadline:
        for part in parts:
            if part.alive():
                continue
            if starts[part.what] >= START_ATTEMPTS:
                raise ClusterError(f"the {part.what} of {cluster.describe()} exited while "
                                   f"starting, {START_ATTEMPTS} times; see the logs in "
                                   f"{cluster.logs_dir}")
            starts[part.what] += 1
            part.start()
        time.sleep(1.0)
        report = status(cluster)
    if not report["healthy"]:
        raise ClusterError(f"{cluster.describe()} did not come up in {timeout:.0f}s: "
                           f"{report['problem']}; see the logs in {cluster.logs_dir}")
    return report


def require_healthy(cluster, status: Callable[[object], Dict], unnamed: str, start: str):
    """`cluster` when `status` says it is healthy, else a ClusterError naming it (or `unnamed`
    when none was started), the problem and the command that starts it."""
    report = status(cluster)
    if not report["healthy"]:
        where = cluster.describe() if cluster else unnamed
        raise ClusterError(f"{where} is not usable: {report['problem']}. Start it with {start}.")
    return cluster


def remove_pid_files(home: pathlib.Path) -> None:
    """Forgets the stopped daemons of the cluster in `home`."""
    for pid_file in (home / "pids").glob("*.pid"):
        pid_file.unlink()


def loopback_beam_args(job_port: int, parallelism: int) -> List[str]:
    """Beam options that send a pipeline to a job server on loopback. LOOPBACK: the SDK harness
    runs in the submitting tfxp process, which already imports the user's module (on a cluster
    of several machines use EXTERNAL with a worker pool running the project's image)."""
    return ["--runner=PortableRunner", f"--job_endpoint=localhost:{job_port}",
            "--environment_type=LOOPBACK", f"--parallelism={parallelism}"]
