"""Queries written for the tensorflow/serving container's metrics return data from `tfxp serve`:
a real Prometheus (Debian's, `make system-packages`) scrapes the local server on loopback and
answers PromQL over TF Serving's own family names, types and labels."""
import json
import math
import pathlib
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import numpy as np
import pytest
import tensorflow as tf
import yaml
from tensorflow_serving.apis import predict_pb2

from serving.config import configs
from serving.rollout import router
from serving.server import testing
from tests.serving.helpers import http, local_server, stubs

QUERIES = {
    # A dashboard's request-rate and error panels, by model and status.
    "by_status": 'sum by (status) (:tensorflow:serving:request_count{model_name="half"})',
    # Latency by entrypoint, and a quantile from the buckets (TF Serving's are microseconds).
    "by_entrypoint": 'sum by (entrypoint) '
                     '(:tensorflow:serving:request_latency_count{model_name="half",API="Predict"})',
    "p50_us": 'histogram_quantile(0.5, sum by (le) '
              '(:tensorflow:serving:request_latency_bucket{model_name="half"}))',
    "runtime": 'sum by (runtime) (:tensorflow:serving:runtime_latency_count{model_name="half"})',
    "loads": 'sum by (status) (:tensorflow:cc:saved_model:load_attempt_count'
             '{model_path=~".*/half/1"})',
}


# The pod label a Kubernetes scrape adds; Flagger's queries select the canary's pods by it.
POD = "tfserving-canary-5d8f7c9b6-x7k2p"
FLAGGER = (pathlib.Path(__file__).resolve().parents[2] / "serving" / "rollout" / "k8s" /
           "alternatives" / "flagger-canary.yaml")


def _flagger_queries():
    """The committed Flagger MetricTemplates' PromQL, as Flagger renders it for this pod."""
    templates = [d for d in yaml.safe_load_all(FLAGGER.read_text()) if d["kind"] == "MetricTemplate"]
    assert len(templates) == 2
    return {t["metadata"]["name"]: t["spec"]["query"].replace("{{ target }}", "tfserving-canary")
            .replace("{{ interval }}", "30s") for t in templates}


def _prometheus_binary() -> str:
    found = shutil.which("prometheus")
    assert found, "Prometheus is not installed: `make system-packages` (Debian package prometheus)"
    return found


def _query(port: int, promql: str):
    url = (f"http://127.0.0.1:{port}/api/v1/query?"
           + urllib.parse.urlencode({"query": promql}))
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())["data"]["result"]


@pytest.fixture
def prometheus(tmp_path):
    """Start Prometheus scraping a target every second; yields a function taking the target."""
    started = []

    def start(target: str) -> int:
        port = router.free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            "  - job_name: tfserving\n"
            f"    metrics_path: {configs.PROMETHEUS_PATH}\n"
            f"    static_configs: [{{targets: ['{target}'], labels: {{pod: '{POD}'}}}}]\n")
        log = open(tmp_path / "prometheus.log", "w")
        started.append((subprocess.Popen(
            [_prometheus_binary(), f"--config.file={config}",
             f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=subprocess.STDOUT), log))
        return port
    yield start
    for process, log in started:
        process.terminate()
        process.wait(20)
        log.close()


def test_container_queries_return_data_from_tfxp_serve(tmp_path, prometheus):
    root = tmp_path / "models"
    testing.build_affine(root / "half" / "1", 2.0)
    (root / configs.MODELS_CONFIG).write_text(
        'model_config_list { config { name: "half" base_path: "half" '
        'model_platform: "tensorflow" } }\n')
    configs.write_aux_configs(root)
    server = local_server(root)
    try:
        predictions, _ = stubs(server)
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "half"
        request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([[1.0, 2.0]], np.float32)))
        for _ in range(3):
            predictions.Predict(request, timeout=30)
        for _ in range(2):
            assert http(server, "POST", "/v1/models/half:predict",
                        {"instances": [[1.0, 2.0]]})[0] == 200
        assert http(server, "POST", "/v1/models/half:predict", {"instances": [["a"]]})[0] == 400
        port = prometheus(server.rest)
        deadline, answers = time.monotonic() + 60, {}
        while time.monotonic() < deadline:
            try:
                answers = {name: _query(port, q) for name, q in QUERIES.items()}
            except OSError:
                answers = {}
            if answers and all(answers.values()):
                break
            time.sleep(0.5)
        values = {name: {tuple(r["metric"].values()): float(r["value"][1]) for r in result}
                  for name, result in answers.items()}
        assert values.get("by_status") == {("OK",): 5, ("INVALID_ARGUMENT",): 1}, answers
        assert values["by_entrypoint"] == {("GRPC",): 3, ("REST",): 2}
        assert values["runtime"] == {("TF1",): 5}
        assert values["loads"] == {("success",): 1}
        assert 0 < values["p50_us"][()] < 60e6
        url = (f"http://127.0.0.1:{port}/api/v1/metadata?"
               + urllib.parse.urlencode({"metric": ":tensorflow:serving:request_count"}))
        with urllib.request.urlopen(url, timeout=10) as response:
            metadata = json.loads(response.read())["data"]
        assert metadata[":tensorflow:serving:request_count"][0]["type"] == "counter"
        # Flagger's canary analysis (error rate %, p99 ms) over rates: keep traffic flowing
        flagger, deadline = _flagger_queries(), time.monotonic() + 60
        while time.monotonic() < deadline:
            predictions.Predict(request, timeout=30)
            answers = {name: _query(port, q) for name, q in flagger.items()}
            numbers = {name: float(r[0]["value"][1]) for name, r in answers.items() if r}
            if len(numbers) == 2 and not any(math.isnan(v) for v in numbers.values()):
                break
            time.sleep(0.3)
        assert numbers.get("tfserving-error-rate") == 0.0, answers
        assert 0 < numbers["tfserving-p99-latency"] < 60e3
    finally:
        server.stop()
