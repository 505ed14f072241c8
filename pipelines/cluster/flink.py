"""A Flink 1.19 session cluster on loopback (JobManager and TaskManager JVMs from PyPI's
apache-flink + apache-flink-libraries) with Beam's Flink job server in front of it.

`make cluster-tools` installs the parts into .cache/; `up` writes the cluster's own config
folder (free ports, slots, loopback only) under settings.CLUSTER_HOME, starts the three JVMs and
waits until Flink's REST API reports the TaskManager's slots and the job server accepts
connections. `up` is idempotent: a healthy cluster is left alone, a dead TaskManager or job
server is started again (the JobManager keeps the cluster's ports).
"""
import dataclasses
import json
import os
import pathlib
import shutil
import subprocess
import urllib.request
from typing import Dict, List, Optional

from data import settings
from pipelines.cluster.jvm import (JAVA_OPENS, STATE_FILE, ClusterError, alive_pids,
                                   loopback_beam_args, port_open, start_daemon, stop_pid)
from pipelines.cluster import jvm
from serving.server.process import free_ports

CLUSTER_NAME = "local"
DEFAULT_SLOTS = 2
JOB_SERVER_MAIN = "org.apache.beam.runners.flink.FlinkJobServerDriver"


@dataclasses.dataclass
class Cluster(jvm.Folders):
    """One local cluster: its folder and the ports `up` chose for it."""

    home: pathlib.Path
    rest_port: int
    rpc_port: int
    job_port: int
    artifact_port: int
    slots: int = DEFAULT_SLOTS

    @property
    def rest_url(self) -> str:
        """Flink's REST API and web UI."""
        return f"http://localhost:{self.rest_port}"

    def describe(self) -> str:
        """How errors and summaries name the cluster."""
        return f"Flink cluster '{CLUSTER_NAME}' ({self.rest_url})"

    def pid_file(self, daemon: str) -> pathlib.Path:
        """flink-daemon.sh's pid file for 'standalonesession' or 'taskexecutor'."""
        return self.home / "pids" / f"flink-{os.environ.get('USER', '')}-{daemon}.pid"


def flink_home() -> pathlib.Path:
    """pyflink's folder in the Flink venv: bin/*.sh, lib/flink-dist*.jar, conf/."""
    found = sorted(settings.FLINK_VENV.glob("lib/python*/site-packages/pyflink"))
    if not found or not list((found[0] / "lib").glob("flink-dist*.jar")):
        raise ClusterError(f"Flink is not installed in {settings.FLINK_VENV}: run "
                           "`make cluster-tools`")
    return found[0]


def job_server_classpath() -> str:
    """The job server's jars (copied by Maven), as a java -cp wildcard."""
    lib = settings.FLINK_JOB_SERVER_JARS / "lib"
    if not list(lib.glob("beam-runners-flink-1.19-*.jar")):
        raise ClusterError(f"Beam's Flink job server is not in {lib}: run `make cluster-tools`")
    return str(lib / "*")


def load(home: Optional[pathlib.Path] = None) -> Optional[Cluster]:
    """The cluster `up` recorded in `home` (running or not), or None."""
    return jvm.load_state(pathlib.Path(home or settings.CLUSTER_HOME), Cluster)


