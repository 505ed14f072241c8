"""TF1 graph models are fed as TF Serving's C++ `Session::Run` feeds them: a placeholder's declared
shape is not checked against the fed tensor (Python's `Session.run` would refuse `[3]` for
`[None, 1]`); the graph's kernels decide, and their refusal is INVALID_ARGUMENT / 400 in
TensorFlow's words. Over REST (row and columnar) and gRPC, for predict, classify, regress and
multi-inference, on `tf1_shapes` (serving.server.testing.build_tf1_declared_shapes)."""
import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (classification_pb2, inference_pb2, predict_pb2,
                                     regression_pb2)

from serving.server.testing import DECLARED_SHAPES
from tests.serving.helpers import http, stubs

MODEL = "tf1_shapes"
# Every one is compatible at run time with y = 0.5 * x + 2, whatever shape the placeholder declares.
FED_SHAPES = [(), (3,), (1,), (2, 1), (1, 3), (2, 2, 1)]
CASES = [(signature, shape) for signature in DECLARED_SHAPES for shape in FED_SHAPES]


def _value(shape) -> np.ndarray:
    return (np.arange(int(np.prod(shape)), dtype=np.float32) + 1).reshape(shape)


def _expected(shape) -> list:
    return (_value(shape) * 0.5 + 2).tolist()


@pytest.mark.parametrize("signature, shape", CASES)
def test_rest_columnar_feeds_any_shape_the_kernels_accept(server, signature, shape):
    status, body = http(server, "POST", f"/v1/models/{MODEL}:predict",
                        {"signature_name": signature, "inputs": _value(shape).tolist()})
    assert (status, body) == (200, {"outputs": _expected(shape)})


@pytest.mark.parametrize("signature, shape", [c for c in CASES if c[1]])
def test_rest_rows_feed_any_shape_the_kernels_accept(server, signature, shape):
    status, body = http(server, "POST", f"/v1/models/{MODEL}:predict",
                        {"signature_name": signature, "instances": _value(shape).tolist()})
    assert (status, body) == (200, {"predictions": _expected(shape)})
    named = [{"x": row} for row in _value(shape).tolist()]
    status, body = http(server, "POST", f"/v1/models/{MODEL}:predict",
                        {"signature_name": signature, "instances": named})
    assert (status, body) == (200, {"predictions": _expected(shape)})


@pytest.mark.parametrize("signature, shape", CASES)
def test_grpc_feeds_any_shape_the_kernels_accept(server, signature, shape):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    request.model_spec.signature_name = signature
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(_value(shape)))
    response = stubs(server)[0].Predict(request, timeout=30)
    assert tf.make_ndarray(response.outputs["y"]).tolist() == _expected(shape)


def test_what_the_graph_itself_refuses_is_invalid_argument_in_tensorflows_words(server):
    status, body = http(server, "POST", f"/v1/models/{MODEL}:predict",
                        {"signature_name": "matrix", "instances": [1.0, 2.0, 3.0]})
    assert status == 400 and "In[0]" in body["error"] and "Cannot feed" not in body["error"]
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    request.model_spec.signature_name = "matrix"
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.float32(3.0)))
    with pytest.raises(grpc.RpcError) as info:
        stubs(server)[0].Predict(request, timeout=30)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "In[0]" in info.value.details()
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([[1.0], [2.0]], np.float32)))
    assert tf.make_ndarray(stubs(server)[0].Predict(request, timeout=30).outputs["y"]).tolist() \
        == [[2.0], [4.0]]


def _examples(target, values):
    for value in values:
        target.examples.add().features.feature["x"].float_list.value.append(value)


def test_two_examples_through_a_placeholder_declared_for_one(server):
    """classify/regress feed [n] serialized Examples; the placeholder says [1]."""
    status, body = http(server, "POST", f"/v1/models/{MODEL}:classify",
                        {"signature_name": "classify", "examples": [{"x": [1.0]}, {"x": [3.0]}]})
    assert status == 200 and [[c[1] for c in row] for row in body["results"]] == [[2.5], [3.5]]
    status, body = http(server, "POST", f"/v1/models/{MODEL}:regress",
                        {"signature_name": "regress", "examples": [{"x": [1.0]}, {"x": [3.0]}]})
    assert (status, body) == (200, {"results": [2.5, 3.5]})

    predictions = stubs(server)[0]
    classify = classification_pb2.ClassificationRequest()
    classify.model_spec.name, classify.model_spec.signature_name = MODEL, "classify"
    _examples(classify.input.example_list, [1.0, 3.0])
    result = predictions.Classify(classify, timeout=30).result
    assert [[c.score for c in row.classes] for row in result.classifications] == [[2.5], [3.5]]
    regress = regression_pb2.RegressionRequest()
    regress.model_spec.name, regress.model_spec.signature_name = MODEL, "regress"
    _examples(regress.input.example_list, [1.0, 3.0])
    result = predictions.Regress(regress, timeout=30).result
    assert [r.value for r in result.regressions] == [2.5, 3.5]

    multi = inference_pb2.MultiInferenceRequest()
    for signature, method in (("classify", "tensorflow/serving/classify"),
                              ("regress", "tensorflow/serving/regress")):
        task = multi.tasks.add()
        task.model_spec.name, task.model_spec.signature_name = MODEL, signature
        task.method_name = method
    _examples(multi.input.example_list, [1.0, 3.0])
    results = predictions.MultiInference(multi, timeout=30).results
    assert [c.classes[0].score for c in results[0].classification_result.classifications] == [
        2.5, 3.5]
    assert [r.value for r in results[1].regression_result.regressions] == [2.5, 3.5]
