"""Generated configs parse with TF Serving's protos; canary rewrites are validated and atomic."""
import pathlib

import pytest
import yaml
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from serving import canary, configs, protos
from serving.configs import ConfigError

SERVING = pathlib.Path(__file__).resolve().parents[2] / "serving"


def _fake_versions(root: pathlib.Path, model: str, *versions: int) -> None:
    for v in versions:
        (root / model / str(v)).mkdir(parents=True, exist_ok=True)
        (root / model / str(v) / "saved_model.pb").write_bytes(b"")


def _parse(root):
    return text_format.Parse((root / "models.config").read_text(),
                             model_server_config_pb2.ModelServerConfig())


def test_generate_writes_three_configs_that_parse_with_the_protos(tmp_path):
    _fake_versions(tmp_path, "census", 100, 200)
    _fake_versions(tmp_path, "mnist", 7)
    (tmp_path / "census" / "notaversion").mkdir()
    configs.generate(tmp_path)
    config = _parse(tmp_path)
    entries = {e.name: e for e in config.model_config_list.config}
    assert set(entries) == {"census", "mnist"}
    assert entries["census"].base_path == "/models/census"
    assert list(entries["census"].model_version_policy.specific.versions) == [200]
    assert dict(entries["census"].version_labels) == {"stable": 200}
    batching = text_format.Parse((tmp_path / "batching.config").read_text(),
                                 protos.BatchingParameters())
    assert batching.max_batch_size.value == batching.allowed_batch_sizes[-1]
    monitoring = text_format.Parse((tmp_path / "monitoring.config").read_text(),
                                   protos.MonitoringConfig())
    assert monitoring.prometheus_config.enable
    assert monitoring.prometheus_config.path == "/monitoring/prometheus/metrics"


def test_base_path_maps_container_root_to_the_config_directory(tmp_path):
    if pathlib.Path("/models").exists():
        pytest.skip("/models exists on this machine")
    assert configs.resolve_base_path("/models/census", tmp_path) == tmp_path / "census"
    assert configs.resolve_base_path("/srv/m", tmp_path) == pathlib.Path("/srv/m")


@pytest.mark.parametrize("text,needle", [
    ('model_config_list { config { name: "a" base_path: "/models/a" '
     'model_version_policy { specific { versions: 1 } } version_labels { key: "stable" value: 2 } } }',
     "does not serve"),
    ('model_config_list { config { name: "../etc" base_path: "/x" } }', "invalid model name"),
    ('model_config_list { config { name: "a" base_path: "/x" } config { name: "a" base_path: "/y" } }',
     "configured twice"),
    ('model_config_list { config { name: "a" base_path: "/x" version_labels { key: "bad-label" '
     'value: 1 } } }', "invalid version label"),
    ('model_config_list { config { name: "a" } }', "no base_path"),
])
def test_invalid_model_configs_are_rejected_with_the_reason(text, needle):
    with pytest.raises(ConfigError, match=needle):
        configs.validate_models_config(configs.parse_models_config(text))


def test_unparseable_configs_name_the_file():
    with pytest.raises(ConfigError,
                       match="Error parsing text-format tensorflow.serving.ModelServerConfig"):
        configs.parse_models_config("model_config_list { nope: 1 }")
    with pytest.raises(ConfigError, match="must equal max_batch_size"):
        configs.parse_batching_config("max_batch_size { value: 8 } allowed_batch_sizes: 4")
    with pytest.raises(ConfigError, match="no field named"):
        configs.parse_batching_config("enable_large_batch_splitting: true")


def test_on_push_first_version_stable_then_canary_then_stable_policy(tmp_path):
    _fake_versions(tmp_path, "census", 1)
    assert canary.on_push(tmp_path, "census", 1)["role"] == "stable"
    _fake_versions(tmp_path, "census", 2)
    result = canary.on_push(tmp_path, "census", 2)
    assert (result["role"], result["stable"], result["canary"]) == ("canary", 1, 2)
    entry = _parse(tmp_path).model_config_list.config[0]
    assert list(entry.model_version_policy.specific.versions) == [1, 2]
    assert dict(entry.version_labels) == {"stable": 1, "canary": 2}
    _fake_versions(tmp_path, "census", 3)
    result = canary.on_push(tmp_path, "census", 3, policy="stable")
    assert (result["role"], result["stable"], result["canary"]) == ("stable", 3, None)
    assert (tmp_path / "batching.config").exists() and (tmp_path / "monitoring.config").exists()


