"""A Spark standalone cluster on loopback (a master, a worker with 2 cores and a history server,
JVMs started with pyspark's `bin/spark-class`) with Beam's Spark job server in front of it.

`make cluster-tools` installs the parts into .cache/: pyspark (SPARK_VERSION, --no-deps, its own
venv) and beam-runners-spark-3 with its runtime jars. The job server is the Spark driver: it runs
with pyspark's own Spark jars, so driver and cluster are the exact same Spark (apache/beam#21092).
Each Beam job is one Spark application; its event log goes to `events/`, which the history server
serves at /api/v1/applications after the application ends. `up` is idempotent like Flink's.
"""
import dataclasses
import json
import os
import pathlib
import urllib.request
from typing import Dict, List, Optional

from data import settings
from pipelines.cluster import jvm
from serving.server.process import free_ports

CLUSTER_NAME = "local"
DEFAULT_CORES = 2
SPARK_VERSION = "3.5.7"
JOB_SERVER_MAIN = "org.apache.beam.runners.spark.SparkJobServerDriver"
MASTER_MAIN = "org.apache.spark.deploy.master.Master"
WORKER_MAIN = "org.apache.spark.deploy.worker.Worker"
HISTORY_MAIN = "org.apache.spark.deploy.history.HistoryServer"
# What Spark's launcher adds for a driver on Java 17 (JavaModuleOptions) beyond Flink's list;
# the job server is started with plain `java`, so it needs them itself.
SPARK_JAVA_OPENS = jvm.JAVA_OPENS.split() + [
    f"--add-opens=java.base/{package}=ALL-UNNAMED" for package in (
        "java.lang.invoke", "jdk.internal.ref", "sun.nio.cs", "sun.security.action",
        "sun.util.calendar")] + ["-Djdk.reflect.useDirectMethodHandle=false"]


@dataclasses.dataclass
class Cluster(jvm.Folders):
    """One local Spark cluster: its folder and the ports `up` chose for it."""

    home: pathlib.Path
    master_port: int
    master_ui_port: int
    worker_ui_port: int
    history_port: int
    driver_ui_port: int
    job_port: int
    artifact_port: int
    cores: int = DEFAULT_CORES

    @property
    def master_url(self) -> str:
        """What the job server and the worker connect to."""
        return f"spark://127.0.0.1:{self.master_port}"

    @property
    def rest_url(self) -> str:
        """The master's web UI; `/json/` is its JSON API (workers, running and finished apps)."""
        return f"http://127.0.0.1:{self.master_ui_port}"

    @property
    def history_url(self) -> str:
        """The history server: finished applications' REST API at /api/v1/applications."""
        return f"http://127.0.0.1:{self.history_port}"

    @property
    def events_dir(self) -> pathlib.Path:
        """Spark's event logs of the applications (what the history server reads)."""
        return self.home / "events"

    def describe(self) -> str:
        """How errors and summaries name the cluster."""
        return f"Spark cluster '{CLUSTER_NAME}' ({self.master_url}, UI {self.rest_url})"

    def pid_file(self, daemon: str) -> pathlib.Path:
        """The pid file of 'master', 'worker', 'history' or 'job-server'."""
        return self.home / "pids" / f"{daemon}.pid"


def spark_home() -> pathlib.Path:
    """pyspark's folder in the Spark venv: bin/spark-class and jars/."""
    found = sorted(settings.SPARK_VENV.glob("lib/python*/site-packages/pyspark"))
    if not found or not list((found[0] / "jars").glob(f"spark-core_*-{SPARK_VERSION}.jar")):
        raise jvm.ClusterError(f"Spark {SPARK_VERSION} (pyspark) is not installed in "
                               f"{settings.SPARK_VENV}: run `make cluster-tools`")
    return found[0]


def job_server_classpath() -> str:
    """Beam's Spark runner jars (copied by Maven), then pyspark's Spark jars."""
    lib = settings.SPARK_JOB_SERVER_JARS / "lib"
    if not list(lib.glob("beam-runners-spark-3-*.jar")):
        raise jvm.ClusterError(f"Beam's Spark job server is not in {lib}: run "
                               "`make cluster-tools`")
    return f"{lib / '*'}:{spark_home() / 'jars' / '*'}"


def load(home: Optional[pathlib.Path] = None) -> Optional[Cluster]:
    """The cluster `up` recorded in `home` (running or not), or None."""
    return jvm.load_state(pathlib.Path(home or settings.SPARK_CLUSTER_HOME), Cluster)


def _write_properties(cluster: Cluster) -> pathlib.Path:
    """The daemons' spark-defaults (passed with --properties-file): loopback, event logs."""
    properties = {
        "spark.history.fs.logDirectory": cluster.events_dir.as_uri(),
        "spark.history.ui.port": cluster.history_port,
        "spark.history.fs.update.interval": "2s",
        # Parsed applications go to a disk store, not only the heap.
        "spark.history.store.path": str(cluster.home / "history-store"),
        "spark.ui.reverseProxy": "false",
    }
    path = cluster.home / "conf" / "spark-defaults.conf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{key} {value}\n" for key, value in properties.items()))
    return path