def _write_config(cluster: Cluster) -> pathlib.Path:
    """The cluster's own conf/ (Flink reads FLINK_CONF_DIR): loopback, its ports, its slots.
    JSON is YAML, so config.yaml is written with json."""
    conf = cluster.home / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    for properties in (flink_home() / "conf").glob("log4j*.properties"):
        shutil.copy(properties, conf / properties.name)
    config = {
        "env": {"java": {"opts": {"all": JAVA_OPENS}}},
        "jobmanager": {"bind-host": "localhost", "rpc": {"address": "localhost",
                                                         "port": cluster.rpc_port},
                       # A Beam job graph is large (Transform's carries its analyzers' payloads);
                       # with 1024m (448 MiB of heap) the JobManager died of "Java heap space"
                       # when a Transform job was submitted after a failed one.
                       "memory": {"process": {"size": "2048m"}}},
        "taskmanager": {"bind-host": "localhost", "host": "localhost",
                        "numberOfTaskSlots": cluster.slots,
                        # A Beam batch job has dozens of blocking result partitions; Flink's
                        # sort shuffle reserves 512 buffers for each by default and ran out
                        # ("Insufficient number of network buffers: required 512").
                        # Beam's Fn API data plane (gRPC on Netty) sends from direct memory,
                        # which Flink caps at the off-heap sizes: on 10x census CsvExampleGen died
                        # of "OutOfMemoryError: Direct buffer memory" with the defaults (task
                        # off-heap 0, framework off-heap 128m).
                        "memory": {"process": {"size": "3072m"},
                                   "network": {"min": "320m", "max": "320m"},
                                   "task": {"off-heap": {"size": "512m"}},
                                   "framework": {"off-heap": {"size": "256m"}}},
                        "network": {"sort-shuffle": {"min-buffers": 64}}},
        "blob": {"server": {"port": "0"}},
        "parallelism": {"default": cluster.slots},
        "rest": {"address": "localhost", "bind-address": "localhost", "port": cluster.rest_port},
        # A lost TaskManager fails the running job at once instead of retrying it for minutes.
        "restart-strategy": {"type": "none"},
        # The machine is shared and slow: RPCs to a busy TaskManager took over the 10 s default
        # (Transform failed with "AskTimeoutException ... after [10000 ms]").
        # (and the JobManager's actor system failed to start: "Futures timed out after [10000
        # milliseconds]").
        "pekko": {"ask": {"timeout": "120 s"}, "startup-timeout": "120 s",
                  "lookup": {"timeout": "60 s"}, "tcp": {"timeout": "60 s"}},
    }
    (conf / "config.yaml").write_text(json.dumps(config, indent=2) + "\n")
    return conf


def _flink_env(cluster: Cluster) -> Dict[str, str]:
    return dict(os.environ, FLINK_HOME=str(flink_home()), FLINK_CONF_DIR=str(cluster.home / "conf"),
                FLINK_LOG_DIR=str(cluster.logs_dir), FLINK_PID_DIR=str(cluster.home / "pids"))


