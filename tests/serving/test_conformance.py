"""Conformance with tensorflow_model_server 2.16 on models this project did not train.

The fixture models (tests/serving/conftest.py, serving/server/testing.py): a TF1 Builder export in the
style of TF Serving's half_plus_two with imprecise TensorInfo, a TF2 tf.Module and a Keras
Sequential model, each in a zero-padded version folder. Expected bodies and codes follow TF
Serving's REST API document (tensorflow/serving g3doc/api_rest.md) and its handlers. With
TFXP_SERVING_REST / TFXP_SERVING_GRPC set, the same tests run against a real server; the ones
marked local_only start their own local server or edit files.
"""
import time

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import (classification_pb2, inference_pb2, predict_pb2,
                                     regression_pb2)

from serving.server.process import run_to_exit
from tests.serving.helpers import EXTERNAL_REST, http, local_server, stubs


def _examples(*values):
    from tensorflow_serving.apis import input_pb2
    result = input_pb2.Input()
    for value in values:
        result.example_list.examples.add().features.feature["x"].float_list.value.append(value)
    return result


# 1. Version folders: 00000123 is version 123, loaded from the folder as named.
def test_padded_version_folder_is_that_version(server):
    status, body = http(server, "GET", "/v1/models/tf1_half")
    assert (status, body) == (200, {"model_version_status": [{
        "version": "123", "state": "AVAILABLE",
        "status": {"error_code": "OK", "error_message": ""}}]})
    assert http(server, "GET", "/v1/models/tf2_square/versions/7")[0] == 200
    status, body = http(server, "GET", "/v1/models/tf1_half/versions/123/metadata")
    assert status == 200 and body["model_spec"] == {
        "name": "tf1_half", "signature_name": "", "version": "123"}
    assert set(body["metadata"]["signature_def"]["signature_def"]) == {
        "serving_default", "regress_x_to_y", "classify_x_to_y"}


# 2. No shape checks stricter than TensorFlow's (x is declared [-1, 1]).
def test_tf1_row_and_columnar_predict_ignore_declared_shape(server):
    assert http(server, "POST", "/v1/models/tf1_half:predict",
                {"instances": [2.0, 3.0, 4.0]}) == (200, {"predictions": [3.0, 3.5, 4.0]})
    assert http(server, "POST", "/v1/models/tf1_half:predict",
                {"inputs": [2.0, 3.0, 4.0]}) == (200, {"outputs": [3.0, 3.5, 4.0]})
    assert http(server, "POST", "/v1/models/tf1_half/versions/123:predict",
                {"instances": [[2.0], [4.0]]}) == (200, {"predictions": [[3.0], [4.0]]})


def test_tf1_grpc_predict_with_a_rank_1_tensor(server):
    predictions, _ = stubs(server)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "tf1_half"
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([2.0], np.float32)))
    response = predictions.Predict(request, timeout=30)
    assert tf.make_ndarray(response.outputs["y"]).tolist() == [3.0]
    assert (response.model_spec.name, response.model_spec.version.value,
            response.model_spec.signature_name) == ("tf1_half", 123, "serving_default")


def test_tensorflow_rejection_is_400_in_tensorflows_words(server):
    status, body = http(server, "POST", "/v1/models/tf1_half:regress",
                        {"signature_name": "regress_x_to_y", "examples": [{"z": 1.0}]})
    assert status == 400
    assert "Feature: x (data type: float) is required but could not be found" in body["error"]
    predictions, _ = stubs(server)
    request = regression_pb2.RegressionRequest()
    request.model_spec.name = "tf1_half"
    request.model_spec.signature_name = "regress_x_to_y"
    request.input.example_list.examples.add().features.feature["z"].float_list.value.append(1.0)
    with pytest.raises(grpc.RpcError) as info:
        predictions.Regress(request, timeout=30)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "is required but could not be found" in info.value.details()


# 3. TF1 signatures with scalar-declared (and mistyped) serialized-Example inputs.
def test_tf1_regress_and_classify_over_rest(server):
    assert http(server, "POST", "/v1/models/tf1_half:regress", {
        "signature_name": "regress_x_to_y", "examples": [{"x": 2.0}, {"x": 3.0}]}) == (
        200, {"results": [3.0, 3.5]})
    assert http(server, "POST", "/v1/models/tf1_half:classify", {
        "signature_name": "classify_x_to_y", "examples": [{"x": 4.0}]}) == (
        200, {"results": [[["", 4.0]]]})


