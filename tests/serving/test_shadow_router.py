"""Shadow mode with the real nginx on loopback: every client request is answered by the stable
group, the canary group gets a copy of each one (REST and gRPC), and a shadow that fails every
request changes nothing for clients; `tfxp shadow report` finds an injected disagreement in the
request logs. `canary shadow stop` and `canary start` end it."""
import time

import pytest

from serving.rollout import canary, canary_watch, router
from tests.serving.router_traffic import (MODEL, ROW, RestClient, Traffic, build_faulty,
                                          grpc_request, grpc_stub, two_affine_versions,
                                          version_of)

pytestmark = pytest.mark.requires("nginx")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from serving.config import configs
    root = two_affine_versions(tmp_path_factory.mktemp("shadow") / "models")
    build_faulty(root / MODEL / "3", failure_above=-1e9)
    build_disagreeing(root / MODEL / "4", above=5.0)
    config = configs.read_models_config(root / configs.MODELS_CONFIG)
    entry = configs.model_entry(config, MODEL)
    entry.logging_config.sampling_config.sampling_rate = 1.0
    entry.logging_config.log_collector_config.filename_prefix = "request_logs/split"
    configs.write_models_config(root, config)
    stack = router.LocalStack(root, *router.free_ports(2)).start()
    yield stack
    stack.stop()


def build_disagreeing(path, above: float):
    """y = x, except that a row whose first value exceeds `above` gets -x: one injected
    disagreement with version 1 (y = x) per such row. It carries a warmup record, as every model
    the pipeline pushes does (the infra validator stamps them), so the report's latency
    comparison is not judged on a freshly loaded shadow's cold first calls."""
    import tensorflow as tf

    from serving.server import warmup

    class Disagreeing(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
        def serve(self, x):
            return {"y": tf.where(x[:, :1] > above, -x, x)}

    module = Disagreeing()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    warmup.write_warmup_file(path, [warmup.predict_log(grpc_request())])
    return path


def _group_stats(stack, group):
    urls = canary_watch.group_metrics_urls(stack.models_root)[group]
    return canary_watch.scrape(urls, MODEL)


def _wait_for_copies(stack, version, at_least, timeout=60.0):
    """The mirror answers after the client's answer: wait until the canary group counted them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = _group_stats(stack, "canary").get(version)
        if stats is not None and stats.requests >= at_least:
            return stats
        time.sleep(0.2)
    return _group_stats(stack, "canary").get(version)


def test_shadow_copies_every_request_and_clients_only_get_stables_answers(stack):
    result = canary.shadow(stack.models_root, MODEL, 2)
    assert result[MODEL]["shadow"] == 2 and result[MODEL]["weight"] == 0
    stub = grpc_stub(stack.grpc_port)
    versions = [stub.Predict(grpc_request(), timeout=30).model_spec.version.value
                for _ in range(1000)]
    assert versions == [1] * 1000
    rest = RestClient(stack.rest_port)
    for _ in range(50):
        status, body = rest.predict()
        assert status == 200 and version_of(body["predictions"]) == 1, body
    status, body = rest.predict(path=f"/v1/models/{MODEL}/labels/stable:predict")
    assert status == 200 and version_of(body["predictions"]) == 1, body
    copies = _wait_for_copies(stack, 2, 1051)
    assert copies.requests >= 1051 and copies.errors == 0, copies
    assert _group_stats(stack, "stable")[1].requests >= 1051


def test_a_shadow_failing_every_request_changes_nothing_for_clients(stack):
    before = _group_stats(stack, "canary").get(3)
    assert before is None or before.requests == 0
    canary.shadow(stack.models_root, MODEL, 3)
    stub = grpc_stub(stack.grpc_port)
    answers = [stub.Predict(grpc_request(), timeout=30) for _ in range(200)]
    assert [a.model_spec.version.value for a in answers] == [1] * 200
    rest = RestClient(stack.rest_port)
    for _ in range(20):
        status, body = rest.predict()
        assert status == 200 and version_of(body["predictions"]) == 1, body
    copies = _wait_for_copies(stack, 3, 220)
    assert copies.requests >= 220 and copies.errors == copies.requests, copies


def test_the_shadow_report_finds_an_injected_disagreement(stack):
    from pipelines import shadow_report

    canary.shadow(stack.models_root, MODEL, 4)
    stub = grpc_stub(stack.grpc_port)
    for row in [[[1.0, 1.0]]] * 100 + [[[9.0, 1.0]]]:
        assert stub.Predict(grpc_request(row), timeout=30).model_spec.version.value == 1
    _wait_for_copies(stack, 4, 101)
    time.sleep(0.5)  # the request logs are written every 50 ms
    strict = shadow_report.ShadowThresholds(min_agreement=1.0, max_p95_ratio=100.0)
    report = shadow_report.build_report(stack.models_root, MODEL, strict)
    text = shadow_report.format_report(report)
    assert (report.stable, report.shadow, report.pairs, report.agreeing) == (1, 4, 101, 100), text
    assert len(report.disagreements) == 1 and "9." in report.disagreements[0], text
    assert report.exit_code == 4 and "agreement 99.01% is below 100.00%" in text
    assert report.latency_ms[4]["p95"] is not None and report.errors[4][0] == 0, text
    lenient = shadow_report.ShadowThresholds(min_agreement=0.99, max_p95_ratio=100.0)
    assert shadow_report.build_report(stack.models_root, MODEL, lenient).exit_code == 0
    shadow_report.save(report, stack.models_root)
    page = shadow_report.section(shadow_report.load_saved(stack.models_root, MODEL))
    assert 'id="shadow-verdict" class="failure">BEYOND thresholds: agreement 99.01%' in page
    assert "Requests seen by both: 101" in page and "shadow (version 4)" in page


def test_stop_and_a_weighted_start_end_shadow_mode(stack):
    conf = router.run_dir(stack.models_root) / "nginx.conf"
    assert router.SHADOW_GRPC in conf.read_text()
    canary.stop_shadow(stack.models_root, MODEL)
    assert router.read_shadows(stack.models_root) == {}
    assert router.SHADOW_GRPC not in conf.read_text()
    with pytest.raises(Exception, match="is not in shadow mode"):
        canary.stop_shadow(stack.models_root, MODEL)
    canary.shadow(stack.models_root, MODEL, 2)
    result = canary.start(stack.models_root, MODEL, 2, weight=50)
    assert "shadow" not in result[MODEL] and result[MODEL]["weight"] == 50
    assert router.SHADOW_REST not in conf.read_text()
    canary.rollback(stack.models_root, MODEL)


def test_watch_with_a_shadow_phase_rolls_back_a_failing_canary_before_users_get_its_answers(stack):
    canary.start(stack.models_root, MODEL, 3, weight=0)
    lines = []
    with Traffic(stack, lambda: ROW) as traffic:
        record = canary_watch.watch(
            stack.models_root, MODEL, [25, 100], 0.5,
            canary_watch.Rules(max_p99_ratio=4.0, latency_floor=1.0, min_requests=40),
            timeout=120, echo=lines.append, shadow=True)
    assert record["outcome"] == "rolled back", lines
    assert record["steps"] == ["shadow", 25, 100]
    assert {d["weight"] for d in record["decisions"]} == {"shadow"}, lines
    assert record["decisions"][-1]["canary"]["errors"] > 0
    assert traffic.failures == [], traffic.failures[:3]
    assert router.read_shadows(stack.models_root) == {}
    assert "at shadow:" in lines[-1] and "-> rollback" in lines[-1]