def _daemon(cluster: Cluster, script: str, action: str) -> None:
    subprocess.run(["bash", str(flink_home() / "bin" / script), action], env=_flink_env(cluster),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def taskmanager_pids(cluster: Cluster) -> List[int]:
    """The running TaskManager JVMs' pids."""
    return alive_pids(cluster.pid_file("taskexecutor"))


def jobmanager_pids(cluster: Cluster) -> List[int]:
    """The running JobManager JVM's pid (one, or none)."""
    return alive_pids(cluster.pid_file("standalonesession"))


def job_server_pid(cluster: Cluster) -> Optional[int]:
    """The running job server's pid, or None."""
    pids = alive_pids(cluster.home / "pids" / "job-server.pid")
    return pids[0] if pids else None


def rest(cluster: Cluster, path: str, timeout: float = 5.0):
    """GET a Flink REST API path (e.g. '/jobs/overview') and return its JSON."""
    with urllib.request.urlopen(cluster.rest_url + path, timeout=timeout) as response:
        return json.load(response)


def status(cluster: Optional[Cluster]) -> Dict:
    """The cluster's health from its processes and Flink's REST API: 'healthy' is True when the
    REST API answers with at least `slots` slots on a TaskManager and the job server listens."""
    if cluster is None:
        return {"healthy": False, "problem": "no cluster was started"}
    report = {"name": CLUSTER_NAME, "rest": cluster.rest_url, "logs": str(cluster.logs_dir),
              "jobmanager_pids": jobmanager_pids(cluster),
              "taskmanager_pids": taskmanager_pids(cluster),
              "job_server": f"localhost:{cluster.job_port}"}
    try:
        overview = rest(cluster, "/v1/overview")
    except (OSError, ValueError) as error:
        return dict(report, healthy=False, problem=f"the REST API does not answer ({error})")
    report.update(flink_version=overview.get("flink-version"),
                  taskmanagers=overview.get("taskmanagers"), slots=overview.get("slots-total"))
    if not report["taskmanager_pids"]:  # the REST API notices a lost one only after heartbeats
        return dict(report, healthy=False, problem="no TaskManager process is running")
    if overview.get("slots-total", 0) < cluster.slots:
        return dict(report, healthy=False,
                    problem=f"{overview.get('slots-total', 0)} of {cluster.slots} TaskManager "
                            "slots registered")
    if not port_open(cluster.job_port):
        return dict(report, healthy=False,
                    problem=f"Beam's job server does not listen on localhost:{cluster.job_port}")
    return dict(report, healthy=True)


def _start_job_server(cluster: Cluster) -> None:
    cluster.staging_dir.mkdir(parents=True, exist_ok=True)
    command = ["java", "-Xmx768m", *JAVA_OPENS.split(), "-cp", job_server_classpath(),
               JOB_SERVER_MAIN, f"--flink-master=localhost:{cluster.rest_port}",
               "--job-host=localhost", f"--job-port={cluster.job_port}",
               f"--artifact-port={cluster.artifact_port}", "--expansion-port=0",
               f"--artifacts-dir={cluster.staging_dir}"]
    start_daemon(command, cluster.logs_dir / "job-server.log",
                 cluster.home / "pids" / "job-server.pid")


def _parts(cluster: Cluster) -> List[jvm.Part]:
    return [jvm.Part("JobManager", lambda: jobmanager_pids(cluster),
                     lambda: _daemon(cluster, "jobmanager.sh", "start")),
            jvm.Part("TaskManager", lambda: taskmanager_pids(cluster),
                     lambda: _daemon(cluster, "taskmanager.sh", "start")),
            jvm.Part("Beam job server", lambda: job_server_pid(cluster),
                     lambda: _start_job_server(cluster))]


def up(home: Optional[pathlib.Path] = None, slots: int = DEFAULT_SLOTS,
       timeout: float = 180.0) -> Cluster:
    """Starts the cluster (or what of it is not running) and waits until it is healthy."""
    home = pathlib.Path(home or settings.CLUSTER_HOME).resolve()
    job_server_classpath()
    cluster = load(home)
    if cluster is None or not jobmanager_pids(cluster):
        cluster = jvm.same_ports_if_free(cluster, slots=slots)
        if cluster is None:
            rest_port, rpc_port, job_port, artifact_port = free_ports(4)
            cluster = Cluster(home, rest_port=rest_port, rpc_port=rpc_port, job_port=job_port,
                              artifact_port=artifact_port, slots=slots)
        for folder in ("logs", "pids"):
            (home / folder).mkdir(parents=True, exist_ok=True)
        _write_config(cluster)
        jvm.save_state(cluster)
        _daemon(cluster, "jobmanager.sh", "start")
    if not taskmanager_pids(cluster):
        _daemon(cluster, "taskmanager.sh", "start")
    if job_server_pid(cluster) is None:
        _start_job_server(cluster)
    jvm.wait_healthy(cluster, status, _parts(cluster), timeout)
    return cluster


def down(home: Optional[pathlib.Path] = None) -> Optional[Cluster]:
    """Stops the job server, the TaskManagers and the JobManager `up` started; returns the
    cluster it stopped (None when none was recorded). Its logs and ports stay for the next `up`."""
    cluster = load(home)
    if cluster is None:
        return None
    stop_pid(job_server_pid(cluster))
    for pid in taskmanager_pids(cluster) + jobmanager_pids(cluster):
        stop_pid(pid)
    jvm.remove_pid_files(cluster.home)
    return cluster


def require_healthy(home: Optional[pathlib.Path] = None) -> Cluster:
    """The running cluster, or a ClusterError naming it and what to do (before a run starts)."""
    return jvm.require_healthy(load(home), status, f"Flink cluster '{CLUSTER_NAME}'",
                               "`tfxp cluster up` (or `make cluster`)")


def beam_args(cluster: Cluster, parallelism: int = DEFAULT_SLOTS) -> List[str]:
    """Beam options that send a pipeline to the cluster's job server (jvm.loopback_beam_args)."""
    return loopback_beam_args(cluster.job_port, parallelism)


def cluster_beam_args(runner: str, flink_master: Optional[str],
                      parallelism: int = DEFAULT_SLOTS) -> List[str]:
    """Beam options for components that run in pods of a real cluster (`tfxp kubeflow compile
    --runner flink --flink-master HOST:PORT`): the job server at HOST:PORT, and the EXTERNAL
    environment of the worker-pool sidecar beside each TaskManager, which runs the project's
    image (LOOPBACK would run the Python stages in the component's pod)."""
    if runner == "direct":
        if flink_master:
            raise ValueError("--flink-master needs --runner flink")
        return []
    if not flink_master or ":" not in flink_master:
        raise ValueError(f"--runner flink needs --flink-master HOST:PORT (Beam's Flink job "
                         f"server), got {flink_master!r}")
    return ["--runner=PortableRunner", f"--job_endpoint={flink_master}",
            "--environment_type=EXTERNAL", "--environment_config=localhost:50000",
            f"--parallelism={parallelism}"]
