"""gRPC conformance with the official stubs: status codes and TF Serving's message wording."""
import base64

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2,
                                     get_model_status_pb2, inference_pb2, predict_pb2,
                                     regression_pb2)

from serving.server import testing
from tests.serving.helpers import http, stubs


def _predict(name, value, version=None, label=None, signature="", key="x"):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    if version is not None:
        request.model_spec.version.value = version
    if label:
        request.model_spec.version_label = label
    request.model_spec.signature_name = signature
    request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    return request


def _abort(call, request):
    with pytest.raises(grpc.RpcError) as info:
        call(request)
    return info.value.code(), info.value.details()


def test_predict_by_latest_version_and_label(server):
    predictions, _ = stubs(server)
    x = np.array([[1.0, 2.0]], np.float32)
    response = predictions.Predict(_predict("half", x))
    assert response.model_spec.version.value == 2
    assert response.model_spec.signature_name == "serving_default"
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["y"]), [[3.0, 6.0]])
    response = predictions.Predict(_predict("half", x, label="stable"))
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["y"]), [[2.0, 4.0]])


def test_grpc_and_rest_return_the_same_number(server):
    predictions, _ = stubs(server)
    row = testing.SAMPLE_ROW
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "census"
    request.model_spec.signature_name = "serving_raw"
    for key, value in row.items():
        dtype = np.int64 if isinstance(value, int) else object
        request.inputs[key].CopyFrom(tf.make_tensor_proto(np.array([value], dtype)))
    via_grpc = tf.make_ndarray(predictions.Predict(request).outputs["probabilities"])
    _, body = http(server, "POST", "/v1/models/census:predict",
                   {"signature_name": "serving_raw", "instances": [row]})
    assert np.float32(body["predictions"][0][0]) == via_grpc[0][0]


def test_classify_regress_multi_inference(server):
    predictions, _ = stubs(server)
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name, request.model_spec.signature_name = "census", "classify"
    request.input.example_list.examples.add().ParseFromString(testing.example())
    result = predictions.Classify(request).result
    assert [c.label for c in result.classifications[0].classes] == ["<=50K", ">50K"]
    regress = regression_pb2.RegressionRequest()
    regress.model_spec.name, regress.model_spec.signature_name = "census", "regress"
    regress.input.CopyFrom(request.input)
    assert len(predictions.Regress(regress).result.regressions) == 1
    multi = inference_pb2.MultiInferenceRequest()
    multi.input.CopyFrom(request.input)
    for signature, method in (("classify", "tensorflow/serving/classify"),
                              ("regress", "tensorflow/serving/regress")):
        task = multi.tasks.add()
        task.model_spec.name, task.model_spec.signature_name = "census", signature
        task.method_name = method
    results = predictions.MultiInference(multi).results
    assert results[0].classification_result.classifications[0].classes[1].score == pytest.approx(
        result.classifications[0].classes[1].score)
    assert results[1].model_spec.signature_name == "regress"


def test_metadata_and_status(server):
    predictions, models = stubs(server)
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = "census"
    response = predictions.GetModelMetadata(request)
    sig_map = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(sig_map)
    assert sig_map.signature_def["serving_raw"].inputs["age"].dtype == tf.int64.as_datatype_enum
    assert _abort(predictions.GetModelMetadata,
                  get_model_metadata_pb2.GetModelMetadataRequest(
                      model_spec={"name": "census"}, metadata_field=["nope"]))[0] == \
        grpc.StatusCode.INVALID_ARGUMENT
    status = models.GetModelStatus(get_model_status_pb2.GetModelStatusRequest(
        model_spec={"name": "half"}))
    assert [(s.version, s.state) for s in status.model_version_status] == [(2, 30), (1, 30)]


@pytest.mark.parametrize("kwargs,code,message", [
    (dict(name="nope"), grpc.StatusCode.NOT_FOUND, "Servable not found for request: Latest(nope)"),
    (dict(name="half", version=9), grpc.StatusCode.NOT_FOUND,
     "Servable not found for request: Specific(half, 9)"),
    (dict(name="half", label="nope"), grpc.StatusCode.INVALID_ARGUMENT,
     "Unrecognized servable version label: nope"),
])
def test_not_found_errors_use_tf_serving_wording(server, kwargs, code, message):
    predictions, _ = stubs(server)
    assert _abort(predictions.Predict, _predict(value=np.ones([1, 2], np.float32), **kwargs)) == (
        code, message)


def test_wrong_dtype_and_alias_but_shapes_left_to_tensorflow(server):
    predictions, _ = stubs(server)
    code, message = _abort(predictions.Predict, _predict("half", np.array([["a", "b"]])))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "to be float but string" in message
    response = predictions.Predict(_predict("half", np.ones([1, 3], np.float32)))
    assert tf.make_ndarray(response.outputs["y"]).shape == (1, 3)
    code, message = _abort(predictions.Predict,
                           _predict("half", np.ones([1, 2], np.float32), key="z"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith("input tensor alias not found in signature: z")
    status = get_model_status_pb2.GetModelStatusRequest(model_spec={"name": "nope"})
    assert _abort(stubs(server)[1].GetModelStatus, status) == (
        grpc.StatusCode.NOT_FOUND, "Could not find any versions of model nope")


def test_b64_and_examples_helpers_agree(server):
    predictions, _ = stubs(server)
    request = _predict("census", np.array([testing.example()], dtype=object), key="examples")
    grpc_value = tf.make_ndarray(predictions.Predict(request).outputs["probabilities"])[0][0]
    _, body = http(server, "POST", "/v1/models/census:predict", {
        "inputs": {"examples": [{"b64": base64.b64encode(testing.example()).decode()}]}})
    assert np.float32(body["outputs"][0][0]) == grpc_value
