"""serving.server.examples: the one dict -> tf.Example builder (REST classify/regress, client, bench)."""
import pytest
from tensorflow.core.example import example_pb2

from serving.server import errors
from serving.server.examples import example_bytes, example_from_dict


def test_types_map_to_tf_serving_feature_lists():
    example = example_from_dict({"age": 39, "ratio": 0.5, "mixed": [1, 2.5], "sex": "Male",
                                 "raw": {"b64": "AAE="}, "tags": ["a", "b"], "empty": []})
    feature = example.features.feature
    assert list(feature["age"].int64_list.value) == [39]
    assert list(feature["ratio"].float_list.value) == [0.5]
    assert list(feature["mixed"].float_list.value) == [1.0, 2.5]
    assert list(feature["sex"].bytes_list.value) == [b"Male"]
    assert list(feature["raw"].bytes_list.value) == [b"\x00\x01"]
    assert list(feature["tags"].bytes_list.value) == [b"a", b"b"]
    assert example_pb2.Example.FromString(example_bytes({"age": 39})) == example_from_dict(
        {"age": 39})


@pytest.mark.parametrize("row", [{"a": True}, {"a": None}, {"a": [[1]]}, {"a": {"b64": "@@"}},
                                 {"a": 10 ** 30}, {"a": {"x": 1}}, ["not", "a", "dict"]])
def test_values_that_are_not_features_are_invalid_argument(row):
    with pytest.raises(errors.ServingError) as info:
        example_from_dict(row)
    assert info.value.code.name == "INVALID_ARGUMENT"
