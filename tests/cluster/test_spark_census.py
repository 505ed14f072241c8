"""The census sample on a real Spark standalone cluster started by the project (`make
test-cluster`, or `make test-cluster-spark` alone).

The cases build on each other in file order: a run against a Spark cluster that is down stops
before any component; `tfxp cluster up --engine spark` starts it idempotently; `tfxp run --runner
spark` pushes a blessed version whose AUC matches a DirectRunner run of the same sample; Spark's
own APIs then prove where it ran: the master's JSON API lists one finished application per Beam
component, each with the worker's 2 cores, and the history server's REST API shows every stage of
each application split in at least 2 partitions (Python reads run in one partition without
`pre_optimize=all`, apache/beam#24422) with no failed task.
"""
import collections
import time

import pytest

from pipelines import run_info
from pipelines.cluster import flink, spark
from tests.e2e.tfxp import TfxpRun, numbered_folders, run_tfxp

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

PIPELINE = "census-sample"
BEAM_COMPONENTS = ("CsvExampleGen", "StatisticsGen", "Transform", "Evaluator")
# Two census sample runs of the same data and seed differ by this much in AUC at most.
AUC_NOISE = 0.02


@pytest.fixture(scope="module")
def spark_work(work):
    """The suite's paths, with a pipeline home of its own; the Flink cluster of the cases before
    is stopped first (two clusters at once overload 2 cores), the Spark cluster at the end."""
    flink.down(work["cluster"])
    paths = {"home": work["root"] / "spark-home", "destination": work["root"] / "spark-models",
             "direct_home": work["root"] / "direct-home",
             "direct_destination": work["root"] / "direct-models",
             "cluster": work["cluster"] / "spark"}
    yield paths
    spark.down(paths["cluster"])


def _auc(home) -> float:
    info = run_info.load_run(str(home / "metadata.sqlite"), PIPELINE)
    evaluation = info.output("Evaluator", "evaluation")
    return run_info.evaluation_metrics(evaluation.uri)["Overall"]["candidate"]["auc"]


def test_a_spark_cluster_that_is_down_stops_the_run_before_any_component(spark_work):
    status = run_tfxp("cluster", "status", "--engine", "spark")
    assert (status.returncode, status.stdout) == (
        1, "Spark cluster 'local' is not healthy: no cluster was started\n")
    run = run_tfxp("run", "--model", "census", "--sample", "--runner", "spark", "--pipeline-root",
                   str(spark_work["home"]), "--serving-dir", str(spark_work["destination"]))
    assert run.returncode == 1 and "started" not in run.stdout, run.stdout + run.stderr
    assert ("tfxp run: error: Spark cluster 'local' is not usable: no cluster was started. "
            "Start it with `tfxp cluster up --engine spark`.") in run.stderr.splitlines()
    assert not spark_work["home"].exists()


def test_spark_cluster_up_is_idempotent_and_reports_its_uis_and_logs(spark_work):
    first = run_tfxp("cluster", "up", "--engine", "spark")
    assert first.returncode == 0, first.stdout + first.stderr
    cluster = spark.load(spark_work["cluster"])
    assert f"web UI: {cluster.rest_url}" in first.stdout
    assert f"finished applications: {cluster.history_url}" in first.stdout
    assert f"logs:   {cluster.logs_dir}" in first.stdout
    daemons = spark.status(cluster)["pids"]
    second = run_tfxp("cluster", "up", "--engine", "spark")
    assert second.returncode == 0, second.stdout + second.stderr
    assert spark.status(cluster)["pids"] == daemons
    master = spark.master_json(cluster)
    assert (master["status"], master["aliveworkers"], master["cores"]) == ("ALIVE", 1, 2)
    status = run_tfxp("cluster", "status", "--engine", "spark")
    assert status.returncode == 0 and "Spark 3.5.7, 1 worker(s), 2 cores" in status.stdout


def test_census_on_spark_pushes_a_blessed_model_as_good_as_the_direct_runners(spark_work):
    run = TfxpRun(spark_work["home"], spark_work["destination"], "--runner", "spark")
    assert run.finish() == 0, run.output
    assert numbered_folders(spark_work["destination"]) == [1]
    on_spark = run_info.load_run(str(spark_work["home"] / "metadata.sqlite"), PIPELINE)
    direct = TfxpRun(spark_work["direct_home"], spark_work["direct_destination"])
    assert direct.finish() == 0, direct.output
    on_direct = run_info.load_run(str(spark_work["direct_home"] / "metadata.sqlite"), PIPELINE)
    assert on_spark.blessed is True and on_direct.blessed is True
    assert abs(_auc(spark_work["home"]) - _auc(spark_work["direct_home"])) < AUC_NOISE


def _history_of(cluster, finished, timeout: float = 300.0):
    """The history server's finished applications once it has read the event logs of all the
    `finished` ones (it scans the folder every 2 s; a large log takes a while to parse)."""
    deadline = time.monotonic() + timeout
    while True:
        applications = spark.history(cluster, "/applications?status=completed")
        if sorted(app["id"] for app in applications) == sorted(finished):
            return applications
        assert time.monotonic() < deadline, (sorted(finished), applications)
        time.sleep(2.0)


def test_spark_apis_show_each_beam_component_ran_there_on_2_cores_and_partitions(spark_work):
    cluster = spark.load(spark_work["cluster"])
    info = run_info.load_run(str(spark_work["home"] / "metadata.sqlite"), PIPELINE)
    finished = {app["id"]: app for app in spark.master_json(cluster)["completedapps"]}
    applications = _history_of(cluster, finished)
    for component in BEAM_COMPONENTS:
        run = info.component(component)
        ran = [app for app in applications
               if run.started <= app["attempts"][0]["startTimeEpoch"] / 1000 <= run.finished]
        assert len(ran) == 1, f"{component}: {len(ran)} Spark applications"
        app = ran[0]["id"]
        assert (finished[app]["state"], finished[app]["cores"]) == ("FINISHED", 2), component
        assert ran[0]["attempts"][0]["appSparkVersion"] == spark.SPARK_VERSION
        executors = [e for e in spark.history(cluster, f"/applications/{app}/allexecutors")
                     if e["id"] != "driver"]
        assert sum(e["totalCores"] for e in executors) == 2, component
        stages = spark.history(cluster, f"/applications/{app}/stages")
        # SKIPPED: a stage whose shuffle output an earlier job of the application computed.
        statuses = collections.Counter(stage["status"] for stage in stages)
        assert statuses["COMPLETE"] and set(statuses) <= {"COMPLETE", "SKIPPED"}, \
            (component, statuses)
        tasks = collections.Counter(stage["numTasks"] for stage in stages)
        assert min(tasks) >= 2, (component, tasks)
        assert sum(stage["numFailedTasks"] for stage in stages) == 0, component


def test_spark_cluster_down_stops_every_daemon(spark_work):
    cluster = spark.load(spark_work["cluster"])
    result = run_tfxp("cluster", "down", "--engine", "spark")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{cluster.describe()} stopped" in result.stdout
    assert not any(spark.status(cluster).get("pids", {}).values())
    assert spark.status(cluster)["healthy"] is False