def driver_properties(cluster: Cluster) -> Dict[str, str]:
    """The Spark settings of the job server's SparkContexts (one per Beam job; SparkConf reads
    them from the JVM's system properties): all the worker's cores for one executor, event logs
    for the history server, the driver's UI on a known port."""
    return {
        "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.port": str(cluster.driver_ui_port),
        "spark.cores.max": str(cluster.cores), "spark.executor.cores": str(cluster.cores),
        "spark.default.parallelism": str(cluster.cores),
        "spark.executor.memory": "2g",
        # Beam's jars from this machine's folder, before Spark's own: with Spark's Guava 14
        # first, every application's first task failed ("NoSuchMethodError: ...Preconditions
        # .checkState(boolean, String, long)" in gcsio) and was retried.
        "spark.executor.extraClassPath": str(settings.SPARK_JOB_SERVER_JARS / "lib" / "*"),
        # A Transform job logs ~300 MB of JSON events (Beam's metrics accumulators per stage).
        "spark.eventLog.enabled": "true", "spark.eventLog.compress": "true",
        "spark.eventLog.dir": cluster.events_dir.as_uri(),
        "spark.local.dir": str(cluster.home / "tmp"),
    }


def _daemon_env(cluster: Cluster, memory: str = "512m") -> Dict[str, str]:
    return dict(os.environ, SPARK_HOME=str(spark_home()), SPARK_LOCAL_IP="127.0.0.1",
                SPARK_LOG_DIR=str(cluster.logs_dir), SPARK_DAEMON_MEMORY=memory,
                SPARK_WORKER_DIR=str(cluster.home / "work"))


def _start_class(cluster: Cluster, name: str, main: str, *args: str,
                 memory: str = "512m") -> None:
    command = [str(spark_home() / "bin" / "spark-class"), main, *args,
               "--properties-file", str(cluster.home / "conf" / "spark-defaults.conf")]
    jvm.start_daemon(command, cluster.logs_dir / f"{name}.log", cluster.pid_file(name),
                     env=_daemon_env(cluster, memory))


def _start_master(cluster: Cluster) -> None:
    _start_class(cluster, "master", MASTER_MAIN, "--host", "127.0.0.1",
                 "--port", str(cluster.master_port), "--webui-port", str(cluster.master_ui_port))


def _start_worker(cluster: Cluster) -> None:
    (cluster.home / "work").mkdir(exist_ok=True)
    _start_class(cluster, "worker", WORKER_MAIN, "--host", "127.0.0.1",
                 "--cores", str(cluster.cores), "--memory", "3g",
                 "--webui-port", str(cluster.worker_ui_port),
                 "--work-dir", str(cluster.home / "work"), cluster.master_url)


def _start_history(cluster: Cluster) -> None:
    cluster.events_dir.mkdir(exist_ok=True)
    # Replaying Transform's event log (hundreds of MB of JSON) took more than a 512 MB heap
    # ("OutOfMemoryError: Java heap space", HTTP 500 for the application's REST API).
    _start_class(cluster, "history", HISTORY_MAIN, memory="2g")


def _start_job_server(cluster: Cluster) -> None:
    cluster.staging_dir.mkdir(parents=True, exist_ok=True)
    (cluster.home / "tmp").mkdir(exist_ok=True)
    command = ["java", "-Xmx1g", *SPARK_JAVA_OPENS,
               *(f"-D{key}={value}" for key, value in driver_properties(cluster).items()),
               "-cp", job_server_classpath(), JOB_SERVER_MAIN,
               f"--spark-master-url={cluster.master_url}", "--job-host=localhost",
               f"--job-port={cluster.job_port}", f"--artifact-port={cluster.artifact_port}",
               "--expansion-port=0", f"--artifacts-dir={cluster.staging_dir}"]
    jvm.start_daemon(command, cluster.logs_dir / "job-server.log", cluster.pid_file("job-server"),
                     env=_daemon_env(cluster))


def pids(cluster: Cluster, daemon: str) -> List[int]:
    """The running pids of 'master', 'worker', 'history' or 'job-server'."""
    return jvm.alive_pids(cluster.pid_file(daemon))


def get_json(url: str, timeout: float = 5.0):
    """GET a URL of one of the cluster's web servers and return its JSON."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def master_json(cluster: Cluster):
    """The master's JSON API: workers, cores, active and completed applications."""
    return get_json(cluster.rest_url + "/json/")


def history(cluster: Cluster, path: str):
    """GET a path of the history server's REST API (e.g. '/applications')."""
    return get_json(cluster.history_url + "/api/v1" + path, timeout=60.0)


