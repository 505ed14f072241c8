"""Lifecycle against a running local server: canary start/promote/rollback, config reload by poll
and by HandleReloadConfigRequest, hot swap under a concurrent client loop, failed loads, warmup."""
import collections
import shutil
import threading
import time
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import model_management_pb2, predict_pb2

from serving.config import configs
from serving.rollout import canary
from serving.server import testing
from serving.server.warmup import predict_log, write_warmup_file
from tests.serving.helpers import ClientThreads, http, local_server, stubs

pytestmark = pytest.mark.local_only


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    root = tmp_path_factory.mktemp("live") / "models"
    testing.build_affine(root / "m" / "1", 1.0)
    testing.build_affine(root / "latest" / "1", 10.0)
    canary.on_push(root, "m", 1)
    config = configs.read_models_config(root / configs.MODELS_CONFIG)
    entry = configs.model_entry(config, "latest")
    entry.model_version_policy.Clear()
    entry.model_version_policy.latest.num_versions = 1
    entry.version_labels.clear()
    configs.write_models_config(root, config)
    (root / "batching.config").write_text(
        "max_batch_size { value: 8 } batch_timeout_micros { value: 1000 } "
        "num_batch_threads { value: 2 } max_enqueued_batches { value: 100 }")
    srv = local_server(root, "--model_config_file_poll_wait_seconds=1",
                      "--file_system_poll_wait_seconds=1", "--enable_batching=true",
                      f"--batching_parameters_file={root / 'batching.config'}")
    yield srv
    srv.stop()


def _scale(server, model, label=None):
    path = f"/v1/models/{model}" + (f"/labels/{label}" if label else "") + ":predict"
    status, body = http(server, "POST", path, {"instances": [[1.0, 1.0]]})
    return body["predictions"][0][0] if status == 200 else body


def _wait_for(fn, expected, timeout=30.0):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        try:
            value = fn()
        except (KeyError, IndexError) as e:
            value = f"not there yet: {e!r}"
        if value == expected:
            return value
        time.sleep(0.2)
    raise AssertionError(f"expected {expected!r}, last saw {value!r}")


class ClientLoop(ClientThreads):
    """Hammers a label over REST and gRPC from two threads; every failure is recorded."""

    def __init__(self, server, model, label):
        self.server, self.model, self.label = server, model, label
        self.failures, self.count, self.values = [], 0, set()
        super().__init__(self._rest, self._grpc)

    def _rest(self):
        while not self.stopped.is_set():
            value = _scale(self.server, self.model, self.label)
            self._record(value)

    def _grpc(self):
        predictions, _ = stubs(self.server)
        request = predict_pb2.PredictRequest()
        request.model_spec.name = self.model
        if self.label:
            request.model_spec.version_label = self.label
        request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.ones([1, 2], np.float32)))
        while not self.stopped.is_set():
            try:
                out = predictions.Predict(request).outputs["y"]
                self._record(float(tf.make_ndarray(out)[0][0]))
            except grpc.RpcError as e:
                self._record({"error": e.details()})

    def _record(self, value):
        self.count += 1
        if isinstance(value, dict):
            self.failures.append(value)
        else:
            self.values.add(value)


def test_canary_start_promote_rollback_with_zero_failed_requests(live):
    root = live.root
    assert _scale(live, "m", "stable") == 1.0
    with ClientLoop(live, "m", "stable") as loop:
        testing.build_affine(root / "m" / "2", 2.0)
        assert canary.on_push(root, "m", 2)["role"] == "canary"
        _wait_for(lambda: _scale(live, "m", "canary"), 2.0)
        canary.promote(root, "m")
        _wait_for(lambda: _scale(live, "m", "stable"), 2.0)
        canary.rollback(root, "m")
        _wait_for(lambda: _scale(live, "m", "stable"), 1.0)
        canary.start(root, "m")
        _wait_for(lambda: _scale(live, "m", "canary"), 2.0)
        canary.rollback(root, "m")
        _wait_for(lambda: http(live, "POST", "/v1/models/m/labels/canary:predict",
                               {"instances": [[1.0, 1.0]]})[0], 400)
    assert loop.failures == [] and loop.count > 20
    assert loop.values == {1.0, 2.0}
    assert canary.status(root)["m"] == {"stable": 1, "canary": None, "weight": 0,
                                        "served": [1], "versions": [1, 2]}


