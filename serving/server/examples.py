"""tf.Example from a dict of feature -> value: the one builder the REST codec, the client and the
benchmark share (TF Serving's classify/regress JSON rules)."""
import base64
import json
from typing import Mapping, Optional

from tensorflow.core.example import example_pb2

from serving.server import errors


def json_bytes(value) -> Optional[bytes]:
    """TF Serving's JSON form of binary data: a string (UTF-8) or {"b64": "..."}; None for any
    other JSON value. Invalid base64 is INVALID_ARGUMENT."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict) and set(value) == {"b64"} and isinstance(value["b64"], str):
        try:
            return base64.b64decode(value["b64"], validate=True)
        except ValueError:
            raise errors.invalid_argument(
                f"Unable to base64 decode: {value['b64'][:40]!r}") from None
    return None


def _bytes(key: str, value) -> bytes:
    decoded = json_bytes(value)
    if decoded is None:
        raise errors.invalid_argument(
            f"Feature '{key}': values must be numbers, strings or {{\"b64\": ...}}, got "
            f"{json.dumps(value)[:100]}")
    return decoded


def _feature(example, key: str, value) -> None:
    values = value if isinstance(value, list) else [value]
    feature = example.features.feature[key]
    if not values:
        return
    if all(isinstance(v, bool) for v in values) or any(
            isinstance(v, (list, type(None))) for v in values):
        raise errors.invalid_argument(
            f"Feature '{key}': values must be numbers, strings or {{\"b64\": ...}}, got "
            f"{json.dumps(value)[:100]}")
    try:
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            feature.int64_list.value.extend(values)
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            feature.float_list.value.extend(float(v) for v in values)
        else:
            feature.bytes_list.value.extend(_bytes(key, v) for v in values)
    except (ValueError, OverflowError):
        raise errors.invalid_argument(
            f"Feature '{key}': {json.dumps(value)[:100]} does not fit int64/float") from None


def example_from_dict(row: Mapping, where: str = "row") -> example_pb2.Example:
    """{feature: value or list} -> tf.Example: ints -> int64_list, other numbers -> float_list,
    strings and {"b64": ...} -> bytes_list; anything else is INVALID_ARGUMENT naming the feature."""
    if not isinstance(row, Mapping):
        raise errors.invalid_argument(f"{where} must be a JSON object of feature name -> value")
    example = example_pb2.Example()
    for key, value in row.items():
        _feature(example, key, value)
    return example


def example_bytes(row: Mapping) -> bytes:
    """The serialized tf.Example of `row` (what a serialized-Example signature takes)."""
    return example_from_dict(row).SerializeToString()
