"""TF Serving's own families render as its exporter does: names, types, labels, buckets."""
from prometheus_client.parser import text_string_to_metric_families

from serving.server import metrics


def _families(m: metrics.Metrics):
    return {f.name: f for f in text_string_to_metric_families(m.exposition().decode())}


def test_requests_count_by_status_and_time_only_successes():
    m = metrics.Metrics()
    m.observe("census", 1, "predict", "grpc", 0.002)
    m.observe("census", 1, "predict", "rest", 0.003)
    m.observe("census", None, "predict", "grpc", 0, code="INVALID_ARGUMENT")
    m.observe("census", 1, "metadata", "grpc", 0.001)
    text = m.exposition().decode()
    assert "# TYPE :tensorflow:serving:request_count counter\n" in text
    assert ':tensorflow:serving:request_count{model_name="census",status="OK"} 2\n' in text
    assert ('tensorflow:serving:request_count{model_name="census",status="INVALID_ARGUMENT"} 1\n'
            in text)
    assert ":tensorflow:serving:request_count_total" not in text
    latency = _families(m)[":tensorflow:serving:request_latency"]
    assert latency.type == "histogram"
    counts = {(s.labels["model_name"], s.labels["API"], s.labels["entrypoint"]): s.value
              for s in latency.samples if s.name.endswith("_count")}
    assert counts == {("census", "Predict", "GRPC"): 1, ("census", "Predict", "REST"): 1}
    buckets = [s for s in latency.samples if s.name.endswith("_bucket")
               and s.labels["entrypoint"] == "GRPC"]
    assert len(buckets) == 34 and buckets[-1].labels["le"] == "+Inf"
    assert [b.labels["le"] for b in buckets[:3]] == ["10", "18", "32.4"]
    # 2000 us falls in the first bucket above it: 10 * 1.8**9 = 1983.59 < 2000 < 3570.47
    assert {b.labels["le"]: b.value for b in buckets}["1983.59"] == 0
    assert {b.labels["le"]: b.value for b in buckets}["3570.47"] == 1


def test_load_warmup_and_runtime_families():
    m = metrics.Metrics()
    m.tf_serving.load("/models/census/1", True, 0.25)
    m.tf_serving.load("/models/census/2", False, 0.0)
    m.tf_serving.warmup("/models/census/1", True, 0.5)
    m.tf_serving.runtime("census", "classify", 0.001)
    families = _families(m)
    attempts = {(s.labels["model_path"], s.labels["status"]): s.value
                for s in families[":tensorflow:cc:saved_model:load_attempt_count"].samples}
    assert attempts == {("/models/census/1", "success"): 1, ("/models/census/2", "fail"): 1}
    latency = families[":tensorflow:cc:saved_model:load_latency"].samples
    assert [(s.labels, s.value) for s in latency] == [({"model_path": "/models/census/1"}, 250000)]
    warmup = families[":tensorflow:serving:model_warmup_latency"]
    assert warmup.type == "histogram"
    assert {s.labels["status"] for s in warmup.samples} == {"OK"}
    runtime = families[":tensorflow:serving:runtime_latency"].samples
    assert {(s.labels["API"], s.labels["runtime"]) for s in runtime} == {("Classify", "TF1")}


def test_label_values_are_escaped():
    m = metrics.Metrics()
    m.tf_serving.load('/odd\\path/"q"/1', True, 0.1)
    sample = _families(m)[":tensorflow:cc:saved_model:load_latency"].samples[0]
    assert sample.labels["model_path"] == '/odd\\path/"q"/1'


def test_the_repository_reports_loads_and_warmups(tmp_path):
    import types

    from serving.config import configs
    from serving.server.repository import WARMUP_FILE, ModelRepository
    for version in (1, 2):
        (tmp_path / "m" / str(version)).mkdir(parents=True)
        (tmp_path / "m" / str(version) / "saved_model.pb").write_bytes(b"")
    (tmp_path / "m" / "1" / WARMUP_FILE).parent.mkdir()
    (tmp_path / "m" / "1" / WARMUP_FILE).write_bytes(b"")

    def loader(name, version, path):
        if version == 2:
            raise ValueError("corrupt SavedModel")
        return types.SimpleNamespace(name=name, version=version, path=path)
    m = metrics.Metrics()
    repository = ModelRepository(config_dir=tmp_path, loader=loader,
                                 warmup_runner=lambda *_: 3, load_observer=m.tf_serving)
    repository.apply_config(configs.parse_models_config(
        'model_config_list { config { name: "m" base_path: "m" model_platform: "tensorflow" '
        'model_version_policy { all {} } } }'))
    families = _families(m)
    attempts = {(s.labels["model_path"].rsplit("/", 2)[-2:][1], s.labels["status"]): s.value
                for s in families[":tensorflow:cc:saved_model:load_attempt_count"].samples}
    assert attempts == {("1", "success"): 1, ("2", "fail"): 1}
    warmups = [s for s in families[":tensorflow:serving:model_warmup_latency"].samples
               if s.name.endswith("_count")]
    assert [(s.labels["model_path"].endswith("/m/1"), s.labels["status"], s.value)
            for s in warmups] == [(True, "OK", 1)]
