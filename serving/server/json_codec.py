"""TF Serving's REST JSON formats <-> numpy / tf.Example, with its error wording.

Row format (`instances`) and columnar (`inputs`) for predict, `{"b64": ...}` for binary strings,
`examples` (+ `context`) for classify/regress; outputs as `predictions` (row) or `outputs`
(columnar); string outputs whose name ends in `_bytes` come back as `{"b64": ...}`.
"""
import base64
import json
import re
from typing import Dict, Tuple

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import input_pb2

from serving.server import errors
from serving.server.examples import example_from_dict, json_bytes
from serving.server.signature import Signature, dtype_name

# numpy arrays have at most 32 dimensions (numpy 1.26); deeper JSON values cannot be a tensor.
MAX_DEPTH = 32


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class JsonDoc(dict):
    """A parsed request body; `may_hold_bools` is False when the text has no `true`/`false`, so
    numeric inputs can take numpy's fast path (which would read true as 1.0)."""

    may_hold_bools = True


def loads(body: bytes):
    """Parse a request body as TF Serving's RapidJSON would accept it: lone UTF-16 surrogates
    (`"\\ud800"`) and nesting deeper than Python can walk are 400s, not server faults."""
    if not body or not body.strip():
        raise errors.invalid_argument("JSON Parse error: The document is empty. at offset: 0")
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        offset = getattr(e, "pos", 0)
        raise errors.invalid_argument(f"JSON Parse error: Invalid value. at offset: {offset} "
                                      f"({getattr(e, 'msg', e)})") from None
    except RecursionError:
        raise errors.invalid_argument(
            "JSON Parse error: arrays or objects are nested too deeply") from None
    if _SURROGATE_ESCAPE.search(body):
        try:
            json.dumps(doc, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as e:
            raise errors.invalid_argument(
                "JSON Parse error: The surrogate pair in string is invalid. "
                f"({e.object[e.start:e.end].encode('unicode_escape').decode()} is a lone "
                "surrogate; send UTF-8 text or a {\"b64\": ...} value)") from None
    if not isinstance(doc, dict):
        raise errors.invalid_argument("JSON Parse error: the request body must be a JSON object")
    doc = JsonDoc(doc)
    doc.may_hold_bools = b"true" in body or b"false" in body
    return doc


def _json_type(value) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return "Number"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    return "Object"


def _type_error(value, dtype) -> errors.ServingError:
    return errors.invalid_argument(
        f"JSON Value: {json.dumps(value)} Type: {_json_type(value)} is not of expected type: "
        f"{dtype_name(dtype)}")


def _scalar(value, dtype):
    if dtype == tf.string:
        decoded = json_bytes(value)
        if decoded is None:
            raise _type_error(value, dtype)
        return decoded
    if dtype == tf.bool:
        if isinstance(value, bool):
            return value
        raise _type_error(value, dtype)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _type_error(value, dtype)
    if dtype.is_integer and not (isinstance(value, int) or float(value).is_integer()):
        raise _type_error(value, dtype)
    return value


def _walk(value, dtype):
    if isinstance(value, list):
        return [_walk(v, dtype) for v in value]
    return _scalar(value, dtype)


def _depth_exceeds(value, limit: int) -> bool:
    """Nesting deeper than `limit` along the first element (iterative: no recursion)."""
    depth = 0
    while isinstance(value, list) and value:
        depth += 1
        if depth > limit:
            return True
        value = value[0]
    return False


def to_array(value, dtype, name: str, may_hold_bools: bool = True) -> np.ndarray:
    """A JSON value for one input -> numpy array of the signature's dtype (true/false only for
    bool inputs, as TF Serving's JSON reader insists)."""
    dtype = tf.dtypes.as_dtype(dtype)
    if _depth_exceeds(value, MAX_DEPTH):
        raise errors.invalid_argument(
            f"Input '{name}' is nested more than {MAX_DEPTH} levels deep; a tensor has at most "
            f"{MAX_DEPTH} dimensions")
    if dtype != tf.string and (dtype == tf.bool or not may_hold_bools):
        try:
            fast = np.asarray(value)
        except ValueError:
            fast = None
        if fast is not None and fast.dtype.kind in ("i", "u", "f") and dtype != tf.bool:
            if dtype.is_integer and fast.dtype.kind == "f":
                bad = fast[fast != np.floor(fast)]
                if bad.size:
                    raise _type_error(float(bad.flat[0]), dtype)
            return fast.astype(dtype.as_numpy_dtype, copy=False)
        if fast is not None and fast.dtype.kind == "b" and dtype == tf.bool:
            return fast
    try:
        walked = _walk(value, dtype)
        array = np.array(walked, dtype=object if dtype == tf.string else dtype.as_numpy_dtype)
    except (ValueError, OverflowError, RecursionError):
        raise errors.invalid_argument(
            f"Input '{name}': nested lists have different lengths (the tensor must be rectangular)"
        ) from None
    if dtype == tf.string and array.dtype != object:
        array = array.astype(object)
    return array


def decode_predict(doc: dict, signature: Signature) -> Tuple[Dict[str, np.ndarray], str]:
    """Request JSON -> ({input: array}, "row"|"columnar")."""
    if "instances" in doc and "inputs" in doc:
        raise errors.invalid_argument(
            "Not formatted correctly expecting only one of 'inputs' or 'instances' keys exists")
    specs = signature.inputs
    bools = getattr(doc, "may_hold_bools", True)
    if "instances" in doc:
        instances = doc["instances"]
        if not isinstance(instances, list):
            raise errors.invalid_argument("Expecting 'instances' to be an list/array")
        if not instances:
            raise errors.invalid_argument("No instances found in 'instances' list")
        named = isinstance(instances[0], dict) and not (
            len(specs) == 1 and set(instances[0]) == {"b64"})
        if len(specs) > 1 and not named:
            raise errors.invalid_argument(
                f"Expecting object but got list at item 0 of input list; the signature has "
                f"{len(specs)} inputs ({', '.join(sorted(specs))}), so each instance must be an "
                "object keyed by input name")
        if not named:
            key = next(iter(specs))
            return {key: to_array(instances, specs[key].dtype, key, bools)}, "row"
        columns = {}
        for i, instance in enumerate(instances):
            if not isinstance(instance, dict):
                raise errors.invalid_argument(f"Expecting object but got list at item {i} of "
                                              "input list")
            if set(instance) != set(columns or instance):
                raise errors.invalid_argument(
                    f"Failed to process element: {i} of 'instances' list. JSON object: "
                    f"{json.dumps(instance)[:200]} keys do not match those of item 0")
            for key, value in instance.items():
                columns.setdefault(key, []).append(value)
        return {k: to_array(v, specs[k].dtype if k in specs else tf.string, k, bools)
                for k, v in columns.items()}, "row"
    if "inputs" in doc:
        inputs = doc["inputs"]
        if isinstance(inputs, dict) and not (len(specs) == 1 and set(inputs) == {"b64"}):
            return {k: to_array(v, specs[k].dtype if k in specs else tf.string, k, bools)
                    for k, v in inputs.items()}, "columnar"
        if len(specs) != 1:
            raise errors.invalid_argument(
                f"The signature has {len(specs)} inputs ({', '.join(sorted(specs))}); 'inputs' "
                "must be an object keyed by input name")
        key = next(iter(specs))
        return {key: to_array(inputs, specs[key].dtype, key, bools)}, "columnar"
    raise errors.invalid_argument("Missing 'inputs' or 'instances' key")


def to_json_value(array: np.ndarray, name: str):
    """An output array as TF Serving writes it (float32 in its shortest round-trip form)."""
    if array.dtype == object or array.dtype.kind in "SU":
        as_b64 = name.endswith("_bytes")

        def enc(b):
            if not isinstance(b, bytes):
                return b
            if not as_b64:
                try:
                    return b.decode("utf-8")
                except UnicodeDecodeError:
                    pass
            return {"b64": base64.b64encode(b).decode("ascii")}
        return np.vectorize(enc, otypes=[object])(array).tolist() if array.size else array.tolist()
    if array.dtype in (np.float32, np.float16):
        flat = [float(str(x)) for x in array.ravel()]
        return np.array(flat, dtype=object).reshape(array.shape).tolist()
    return array.tolist()


def encode_predict(outputs: Dict[str, np.ndarray], fmt: str) -> dict:
    """The predict response in the request's format, as TF Serving answers: `fmt` "columnar"
    (the request sent "inputs") -> {"outputs": ...}, else {"predictions": [one entry per row]};
    rows need every output to share its 0th dimension."""
    if fmt == "columnar":
        if len(outputs) == 1:
            (name, array), = outputs.items()
            return {"outputs": to_json_value(array, name)}
        return {"outputs": {k: to_json_value(v, k) for k, v in outputs.items()}}
    if len(outputs) == 1:
        (name, array), = outputs.items()
        return {"predictions": to_json_value(array, name)}
    sizes = {v.shape[0] if v.ndim else None for v in outputs.values()}
    if len(sizes) != 1 or None in sizes:
        raise errors.invalid_argument(
            "Tensors to be converted to JSON have different 0th dimension sizes (use the "
            "columnar 'inputs' format for this signature)")
    columns = {k: to_json_value(v, k) for k, v in outputs.items()}
    n = sizes.pop()
    return {"predictions": [{k: columns[k][i] for k in columns} for i in range(n)]}


def decode_examples(doc: dict):
    """classify/regress JSON ({"examples": [...], "context": {...}}) -> tensorflow.serving.Input."""
    examples = doc.get("examples")
    if not isinstance(examples, list):
        raise errors.invalid_argument("Expecting 'examples' to be an list/array")
    result = input_pb2.Input()
    if "context" in doc:
        target = result.example_list_with_context
        target.context.CopyFrom(example_from_dict(doc["context"], "'context'"))
    else:
        target = result.example_list
    for i, item in enumerate(examples):
        target.examples.add().CopyFrom(example_from_dict(item, f"Item {i} of 'examples'"))
    return result


def encode_classification(result) -> dict:
    """ClassificationResult -> TF Serving's {"results": [[[label, score], ...] per example]}."""
    return {"results": [[[c.label, _f32(c.score)] for c in row.classes]
                        for row in result.classifications]}


def encode_regression(result) -> dict:
    """RegressionResult -> TF Serving's {"results": [value per example]}."""
    return {"results": [_f32(r.value) for r in result.regressions]}


def _f32(value: float) -> float:
    """Shortest text that round-trips the float32 the model produced (what clients compare)."""
    return float(str(np.float32(value)))


def signature_name(doc: dict) -> str:
    """The request's "signature_name" ("" picks serving_default); a non-string is a 400 in TF
    Serving's words."""
    name = doc.get("signature_name", "")
    if not isinstance(name, str):
        raise errors.invalid_argument("'signature_name' key must be a string value.")
    return name