def test_hot_swap_failed_load_keeps_old_version_then_new_one_takes_over(live):
    root = live.root
    with ClientLoop(live, "latest", None) as loop:
        (root / "latest" / "2").mkdir()
        (root / "latest" / "2" / "saved_model.pb").write_bytes(b"garbage")
        _wait_for(lambda: [s["state"] for s in http(live, "GET", "/v1/models/latest")[1][
            "model_version_status"]], ["END", "AVAILABLE"])
        assert _scale(live, "latest") == 10.0
        staging = root.parent / "staging3"
        testing.build_affine(staging, 30.0)
        shutil.move(str(staging), str(root / "latest" / "3"))
        _wait_for(lambda: _scale(live, "latest"), 30.0)
        _wait_for(lambda: 30.0 in loop.values, True)
    assert loop.failures == [] and loop.count > 0
    assert loop.values == {10.0, 30.0}
    status = http(live, "GET", "/v1/models/latest/versions/2")[1]["model_version_status"][0]
    assert status["state"] == "END" and status["status"]["error_message"]
    assert "Keeping version 1 of model latest serving" in live.log()


def test_handle_reload_config_request_and_label_rule(live):
    root = live.root
    _, models = stubs(live)
    config = configs.read_models_config(root / configs.MODELS_CONFIG)
    entry = configs.model_entry(config, "m")
    entry.version_labels["blue"] = 1
    request = model_management_pb2.ReloadConfigRequest(config=config)
    assert models.HandleReloadConfigRequest(request).status.error_code == 0
    assert _scale(live, "m", "blue") == 1.0
    entry.version_labels["bad"] = 7
    with pytest.raises(grpc.RpcError) as info:
        models.HandleReloadConfigRequest(model_management_pb2.ReloadConfigRequest(config=config))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "Request to assign label to version 7 of model m" in info.value.details()
    assert _scale(live, "m", "blue") == 1.0


def test_warmup_records_run_and_a_failing_warmup_fails_the_load(live, tmp_path):
    root = live.root
    good = testing.build_affine(tmp_path / "good", 4.0)
    ok = predict_pb2.PredictRequest()
    ok.inputs["x"].CopyFrom(tf.make_tensor_proto(np.ones([3, 2], np.float32)))
    write_warmup_file(good, [predict_log(ok)] * 2)
    bad = testing.build_affine(tmp_path / "bad", 5.0)
    wrong = predict_pb2.PredictRequest()
    wrong.inputs["nope"].CopyFrom(tf.make_tensor_proto(np.ones([1, 2], np.float32)))
    write_warmup_file(bad, [predict_log(wrong)])
    shutil.move(str(bad), str(root / "latest" / "4"))
    _wait_for(lambda: http(live, "GET", "/v1/models/latest/versions/4")[1][
        "model_version_status"][0]["state"], "END")
    assert "Warmup request 1" in http(live, "GET", "/v1/models/latest/versions/4")[1][
        "model_version_status"][0]["status"]["error_message"]
    shutil.move(str(good), str(root / "latest" / "5"))
    _wait_for(lambda: _scale(live, "latest"), 4.0)
    assert "Number of warmup records read: 2." in live.log()


def _batch_size_buckets(server):
    """le -> cumulative count of the server's batch-size histogram (0 before any batch)."""
    text = urllib.request.urlopen(
        f"http://{server.rest}/monitoring/prometheus/metrics").read().decode()
    counts = {line.split("le=")[1].split("}")[0].strip('"'): float(line.split()[-1])
              for line in text.splitlines() if line.startswith("tfxp_serving_batch_size_bucket")}
    return collections.defaultdict(float, counts)


def test_batching_merges_concurrent_requests(live):
    """Only this burst's batches count: earlier tests' traffic is subtracted."""
    before = _batch_size_buckets(live)

    def burst():
        for _ in range(10):
            _scale(live, "m", "stable")
    threads = [threading.Thread(target=burst) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = _batch_size_buckets(live)
    batches, single_row = (after[le] - before[le] for le in ("+Inf", "1.0"))
    assert batches > 0, "the burst's requests ran in no batch at all"
    assert single_row < batches, "no batch of the burst held more than one row"
