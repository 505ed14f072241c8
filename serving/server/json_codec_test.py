"""serving.server.json_codec without a server: TF Serving's REST JSON forms in and out, and its
wording for the bodies it refuses."""
import numpy as np
import pytest
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2

from serving.server import errors, json_codec
from serving.server.signature import Signature, TensorSpecInfo


def _signature(**inputs) -> Signature:
    """A Signature whose inputs have the given dtypes (unknown shape): all the codec reads."""
    specs = {name: TensorSpecInfo(name, meta_graph_pb2.TensorInfo(
        dtype=dtype, tensor_shape={"unknown_rank": True})) for name, dtype in inputs.items()}
    return Signature("serving_default", meta_graph_pb2.SignatureDef(), specs, {})


ONE_FLOAT = _signature(x=types_pb2.DT_FLOAT)
TWO_INPUTS = _signature(age=types_pb2.DT_INT64, sex=types_pb2.DT_STRING)


@pytest.mark.parametrize("body, needle", [
    (b"", "The document is empty"),
    (b"{", "JSON Parse error: Invalid value"),
    (b"[1, 2]", "the request body must be a JSON object"),
    (b'{"instances": ["\\ud800"]}', "The surrogate pair in string is invalid"),
    (b'{"instances": ' + b"[" * 100000 + b"]" * 100000 + b"}", "nested too deeply"),
])
def test_bodies_tf_serving_refuses_are_invalid_argument(body, needle):
    with pytest.raises(errors.ServingError, match=needle) as info:
        json_codec.loads(body)
    assert info.value.http_status == 400


def test_row_format_of_one_input_is_one_tensor_of_the_signature_dtype():
    inputs, fmt = json_codec.decode_predict(json_codec.loads(b'{"instances": [[1], [2.5]]}'),
                                            ONE_FLOAT)
    assert fmt == "row" and inputs["x"].dtype == np.float32
    assert inputs["x"].tolist() == [[1.0], [2.5]]


def test_named_rows_become_columns_and_b64_becomes_bytes():
    doc = json_codec.loads(b'{"instances": [{"age": 39, "sex": "Male"},'
                           b' {"age": 50, "sex": {"b64": "RmVtYWxl"}}]}')
    inputs, fmt = json_codec.decode_predict(doc, TWO_INPUTS)
    assert fmt == "row"
    assert inputs["age"].dtype == np.int64 and inputs["age"].tolist() == [39, 50]
    assert inputs["sex"].tolist() == [b"Male", b"Female"]


def test_columnar_format_keeps_each_input_as_sent():
    doc = json_codec.loads(b'{"inputs": {"age": [[1, 2]], "sex": "x"}}')
    inputs, fmt = json_codec.decode_predict(doc, TWO_INPUTS)
    assert fmt == "columnar" and inputs["age"].shape == (1, 2) and inputs["sex"].shape == ()


@pytest.mark.parametrize("body, needle", [
    (b'{"instances": [1], "inputs": [1]}', "expecting only one of 'inputs' or 'instances'"),
    (b'{"instances": 1}', "Expecting 'instances' to be an list/array"),
    (b'{"instances": []}', "No instances found in 'instances' list"),
    (b'{"signature_name": "x"}', "Missing 'inputs' or 'instances' key"),
    (b'{"instances": [true]}', "JSON Value: true Type: True is not of expected type: float"),
    (b'{"instances": [[1, 2], [3]]}', "nested lists have different lengths"),
])
def test_bad_predict_bodies_name_the_problem(body, needle):
    with pytest.raises(errors.ServingError, match=needle):
        json_codec.decode_predict(json_codec.loads(body), ONE_FLOAT)


def test_rows_of_a_two_input_signature_must_be_objects_with_the_same_keys():
    with pytest.raises(errors.ServingError, match="each instance must be an object"):
        json_codec.decode_predict(json_codec.loads(b'{"instances": [[1, "a"]]}'), TWO_INPUTS)
    with pytest.raises(errors.ServingError, match="keys do not match those of item 0"):
        json_codec.decode_predict(json_codec.loads(
            b'{"instances": [{"age": 1, "sex": "a"}, {"age": 2}]}'), TWO_INPUTS)


def test_outputs_are_written_in_the_request_format_with_float32_shortest_text():
    outputs = {"p": np.array([[0.1], [0.7]], np.float32), "id_bytes": np.array([b"a", b"b"])}
    assert json_codec.encode_predict({"p": outputs["p"]}, "row") == {"predictions": [[0.1], [0.7]]}
    assert json_codec.encode_predict(outputs, "row") == {"predictions": [
        {"p": [0.1], "id_bytes": {"b64": "YQ=="}}, {"p": [0.7], "id_bytes": {"b64": "Yg=="}}]}
    assert json_codec.encode_predict(outputs, "columnar") == {"outputs": {
        "p": [[0.1], [0.7]], "id_bytes": [{"b64": "YQ=="}, {"b64": "Yg=="}]}}


def test_rows_need_outputs_with_one_0th_dimension():
    outputs = {"a": np.zeros([2]), "b": np.zeros([3])}
    with pytest.raises(errors.ServingError, match="different 0th dimension sizes"):
        json_codec.encode_predict(outputs, "row")


def test_examples_with_context_become_an_example_list_with_context():
    doc = json_codec.loads(b'{"context": {"sex": "Male"}, "examples": [{"age": 39}, {"age": 50}]}')
    proto = json_codec.decode_examples(doc)
    assert proto.WhichOneof("kind") == "example_list_with_context"
    assert proto.example_list_with_context.context.features.feature["sex"].bytes_list.value == [
        b"Male"]
    assert [e.features.feature["age"].int64_list.value[0]
            for e in proto.example_list_with_context.examples] == [39, 50]
    with pytest.raises(errors.ServingError, match="Expecting 'examples' to be an list/array"):
        json_codec.decode_examples(json_codec.loads(b'{"examples": {}}'))


def test_signature_name_must_be_a_string():
    assert json_codec.signature_name({}) == ""
    with pytest.raises(errors.ServingError, match="'signature_name' key must be a string value"):
        json_codec.signature_name({"signature_name": 3})
