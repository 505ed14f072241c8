"""The census sample on a real Flink cluster started by the project (`make test-cluster`).

The cases build on each other in file order, as a user's runs do: a run against a cluster that
is down stops before any component; a run whose TaskManager is killed during Transform fails
with one line naming the cluster and the component and pushes nothing; after `tfxp cluster up`
the same command resumes from the cache and pushes a blessed version; Flink's REST API and the
TaskManager's log then prove that every Beam component ran on the cluster at parallelism 2.
"""
import os
import signal
import time

import pytest

from pipelines import run_info
from pipelines.cluster import flink
from tests.e2e.tfxp import TfxpRun, numbered_folders, run_tfxp

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

# Part of a vertex name only the component's Beam pipeline has: the labels TFX's executors give
# their transforms, as Flink names the fused stages ("MapPartition at [2]Analyze/...").
COMPONENT_VERTICES = {
    "CsvExampleGen": "]InputToRecord[",
    "StatisticsGen": "]GenerateStatistics[",
    "Transform": "]Analyze/",
    "Evaluator": "ExtractEvaluateAndWriteResults",
}


def test_a_cluster_that_is_down_stops_the_run_before_any_component(work):
    result = run_tfxp("run", "--model", "census", "--sample", "--runner", "flink",
                      "--pipeline-root", str(work["home"]), "--serving-dir",
                      str(work["destination"]))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "tfxp run: error: Flink cluster 'local' is not usable: no cluster was started. " \
           "Start it with `tfxp cluster up`" in result.stderr
    assert "started" not in result.stdout
    assert not work["home"].exists()


def test_cluster_up_is_idempotent_and_reports_its_web_ui_and_logs(work):
    first = run_tfxp("cluster", "up")
    assert first.returncode == 0, first.stdout + first.stderr
    cluster = flink.load(work["cluster"])
    assert f"web UI: {cluster.rest_url}" in first.stdout
    assert f"logs:   {cluster.logs_dir}" in first.stdout
    pids = flink.jobmanager_pids(cluster) + flink.taskmanager_pids(cluster)
    second = run_tfxp("cluster", "up")
    assert second.returncode == 0, second.stdout + second.stderr
    assert flink.jobmanager_pids(cluster) + flink.taskmanager_pids(cluster) == pids
    overview = flink.rest(cluster, "/v1/overview")
    assert (overview["taskmanagers"], overview["slots-total"]) == (1, 2)
    assert overview["flink-version"] == "1.19.3"


def _running_job(cluster, timeout: float = 900.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = [job["jid"] for job in flink.rest(cluster, "/jobs/overview")["jobs"]
                   if job["state"] == "RUNNING"]
        if running:
            return running[0]
        time.sleep(0.5)
    raise AssertionError("no Flink job started running in time")


def test_a_taskmanager_killed_during_transform_fails_the_run_naming_cluster_and_component(work):
    cluster = flink.load(work["cluster"])
    run = TfxpRun(work["home"], work["destination"], "--runner", "flink")
    run.wait_for(r"Transform\s+started")
    job = _running_job(cluster)
    vertices = [v["name"] for v in flink.rest(cluster, f"/jobs/{job}")["vertices"]]
    assert any(COMPONENT_VERTICES["Transform"] in name for name in vertices), vertices
    for pid in flink.taskmanager_pids(cluster):
        os.kill(pid, signal.SIGKILL)
    assert run.finish() == 1
    failure = [line for line in run.lines if line.startswith("The run failed")]
    assert len(failure) == 1, run.output
    assert failure[0].startswith(f"The run failed during Transform on the {cluster.describe()}: ")
    assert "Traceback" not in run.output
    assert numbered_folders(work["destination"]) == []
    assert flink.status(cluster)["healthy"] is False


def test_after_cluster_up_the_same_command_resumes_from_the_cache_and_pushes(work):
    up = run_tfxp("cluster", "up")
    assert up.returncode == 0, up.stdout + up.stderr
    run = TfxpRun(work["home"], work["destination"], "--runner", "flink")
    assert run.finish() == 0
    assert "CsvExampleGen                      cached" in run.output
    assert "StatisticsGen                      cached" in run.output
    assert numbered_folders(work["destination"]) == [1]
    info = run_info.load_run(str(work["home"] / "metadata.sqlite"), "census-sample")
    assert info.blessed is True
    assert info.component("Transform").state == "executed"


def test_flink_rest_api_and_taskmanager_log_show_each_beam_component_ran_there(work):
    cluster = flink.load(work["cluster"])
    jobs = flink.rest(cluster, "/jobs/overview")["jobs"]
    finished = [job for job in jobs if job["state"] == "FINISHED"]
    task_log = "".join(path.read_text(errors="replace")
                       for path in cluster.logs_dir.glob("flink-*-taskexecutor-*.log"))
    for component, marker in COMPONENT_VERTICES.items():
        ran = []
        for job in finished:
            vertices = flink.rest(cluster, f"/jobs/{job['jid']}")["vertices"]
            if any(marker in vertex["name"] for vertex in vertices):
                ran.append((job["jid"], vertices))
        assert len(ran) == 1, f"{component}: {len(ran)} finished Flink jobs"
        jid, vertices = ran[0]
        assert max(vertex["parallelism"] for vertex in vertices) == 2, component
        assert jid in task_log, f"{component}'s job {jid} is not in the TaskManager's log"
