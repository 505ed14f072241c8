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


def test_native_counts_merge_into_the_same_series_as_observed_requests():
    """The native front end's drained aggregates (buckets in this module's bounds) must render
    exactly what observing the same requests here renders, plus the native counter."""
    samples = [0.0004, 0.003, 0.003, 0.7, 12.0]
    runtime_s = 0.0002
    observed, merged = metrics.Metrics(), metrics.Metrics()
    for seconds in samples:
        observed.observe("census", 1, "predict", "grpc", seconds, label="stable")
        observed.tf_serving.runtime("census", "predict", runtime_s)
    observed.observe("census", 1, "predict", "grpc", 0, "UNAVAILABLE", label="stable")
    for padded in (16, 3):
        observed.batch_size.observe(padded)

    def buckets(bounds, values, strict):
        counts = [0] * (len(bounds) + 1)
        for v in values:
            counts[next((i for i, b in enumerate(bounds) if (v < b if strict else v <= b)),
                        len(bounds))] += 1
        return counts
    tf_bounds = metrics.TF_SERVING_BUCKETS_US
    micros = [s * 1e6 for s in samples]
    merged.merge_native({
        "requests": [{"model": "census", "version": "1", "label": "stable", "count": 6,
                      "errors": {"UNAVAILABLE": 1},
                      "latency_buckets": buckets(metrics.LATENCY_BUCKETS, samples, False),
                      "latency_sum_s": sum(samples),
                      "tf_latency_buckets": buckets(tf_bounds, micros, True),
                      "tf_latency_sum_us": sum(micros),
                      "runtime_buckets": buckets(tf_bounds, [runtime_s * 1e6] * 5, True),
                      "runtime_sum_us": runtime_s * 1e6 * 5}],
        "batch_size_buckets": buckets(metrics.BATCH_SIZE_BUCKETS, [16, 3], False),
        "batch_size_sum": 19})

    def series(m):
        return {(s.name, tuple(sorted(s.labels.items()))): round(s.value, 6)
                for family in _families(m).values() for s in family.samples
                if not s.name.endswith("_created") and "native" not in s.name}
    assert series(merged) == series(observed)
    assert observed.tf_serving.exposition() == merged.tf_serving.exposition()
    native = _families(merged)["tfxp_serving_native_requests"].samples
    assert [(s.labels, s.value) for s in native if s.name.endswith("_total")] == [
        ({"model": "census", "version": "1"}, 6.0)]