def test_tf1_classify_regress_multi_inference_over_grpc(server):
    predictions, _ = stubs(server)
    classify = classification_pb2.ClassificationRequest(input=_examples(2.0))
    classify.model_spec.name = "tf1_half"
    classify.model_spec.signature_name = "classify_x_to_y"
    result = predictions.Classify(classify, timeout=30).result
    assert [[c.score for c in row.classes] for row in result.classifications] == [[3.0]]
    regress = regression_pb2.RegressionRequest(input=_examples(2.0, 6.0))
    regress.model_spec.name = "tf1_half"
    regress.model_spec.signature_name = "regress_x_to_y"
    assert [r.value for r in predictions.Regress(regress, timeout=30).result.regressions] == [
        3.0, 5.0]
    multi = inference_pb2.MultiInferenceRequest(input=_examples(4.0))
    for method, signature in (("tensorflow/serving/classify", "classify_x_to_y"),
                              ("tensorflow/serving/regress", "regress_x_to_y")):
        task = multi.tasks.add(method_name=method)
        task.model_spec.name = "tf1_half"
        task.model_spec.signature_name = signature
    results = predictions.MultiInference(multi, timeout=30).results
    assert results[0].classification_result.classifications[0].classes[0].score == 4.0
    assert results[1].regression_result.regressions[0].value == 4.0
    assert [r.model_spec.version.value for r in results] == [123, 123]


def test_tf2_module_and_keras_sequential(server):
    assert http(server, "POST", "/v1/models/tf2_square:predict",
                {"instances": [1.0, 2.0]}) == (200, {"predictions": [2.0, 5.0]})
    assert http(server, "POST", "/v1/models/keras_sum:predict",
                {"instances": [[1.0, 2.0, 3.0]]}) == (200, {"predictions": [[6.5]]})
    assert http(server, "POST", "/v1/models/keras_sum:predict",
                {"inputs": {"features": [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]}}) == (
        200, {"outputs": [[3.5], [0.5]]})


# 6. Hostile input: 4xx JSON, never HTML or a reset; the server lives on.
def test_lone_surrogate_and_deep_nesting_are_400_json(server):
    status, body = http(server, "POST", "/v1/models/half:predict",
                        raw=b'{"instances": [["\\ud800", 1.0]]}')
    assert status == 400 and "JSON Parse error" in body["error"]
    status, body = http(server, "POST", "/v1/models/census:classify",
                        raw=b'{"examples": [{"sex": "\\udfff"}]}')
    assert status == 400 and "error" in body
    deep = b'{"instances": ' + b"[" * 5000 + b"1.0" + b"]" * 5000 + b"}"
    status, body = http(server, "POST", "/v1/models/half:predict", raw=deep)
    assert status == 400 and "error" in body
    assert http(server, "GET", "/v1/models/half")[0] == 200


def test_other_http_methods_get_a_json_error(server):
    status, body = http(server, "DELETE", "/v1/models/census")
    assert 400 <= status < 500
    if not EXTERNAL_REST:
        assert status == 405
    assert isinstance(body.get("error"), str)
    status, body = http(server, "PUT", "/v1/models/census:predict", {"instances": []})
    assert 400 <= status < 500 and isinstance(body.get("error"), str)
    status, body = http(server, "BREW", "/v1/models/census")  # a verb no HTTP server knows
    assert 400 <= status < 500 and isinstance(body.get("error"), str)
    assert http(server, "GET", "/v1/models/census")[0] == 200


@pytest.mark.local_only
def test_body_over_the_limit_is_413_json_not_a_reset(server):
    body = b'{"instances": [' + b"1.0," * 100000 + b"1.0]}"
    status, answer = http(server, "POST", "/v1/models/half:predict", raw=body)
    assert status == 413
    assert answer == {"error": f"Request body of {len(body)} bytes exceeds the limit of 200000 "
                               "bytes"}


def test_declared_tensor_size_is_checked_before_allocating(server):
    predictions, _ = stubs(server)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "half"
    tensor = request.inputs["x"]
    tensor.dtype = types_pb2.DT_FLOAT
    tensor.tensor_shape.dim.add().size = 1 << 40
    tensor.float_val.append(1.0)
    with pytest.raises(grpc.RpcError) as info:
        predictions.Predict(request, timeout=30)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


# 4. A bad --model_config_file ends the process at start-up.
@pytest.mark.local_only
def test_bad_model_config_file_exits_non_zero_with_the_parser_message(tmp_path):
    config = tmp_path / "models.config"
    config.write_text('model_config_list { config { name: "x" bogus_field: 1 } }\n')
    done = run_to_exit(["--port=0", "--rest_api_port=0", f"--model_config_file={config}"])
    assert done.returncode != 0
    assert "Error parsing text-format tensorflow.serving.ModelServerConfig" in done.stderr
    assert 'has no field named "bogus_field"' in done.stderr


