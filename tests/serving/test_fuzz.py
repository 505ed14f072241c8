"""Bounded, seeded fuzzing of the REST and gRPC APIs with malformed requests.

Every case is a client mistake by construction (broken JSON, wrong types, ragged or over-deep
arrays, lone surrogates, bad base64, unknown names, tensors whose declared shape disagrees with
their content...). Each must get a 4xx JSON `{"error": ...}` (REST) or an INVALID_ARGUMENT-family
code (gRPC), and the server must still answer afterwards. Runs against a real
tensorflow_model_server too (TFXP_SERVING_REST / TFXP_SERVING_GRPC).
"""
import http.client
import json
import random

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import classification_pb2, predict_pb2, regression_pb2

from tests.serving.helpers import http as http_call, stubs

SEED = 20261201
REST_CASES = 520
GRPC_CASES = 120
CLIENT_CODES = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
                grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.OUT_OF_RANGE}


def _valid_body(rng):
    return rng.choice([
        ("/v1/models/half:predict", {"instances": [[1.0, 2.0]]}),
        ("/v1/models/tf1_half:predict", {"inputs": [2.0, 3.0]}),
        ("/v1/models/keras_sum:predict", {"instances": [[1.0, 2.0, 3.0]]}),
        ("/v1/models/census:classify", {"signature_name": "classify",
                                        "examples": [{"age": 39, "sex": "Male"}]}),
    ])


def _rest_case(rng):
    """(path, raw body) that is malformed for that path."""
    path, doc = _valid_body(rng)
    text = json.dumps(doc)
    kind = rng.randrange(12)
    if kind == 0:  # truncated JSON
        return path, text[:rng.randrange(1, len(text) - 1)].encode()
    if kind == 1:  # random bytes that do not start a JSON value
        return path, b"\x00" + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
    if kind == 2:  # lone surrogate somewhere in a string
        surrogate = rng.choice(["\\ud800", "\\udfff", "\\udbff", "\\udc00x"])
        return path, ('{"instances": [["%s"]], "signature_name": "%s"}'
                      % (surrogate, surrogate)).encode()
    if kind == 3:  # nesting far deeper than any tensor
        depth = rng.choice([100, 1000, 5000, 20000])
        return path, b'{"instances": ' + b"[" * depth + b"1.0" + b"]" * depth + b"}"
    if kind == 4:  # wrong value types for a float model
        bad = rng.choice(['"text"', "true", "null", '{"a": 1}', '{"b64": "!!"}'])
        return "/v1/models/half:predict", ('{"instances": [[%s, 1.0]]}' % bad).encode()
    if kind == 5:  # ragged arrays
        return "/v1/models/half:predict", json.dumps(
            {"instances": [[1.0, 2.0], [1.0] * rng.randrange(3, 6)]}).encode()
    if kind == 6:  # both or neither of instances/inputs, non-object body
        return path, rng.choice([b'{"instances": [1], "inputs": [1]}', b'{"foo": 1}', b"[1, 2]",
                                 b'"instances"', b"123", b"   "])
    if kind == 7:  # unknown model, version, label or signature
        target = rng.choice(["/v1/models/nope:predict", "/v1/models/half/versions/99:predict",
                             "/v1/models/half/labels/nope:predict"])
        if rng.random() < 0.5:
            return target, text.encode()
        return path, json.dumps(dict(doc, signature_name="nope%d" % rng.randrange(100))).encode()
    if kind == 8:  # bad base64 and wrong example shapes for classify
        return "/v1/models/census:classify", rng.choice([
            b'{"examples": [{"sex": {"b64": "@@@"}}]}', b'{"examples": {"age": 1}}',
            b'{"examples": [[1, 2]]}', b'{"examples": [{"age": [[1]]}]}',
            b'{"examples": [{"age": null}]}', b'{"examples": [{"age": true}]}'])
    if kind == 9:  # bad signature_name types
        return path, json.dumps(dict(doc, signature_name=rng.choice([1, [], {}, True]))).encode()
    if kind == 10:  # numbers outside any dtype, and integers where floats would not do
        return "/v1/models/half:predict", rng.choice([
            b'{"instances": [[1e999999, "x"]]}', b'{"instances": [[NaNx, 1]]}',
            b'{"instances": [[1.0, 2.0]], }'])
    return rng.choice(["/v1/models/half/versions/abc:predict", "/v1/models/half:explode",
                       "/v1/models/half/versions/99999999999999999999999:predict"]), text.encode()