def test_start_promote_rollback(tmp_path):
    _fake_versions(tmp_path, "census", 1, 2, 3)
    canary.on_push(tmp_path, "census", 1, policy="stable")
    assert canary.start(tmp_path, "census")["census"]["canary"] == 3
    assert canary.start(tmp_path, "census", version=2)["census"]["canary"] == 2
    assert canary.promote(tmp_path, "census")["census"] == {
        "stable": 2, "canary": None, "weight": 0, "served": [2], "versions": [1, 2, 3]}
    assert canary.rollback(tmp_path, "census")["census"]["stable"] == 1
    with pytest.raises(ConfigError, match="no version older than stable"):
        canary.rollback(tmp_path, "census")
    canary.start(tmp_path, "census")
    assert canary.rollback(tmp_path, "census")["census"] == {
        "stable": 1, "canary": None, "weight": 0, "served": [1], "versions": [1, 2, 3]}
    assert not list(tmp_path.glob(".models.config.*")), "temp files left behind"


def test_lifecycle_errors_are_clear(tmp_path):
    _fake_versions(tmp_path, "census", 1)
    canary.on_push(tmp_path, "census", 1)
    with pytest.raises(ConfigError, match="no canary to promote"):
        canary.promote(tmp_path, "census")
    with pytest.raises(ConfigError, match="already stable"):
        canary.start(tmp_path, "census")
    with pytest.raises(ConfigError, match="no version 9 on disk"):
        canary.start(tmp_path, "census", version=9)
    with pytest.raises(ConfigError, match="invalid model name"):
        canary.start(tmp_path, "../census")
    with pytest.raises(ConfigError, match="has no pushed versions"):
        canary.promote(tmp_path, "mnist")
    with pytest.raises(ConfigError, match="not a SavedModel"):
        canary.on_push(tmp_path, "census", 5)
    with pytest.raises(ConfigError, match="unknown push policy"):
        canary.on_push(tmp_path, "census", 1, policy="blue")


def test_production_files_pin_tf_serving_2_16_and_carry_a_valid_config():
    assert "FROM tensorflow/serving:2.16.1\n" in (SERVING / "Dockerfile").read_text()
    compose = yaml.safe_load((SERVING / "docker-compose.yml").read_text())
    assert "./models:/models:ro" in compose["services"]["tfserving"]["volumes"]
    all_docs = [d for f in sorted((SERVING / "k8s").glob("*.yaml"))
                for d in yaml.safe_load_all(f.read_text()) if d and "kind" in d]
    docs = {d["kind"]: d for d in all_docs}
    assert {"ConfigMap", "Deployment", "Service", "HTTPRoute", "GRPCRoute"} <= set(docs)
    data = docs["ConfigMap"]["data"]
    config = configs.parse_models_config(data["models.config"])
    configs.validate_models_config(config)
    assert set(configs.model_entry(config, "census").version_labels) == {"stable", "canary"}
    configs.parse_batching_config(data["batching.config"])
    configs.parse_monitoring_config(data["monitoring.config"])
    deployments = [d for d in all_docs if d["kind"] == "Deployment"]
    assert [d["metadata"]["labels"]["group"] for d in deployments] == ["stable", "canary"]
    for deployment in deployments:
        group = deployment["metadata"]["labels"]["group"]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == "tensorflow/serving:2.16.1"
        assert f"--model_config_file=/etc/tfserving/{group}.config" in container["args"]
        group_config = configs.parse_models_config(data[f"{group}.config"])
        configs.validate_models_config(group_config)
        assert set(configs.model_entry(group_config, "census").version_labels) == {group}