# 5 and 7. --grpc_socket_path, --grpc_channel_arguments and request logging, on one server.
@pytest.fixture(scope="module")
def logging_server(tmp_path_factory, model_tree):
    if EXTERNAL_REST:
        pytest.skip("starts its own local server")
    root = tmp_path_factory.mktemp("logging") / "models"
    root.mkdir()
    (root / "tf1_half").symlink_to(model_tree / "tf1_half")
    (root / "models.config").write_text(
        'model_config_list { config { name: "tf1_half" base_path: "/models/tf1_half" '
        'model_platform: "tensorflow" logging_config { sampling_config { sampling_rate: 1.0 } '
        'log_collector_config { filename_prefix: "logs/tf1_half" } } } }\n')
    (root / "monitoring.config").write_text("prometheus_config { enable: true }\n")
    socket_path = root / "grpc.sock"
    srv = local_server(root, f"--grpc_socket_path={socket_path}",
                      "--grpc_channel_arguments=grpc.max_receive_message_length=4096")
    srv.socket_path = socket_path
    yield srv
    srv.stop()


@pytest.mark.local_only
def test_grpc_socket_path_and_channel_arguments(logging_server):
    from tensorflow_serving.apis import prediction_service_pb2_grpc
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "tf1_half"
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([2.0], np.float32)))
    with grpc.insecure_channel(f"unix:{logging_server.socket_path}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        assert tf.make_ndarray(stub.Predict(request, timeout=30).outputs["y"]).tolist() == [3.0]
        big = predict_pb2.PredictRequest()
        big.CopyFrom(request)
        big.inputs["x"].CopyFrom(tf.make_tensor_proto(np.ones([2000], np.float32)))
        with pytest.raises(grpc.RpcError) as info:
            stub.Predict(big, timeout=30)
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest.mark.local_only
def test_bad_grpc_channel_arguments_stop_start_up(tmp_path):
    done = run_to_exit(["--port=0", "--rest_api_port=0", f"--model_base_path={tmp_path}",
                        "--grpc_channel_arguments=nonsense"])
    assert done.returncode != 0 and "is not key=value" in done.stderr


@pytest.mark.local_only
def test_sampled_requests_are_logged_as_prediction_logs(logging_server):
    from serving.server.request_log import read_prediction_logs
    server = logging_server
    prefix = server.root / "logs" / "tf1_half"

    def read_logs():
        try:
            return list(read_prediction_logs(prefix))
        except FileNotFoundError:
            return []
    before = len(read_logs())
    assert http(server, "POST", "/v1/models/tf1_half:predict",
                {"instances": [2.0]}) == (200, {"predictions": [3.0]})
    assert http(server, "POST", "/v1/models/tf1_half:regress", {
        "signature_name": "regress_x_to_y", "examples": [{"x": 2.0}]})[0] == 200
    predictions, _ = stubs(server)
    classify = classification_pb2.ClassificationRequest(input=_examples(2.0))
    classify.model_spec.name = "tf1_half"
    classify.model_spec.signature_name = "classify_x_to_y"
    predictions.Classify(classify, timeout=30)
    multi = inference_pb2.MultiInferenceRequest(input=_examples(4.0))
    task = multi.tasks.add(method_name="tensorflow/serving/regress")
    task.model_spec.name = "tf1_half"
    task.model_spec.signature_name = "regress_x_to_y"
    predictions.MultiInference(multi, timeout=30)
    for _ in range(100):
        if len(read_logs()) >= before + 4:
            break
        time.sleep(0.1)
    time.sleep(0.3)  # the writer batches every 50 ms; the last four records are this test's
    logs = read_logs()[-4:]
    kinds = [entry.WhichOneof("log_type") for entry in logs]
    assert kinds == ["predict_log", "regress_log", "classify_log", "multi_inference_log"]
    first = logs[0]
    assert first.log_metadata.model_spec.name == "tf1_half"
    assert first.log_metadata.model_spec.version.value == 123
    assert first.log_metadata.sampling_config.sampling_rate == 1.0
    assert tf.make_ndarray(first.predict_log.request.inputs["x"]).tolist() == [2.0]
    assert tf.make_ndarray(first.predict_log.response.outputs["y"]).tolist() == [3.0]
    assert logs[1].regress_log.response.result.regressions[0].value == 3.0
    assert logs[3].multi_inference_log.request.tasks[0].method_name == "tensorflow/serving/regress"