def _post(conn, path, body):
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, response.getheader("Content-Type", ""), response.read()


def test_rest_fuzz_gets_4xx_json_and_the_server_lives(server):
    rng = random.Random(SEED)
    host, port = server.rest.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    failures = []
    for i in range(REST_CASES):
        path, body = _rest_case(rng)
        try:
            status, content_type, data = _post(conn, path, body)
        except (http.client.HTTPException, OSError) as e:
            failures.append((i, path, body[:80], f"connection: {e!r}"))
            conn.close()
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            continue
        try:
            error = json.loads(data)["error"]
        except (ValueError, KeyError, TypeError):
            error = None
        if not (400 <= status < 500 and isinstance(error, str) and "json" in content_type):
            failures.append((i, path, body[:80], status, data[:200]))
    conn.close()
    assert not failures, failures[:5]
    assert http_call(server, "GET", "/v1/models/half")[0] == 200


def _grpc_case(rng, predictions):
    """(callable, request) that is a client mistake."""
    kind = rng.randrange(8)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = rng.choice(["half", "tf1_half", "keras_sum"])
    key = {"half": "x", "tf1_half": "x", "keras_sum": "features"}[request.model_spec.name]
    tensor = request.inputs[key]
    tensor.dtype = types_pb2.DT_FLOAT
    if kind == 0:  # declared shape far larger than the content
        tensor.tensor_shape.dim.add().size = rng.choice([1 << 40, 1 << 33, 10 ** 12])
        tensor.float_val.append(1.0)
    elif kind == 1:  # tensor_content length disagrees with the shape
        tensor.tensor_shape.dim.add().size = rng.randrange(2, 50)
        tensor.tensor_content = bytes(rng.randrange(1, 7))
    elif kind == 2:  # negative dimension
        tensor.tensor_shape.dim.add().size = -rng.randrange(1, 100)
        tensor.float_val.append(1.0)
    elif kind == 3:  # more values than the shape holds
        tensor.tensor_shape.dim.add().size = 1
        tensor.float_val.extend([1.0] * rng.randrange(2, 20))
    elif kind == 4:  # wrong dtype for the input
        tensor.CopyFrom(tf.make_tensor_proto(np.array([["a", "b"]])))
    elif kind == 5:  # unknown alias, model, version or signature
        choice = rng.randrange(4)
        tensor.CopyFrom(tf.make_tensor_proto(np.ones([1, 2], np.float32)))
        if choice == 0:
            request.inputs["nope"].CopyFrom(tensor)
        elif choice == 1:
            request.model_spec.name = "nope"
        elif choice == 2:
            request.model_spec.version.value = 999
        else:
            request.model_spec.signature_name = "nope"
    elif kind == 6:  # classify/regress without examples or with a missing feature
        if rng.random() < 0.5:
            bad = classification_pb2.ClassificationRequest()
            bad.model_spec.name = "tf1_half"
            bad.model_spec.signature_name = "classify_x_to_y"
            return predictions.Classify, bad
        bad = regression_pb2.RegressionRequest()
        bad.model_spec.name = "tf1_half"
        bad.model_spec.signature_name = "regress_x_to_y"
        bad.input.example_list.examples.add().features.feature["z"].int64_list.value.append(1)
        return predictions.Regress, bad
    else:  # no model name at all
        request.model_spec.name = ""
        tensor.CopyFrom(tf.make_tensor_proto(np.ones([1, 2], np.float32)))
    return predictions.Predict, request


def test_grpc_fuzz_gets_invalid_argument_family_and_the_server_lives(server):
    rng = random.Random(SEED + 1)
    predictions, models = stubs(server)
    failures = []
    for i in range(GRPC_CASES):
        call, request = _grpc_case(rng, predictions)
        try:
            call(request, timeout=30)
            failures.append((i, "accepted", str(request)[:200]))
        except grpc.RpcError as e:
            if e.code() not in CLIENT_CODES:
                failures.append((i, e.code(), e.details()[:200]))
    assert not failures, failures[:5]
    from tensorflow_serving.apis import get_model_status_pb2
    status = models.GetModelStatus(
        get_model_status_pb2.GetModelStatusRequest(model_spec={"name": "half"}), timeout=30)
    assert status.model_version_status
    assert http_call(server, "GET", "/v1/models/half")[0] == 200