def status(cluster: Optional[Cluster]) -> Dict:
    """The cluster's health from its processes and the master's JSON API: 'healthy' is True when
    the master is ALIVE with a worker of `cores` cores, and the history and job servers listen."""
    if cluster is None:
        return {"healthy": False, "problem": "no cluster was started"}
    report = {"name": CLUSTER_NAME, "master": cluster.master_url, "rest": cluster.rest_url,
              "history": cluster.history_url, "logs": str(cluster.logs_dir),
              "pids": {daemon: pids(cluster, daemon)
                       for daemon in ("master", "worker", "history", "job-server")},
              "job_server": f"localhost:{cluster.job_port}"}
    try:
        master = master_json(cluster)
    except (OSError, ValueError) as error:
        return dict(report, healthy=False, problem=f"the master does not answer ({error})")
    alive = [w for w in master.get("workers", []) if w.get("state") == "ALIVE"]
    report.update(spark_version=SPARK_VERSION, workers=len(alive),
                  cores=sum(w.get("cores", 0) for w in alive))
    if not report["pids"]["worker"]:  # the master notices a lost worker only after heartbeats
        return dict(report, healthy=False, problem="no worker process is running")
    if report["cores"] < cluster.cores:
        return dict(report, healthy=False,
                    problem=f"{report['cores']} of {cluster.cores} worker cores registered")
    if not jvm.port_open(cluster.history_port):
        return dict(report, healthy=False, problem="the history server does not listen on "
                                                   f"127.0.0.1:{cluster.history_port}")
    if not jvm.port_open(cluster.job_port):
        return dict(report, healthy=False,
                    problem=f"Beam's job server does not listen on localhost:{cluster.job_port}")
    return dict(report, healthy=True)


def _parts(cluster: Cluster) -> List[jvm.Part]:
    return [jvm.Part("master", lambda: pids(cluster, "master"), lambda: _start_master(cluster)),
            jvm.Part("worker", lambda: pids(cluster, "worker"), lambda: _start_worker(cluster)),
            jvm.Part("history server", lambda: pids(cluster, "history"),
                     lambda: _start_history(cluster)),
            jvm.Part("Beam job server", lambda: pids(cluster, "job-server"),
                     lambda: _start_job_server(cluster))]


def up(home: Optional[pathlib.Path] = None, cores: int = DEFAULT_CORES,
       timeout: float = 180.0) -> Cluster:
    """Starts the cluster (or what of it is not running) and waits until it is healthy."""
    home = pathlib.Path(home or settings.SPARK_CLUSTER_HOME).resolve()
    job_server_classpath()
    cluster = load(home)
    if cluster is None or not pids(cluster, "master"):
        cluster = jvm.same_ports_if_free(cluster, cores=cores)
        if cluster is None:
            names = ("master_port", "master_ui_port", "worker_ui_port", "history_port",
                     "driver_ui_port", "job_port", "artifact_port")
            cluster = Cluster(home, cores=cores, **dict(zip(names, free_ports(len(names)))))
        for folder in ("logs", "pids"):
            (home / folder).mkdir(parents=True, exist_ok=True)
        _write_properties(cluster)
        jvm.save_state(cluster)
    for part in _parts(cluster):
        if not part.alive():
            part.start()
    jvm.wait_healthy(cluster, status, _parts(cluster), timeout)
    return cluster


def down(home: Optional[pathlib.Path] = None) -> Optional[Cluster]:
    """Stops the job server, the worker, the history server and the master `up` started; returns
    the cluster it stopped (None when none was recorded). Its logs and ports stay for the next
    `up`. The worker stops its executors when it exits."""
    cluster = load(home)
    if cluster is None:
        return None
    for daemon in ("job-server", "worker", "history", "master"):
        for pid in pids(cluster, daemon):
            jvm.stop_pid(pid)
    jvm.remove_pid_files(cluster.home)
    return cluster


def require_healthy(home: Optional[pathlib.Path] = None) -> Cluster:
    """The running cluster, or a ClusterError naming it and what to do (before a run starts)."""
    return jvm.require_healthy(load(home), status, f"Spark cluster '{CLUSTER_NAME}'",
                               "`tfxp cluster up --engine spark`")


def beam_args(cluster: Cluster) -> List[str]:
    """Beam options that send a pipeline to the cluster's job server, LOOPBACK as on Flink
    (jvm.loopback_beam_args), with Python's pre-optimisation: without it Beam's Python reads run
    on Spark in a single partition (apache/beam#24422)."""
    return jvm.loopback_beam_args(cluster.job_port, cluster.cores) + [
        "--experiments=pre_optimize=all", f"--files_to_stage={staged_jar()}"]


def staged_jar() -> pathlib.Path:
    """The one jar the job server stages to the executors (beam-runners-spark-3). Without a
    files_to_stage, Beam stages its whole classpath, ~400 MB copied into the worker's folder by
    every application; the executors read Beam's jars from spark.executor.extraClassPath."""
    return sorted((settings.SPARK_JOB_SERVER_JARS / "lib").glob("beam-runners-spark-3-*.jar"))[0]
