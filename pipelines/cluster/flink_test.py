"""The cluster's configuration and Beam options (no JVM needed; `make test-cluster` runs one)."""
import json
import pathlib

import pytest
import yaml

from pipelines.cluster import flink


def test_a_real_cluster_gets_the_job_server_and_the_external_worker_pool():
    args = flink.cluster_beam_args("flink", "tfxp-flink-jobserver:8099")
    assert "--job_endpoint=tfxp-flink-jobserver:8099" in args
    assert "--environment_type=EXTERNAL" in args and "--parallelism=2" in args
    assert flink.cluster_beam_args("direct", None) == []


@pytest.mark.parametrize("runner, master, problem", [
    ("flink", None, "--runner flink needs --flink-master HOST:PORT"),
    ("flink", "nohost", "--runner flink needs --flink-master HOST:PORT"),
    ("direct", "h:1", "--flink-master needs --runner flink"),
])
def test_a_flink_master_without_flink_or_flink_without_a_master_is_refused(runner, master,
                                                                           problem):
    with pytest.raises(ValueError, match=problem):
        flink.cluster_beam_args(runner, master)


def test_the_local_cluster_runs_loopback_at_parallelism_2_on_its_job_port(tmp_path):
    cluster = flink.Cluster(tmp_path, rest_port=1, rpc_port=2, job_port=3, artifact_port=4)
    assert flink.beam_args(cluster) == ["--runner=PortableRunner", "--job_endpoint=localhost:3",
                                        "--environment_type=LOOPBACK", "--parallelism=2"]


def test_a_missing_or_stopped_cluster_is_not_healthy(tmp_path):
    assert flink.status(None) == {"healthy": False, "problem": "no cluster was started"}
    (tmp_path / flink.STATE_FILE).write_text(json.dumps(
        {"rest_port": 9, "rpc_port": 9, "job_port": 9, "artifact_port": 9, "slots": 2}))
    report = flink.status(flink.load(tmp_path))
    assert report["healthy"] is False and "REST API does not answer" in report["problem"]
    with pytest.raises(flink.ClusterError, match=r"Flink cluster 'local' \(http://localhost:9\) "
                                                 r"is not usable: the REST API does not answer"):
        flink.require_healthy(tmp_path)


def test_manifests_are_valid_yaml_with_the_sidecar_and_both_replica_kinds():
    folder = pathlib.Path(flink.__file__).parent / "manifests"
    deployment = list(yaml.safe_load_all((folder / "flink-deployment.yaml").read_text()))
    kinds = [d["kind"] for d in deployment]
    assert kinds == ["FlinkDeployment", "Deployment", "Service"]
    sidecar = deployment[0]["spec"]["taskManager"]["podTemplate"]["spec"]["containers"][0]
    assert "--service_port=50000" in sidecar["command"]
    tfjob = yaml.safe_load((folder / "census-trainer-tfjob.yaml").read_text())
    assert set(tfjob["spec"]["tfReplicaSpecs"]) == {"Chief", "Worker"}
