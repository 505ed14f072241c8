"""Decision rules and Prometheus histogram quantiles of `tfxp canary watch`."""
import pytest

from serving.config.configs import ConfigError
from serving.rollout.canary_watch import Rules, VersionStats, decide, parse_duration, parse_steps


def stats(requests, errors=0, p99_bucket=0.005):
    """All successful requests in the bucket ending at p99_bucket."""
    ok = requests - errors
    return VersionStats(requests, errors, {0.001: 0, p99_bucket: ok, float("inf"): ok})


def test_quantile_interpolates_inside_the_bucket_like_histogram_quantile():
    s = VersionStats(100, 0, {0.01: 50, 0.02: 100, float("inf"): 100})
    assert s.quantile(0.5) == pytest.approx(0.01)
    assert s.quantile(0.75) == pytest.approx(0.015)
    assert VersionStats().quantile(0.99) is None


def test_rules():
    rules = Rules(max_error_margin=0.01, max_p99_ratio=1.5, latency_floor=0.005, min_requests=100)
    assert decide(stats(1000), stats(50), rules)[0] == "hold"
    assert decide(stats(1000), stats(120), rules)[0] == "pass"
    # 3 failures already exceed 1% of the 100 required requests: no need to wait for the rest
    assert decide(stats(1000), stats(20, errors=3), rules)[0] == "rollback"
    assert decide(stats(1000, errors=50), stats(120, errors=6), rules)[0] == "pass"
    assert decide(stats(1000), stats(120, p99_bucket=0.05), rules)[0] == "rollback"
    # below the latency floor, bucket noise cannot trip the ratio
    assert decide(stats(1000, p99_bucket=0.001), stats(120, p99_bucket=0.005), rules)[0] == "pass"


def test_arguments_are_checked():
    assert parse_duration("30s") == 30 and parse_duration("500ms") == 0.5
    assert parse_duration("2m") == 120 and parse_duration(3) == 3
    assert parse_steps("10,25,50,100") == [10, 25, 50, 100]
    for bad, reason in (("0,50", "give increasing weights above 0"),
                        ("50,25", "give increasing weights above 0"),
                        ("10,200", "invalid canary weight '200'"),
                        ("x", "invalid canary weight 'x'")):
        with pytest.raises(ConfigError, match=f"invalid --steps '{bad}': {reason}"):
            parse_steps(bad)
    with pytest.raises(ConfigError, match="invalid duration"):
        parse_duration("soon")


TF_SERVING_TEXT = """# TYPE :tensorflow:serving:request_count counter
:tensorflow:serving:request_count{model_name="census",status="OK"} 90
:tensorflow:serving:request_count{model_name="census",status="INVALID_ARGUMENT"} 10
:tensorflow:serving:request_count{model_name="other",status="OK"} 5
# TYPE :tensorflow:serving:request_latency histogram
:tensorflow:serving:request_latency_bucket{model_name="census",API="predict",entrypoint="REST",le="1000"} 45
:tensorflow:serving:request_latency_bucket{model_name="census",API="predict",entrypoint="REST",le="2000"} 90
:tensorflow:serving:request_latency_bucket{model_name="census",API="predict",entrypoint="REST",le="+Inf"} 90
:tensorflow:serving:request_latency_sum{model_name="census",API="predict",entrypoint="REST"} 120000
:tensorflow:serving:request_latency_count{model_name="census",API="predict",entrypoint="REST"} 90
"""


def _scrape_text(text: str, **kwargs):
    """scrape() of `text` served over HTTP on loopback, as a metrics endpoint serves it."""
    import http.server
    import threading

    from serving.rollout.canary_watch import scrape

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = text.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/monitoring/prometheus/metrics"
        return scrape([url], "census", **{k: v(url) if callable(v) else v
                                          for k, v in kwargs.items()})
    finally:
        server.shutdown()


def test_tensorflow_model_server_metrics_count_for_the_group_version():
    """TF Serving's own metrics have no version label: an endpoint counts for its group's version,
    and its latency buckets are microseconds."""
    stats = _scrape_text(TF_SERVING_TEXT, group_versions={"stable": 1, "canary": 2},
                         url_groups=lambda url: {url: "canary"})
    assert set(stats) == {2}
    assert (stats[2].requests, stats[2].errors) == (100, 10)
    assert stats[2].quantile(0.5) == pytest.approx(0.001)


def test_metadata_calls_are_not_counted_as_requests():
    """A client's GetModelMetadata (every `tfxp predict` makes one) runs no model: counted, it
    would dilute a version's error rate and latency, which TF Serving's request_count never does."""
    from serving.server.metrics import Metrics

    metrics = Metrics()
    for _ in range(3):
        metrics.observe("census", 2, "metadata", "rest", 0.0001)
    metrics.observe("census", 2, "predict", "grpc", 0.004)
    metrics.observe("census", 2, "classify", "grpc", 0, code="INVALID_ARGUMENT")
    metrics.observe("census", 2, "metadata", "grpc", 0, code="NOT_FOUND")
    text = "\n".join(line for line in metrics.exposition().decode().splitlines()
                     if not line.startswith(":tensorflow:"))
    stats = _scrape_text(text + "\n")
    assert (stats[2].requests, stats[2].errors) == (2, 1)
    assert stats[2].quantile(0.5) == pytest.approx(0.0035)
