"""The Spark cluster's Beam options, settings and health checks (no JVM; `make test-cluster`
runs one)."""
import json
import socket

import pytest

from data import settings
from pipelines.cluster import engines, jvm, spark
from serving.server.process import free_ports


def _cluster(tmp_path, **ports):
    defaults = dict(master_port=1, master_ui_port=2, worker_ui_port=3, history_port=4,
                    driver_ui_port=5, job_port=6, artifact_port=7)
    return spark.Cluster(tmp_path, **{**defaults, **ports})


@pytest.mark.cluster  # needs the jars of `make spark-tools`, which `make test-cluster` installs
def test_runs_go_to_the_job_server_loopback_pre_optimized_staging_one_jar(tmp_path):
    if not list((settings.SPARK_JOB_SERVER_JARS / "lib").glob("beam-runners-spark-3-*.jar")):
        pytest.fail("Beam's Spark runner jars are missing: run `make spark-tools`")
    args = spark.beam_args(_cluster(tmp_path))
    assert args[:5] == ["--runner=PortableRunner", "--job_endpoint=localhost:6",
                        "--environment_type=LOOPBACK", "--parallelism=2",
                        "--experiments=pre_optimize=all"]
    assert args[5] == f"--files_to_stage={spark.staged_jar()}"


def test_the_driver_uses_all_worker_cores_logs_events_and_reads_beam_jars_locally(tmp_path):
    properties = spark.driver_properties(_cluster(tmp_path))
    assert properties["spark.cores.max"] == properties["spark.executor.cores"] == "2"
    assert properties["spark.default.parallelism"] == "2"
    assert properties["spark.eventLog.dir"] == (tmp_path / "events").as_uri()
    assert properties["spark.executor.extraClassPath"].startswith(
        str(settings.SPARK_JOB_SERVER_JARS))
    assert properties["spark.driver.bindAddress"] == "127.0.0.1"


def test_a_missing_or_stopped_spark_cluster_is_not_healthy(tmp_path):
    assert spark.status(None) == {"healthy": False, "problem": "no cluster was started"}
    (tmp_path / jvm.STATE_FILE).write_text(json.dumps(
        {"master_port": 9, "master_ui_port": 9, "worker_ui_port": 9, "history_port": 9,
         "driver_ui_port": 9, "job_port": 9, "artifact_port": 9, "cores": 2}))
    report = spark.status(spark.load(tmp_path))
    assert report["healthy"] is False and "the master does not answer" in report["problem"]
    with pytest.raises(jvm.ClusterError, match=r"Spark cluster 'local' \(spark://127.0.0.1:9, "
                                               r"UI http://127.0.0.1:9\) is not usable: the "
                                               r"master does not answer .*`tfxp cluster up "
                                               r"--engine spark`"):
        spark.require_healthy(tmp_path)


def test_a_restarted_cluster_keeps_its_ports_only_when_all_are_free(tmp_path):
    names = ("master_port", "master_ui_port", "worker_ui_port", "history_port", "driver_ui_port",
             "job_port", "artifact_port")
    cluster = _cluster(tmp_path, **dict(zip(names, free_ports(len(names)))))
    assert jvm.same_ports_if_free(None, cores=2) is None
    again = jvm.same_ports_if_free(cluster, cores=3)
    assert (again.job_port, again.history_port, again.cores) == (
        cluster.job_port, cluster.history_port, 3)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", cluster.history_port))
        assert jvm.same_ports_if_free(cluster, cores=2) is None


def test_an_unknown_engine_is_refused_naming_the_known_ones():
    assert engines.engine("spark") is spark
    with pytest.raises(ValueError, match="unknown cluster engine 'dask': use one of flink, spark"):
        engines.engine("dask")
