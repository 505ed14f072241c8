"""Version folders and labels as TF Serving reads them, and the generated configs: they parse with
TF Serving's own protos, and invalid ones are rejected with the reason (no server needed)."""
import pathlib

import pytest
from google.protobuf import text_format

from serving.config import configs, protos, testing
from serving.config.configs import ConfigError
from serving.config.testing import fake_versions, parse_written_config, saved_model_folder


def test_padded_version_folders_are_that_version_and_keep_their_name(tmp_path):
    padded = saved_model_folder(tmp_path / "00000123")
    plain = saved_model_folder(tmp_path / "7")
    (tmp_path / "8").mkdir()  # no SavedModel: not a version
    saved_model_folder(tmp_path / ".tmp-9")  # hidden temp folder of a push in progress
    saved_model_folder(tmp_path / "v10")
    assert configs.version_dirs(tmp_path) == {7: plain, 123: padded}
    assert configs.scan_versions(tmp_path) == [7, 123]
    assert configs.version_dirs(tmp_path / "absent") == {}


def test_labelled_version_dir_reads_models_config(tmp_path):
    stable = saved_model_folder(tmp_path / "census" / "0001")
    canary = saved_model_folder(tmp_path / "census" / "2")
    assert configs.labelled_version_dir(tmp_path, "census") is None      # no config yet
    config = configs.parse_models_config("")
    configs.add_model(config, "census", stable=1, canary=2)
    configs.write_models_config(tmp_path, config)
    assert configs.labelled_version_dir(tmp_path, "census") == stable
    assert configs.labelled_version_dir(tmp_path, "census", configs.CANARY) == canary
    assert configs.labelled_version_dir(tmp_path, "other") is None


def test_generate_writes_three_configs_that_parse_with_the_protos(tmp_path):
    fake_versions(tmp_path, "census", 100, 200)
    fake_versions(tmp_path, "mnist", 7)
    (tmp_path / "census" / "notaversion").mkdir()
    configs.generate(tmp_path)
    config = parse_written_config(tmp_path)
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


def test_base_path_maps_container_root_to_the_config_directory(tmp_path, monkeypatch):
    """Outside a container (no /models) a /models path maps beside the config; inside one it
    stays. CONTAINER_ROOT points into tmp_path so that both cases run on any machine."""
    container = tmp_path / "container_models"
    monkeypatch.setattr(configs, "CONTAINER_ROOT", str(container))
    config_dir = tmp_path / "config"
    assert configs.resolve_base_path(f"{container}/census", config_dir) == config_dir / "census"
    assert configs.resolve_base_path("/srv/m", config_dir) == pathlib.Path("/srv/m")
    container.mkdir()
    assert configs.resolve_base_path(f"{container}/census", config_dir) == container / "census"


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


def test_ssl_config_holds_a_matching_pem_pair_and_ca(tmp_path):
    materials = testing.tls_materials()
    path = testing.write_ssl_config(tmp_path / "ssl.config", materials, client_verify=True)
    config = configs.read_ssl_config(path)
    assert config.client_verify and config.custom_ca == materials["ca"]


@pytest.mark.parametrize("fields, needle", [
    ({"server_key": "/etc/tls/key.pem"}, "server_key holds no PEM block"),
    ({"custom_ca": "ca.pem"}, "custom_ca holds no PEM block"),
    ({"server_cert": ""}, "server_key and server_cert must both hold PEM text"),
    ({"server_key": "stranger_key"}, "server_key and server_cert are not a usable pair"),
])
def test_ssl_configs_that_cannot_work_stop_start_up_with_the_reason(tmp_path, fields, needle):
    materials = testing.tls_materials()
    values = {k: materials.get(v, v) for k, v in fields.items()}
    text = protos.SSLConfig(server_key=materials["server_key"],
                            server_cert=materials["server_cert"], custom_ca=materials["ca"])
    for field, value in values.items():
        setattr(text, field, value)
    with pytest.raises(ConfigError, match=needle):
        configs.parse_ssl_config(text_format.MessageToString(text))
    with pytest.raises(ConfigError, match="No such file"):
        configs.read_ssl_config(tmp_path / "absent.config")
