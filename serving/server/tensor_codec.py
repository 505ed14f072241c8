"""TensorProto <-> numpy for the request path, without tf.make_tensor_proto / tf.make_ndarray.

Those two run generic Python (dtype inference, shape objects, per-dtype dispatch) on every request.
For the dtypes requests use (string, float, double, int32, int64, bool) the conversion here writes
and reads the proto fields directly and produces exactly what TF's functions produce (the tests
compare bytes and arrays for every dtype); anything else, or a proto TF would pad or reject, is
handed to TF's functions so results and error messages stay TF's.
"""
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2

from serving.server import errors

_FIELD = {
    types_pb2.DT_FLOAT: ("float_val", np.float32),
    types_pb2.DT_DOUBLE: ("double_val", np.float64),
    types_pb2.DT_INT32: ("int_val", np.int32),
    types_pb2.DT_INT64: ("int64_val", np.int64),
    types_pb2.DT_BOOL: ("bool_val", np.bool_),
}
_ENUM = {np.dtype(np.float32): types_pb2.DT_FLOAT, np.dtype(np.float64): types_pb2.DT_DOUBLE,
         np.dtype(np.int32): types_pb2.DT_INT32, np.dtype(np.int64): types_pb2.DT_INT64,
         np.dtype(np.bool_): types_pb2.DT_BOOL}
_CONTENT = {types_pb2.DT_FLOAT, types_pb2.DT_DOUBLE, types_pb2.DT_INT32, types_pb2.DT_INT64}
# TensorFlow fills a value list shorter than the declared shape with its last value; a client's
# tensor may use that only up to this many bytes, so a tiny proto cannot make the server allocate
# terabytes (checked before anything is allocated).
MAX_FILLED_BYTES = 64 << 20


def check_declared_size(proto) -> None:
    """INVALID_ARGUMENT when the declared shape is negative or disagrees with the content."""
    count = 1
    for d in proto.tensor_shape.dim:
        if d.size < 0:
            raise errors.invalid_argument(
                f"Tensor shape has a negative dimension ({d.size}); request tensors need a fully "
                "defined shape")
        count *= d.size
    if proto.tensor_content:
        if proto.dtype == types_pb2.DT_STRING:
            return
        try:
            itemsize = tf.dtypes.as_dtype(proto.dtype).size
        except TypeError:
            raise errors.invalid_argument(f"Unsupported tensor dtype {proto.dtype}") from None
        if len(proto.tensor_content) != count * itemsize:
            raise errors.invalid_argument(
                f"Tensor of shape {_shape(proto)} needs {count * itemsize} bytes of "
                f"tensor_content but the request holds {len(proto.tensor_content)}")
        return
    held = max((len(getattr(proto, f.name)) for f, _ in proto.ListFields()
                if f.label == f.LABEL_REPEATED and f.name.endswith("_val")), default=0)
    if held == count:
        return
    try:
        itemsize = max(tf.dtypes.as_dtype(proto.dtype).size, 1)
    except TypeError:
        raise errors.invalid_argument(f"Unsupported tensor dtype {proto.dtype}") from None
    if held > count or held == 0 or count * itemsize > MAX_FILLED_BYTES:
        raise errors.invalid_argument(
            f"Tensor of shape {_shape(proto)} declares {count} elements but the request holds "
            f"{held} value(s); send one value per element")


def _shape(proto) -> str:
    return "[" + ",".join(str(d.size) for d in proto.tensor_shape.dim) + "]"


def request_inputs(request) -> dict:
    """PredictRequest.inputs (TensorProto map) -> numpy arrays, sizes checked first."""
    result = {}
    for key, proto in request.inputs.items():
        check_declared_size(proto)
        try:
            result[key] = to_ndarray(proto)
        except (TypeError, ValueError) as e:
            raise errors.invalid_argument(
                f"Cannot convert input tensor '{key}' to an array: {e}") from None
    return result


def to_ndarray(proto) -> np.ndarray:
    """Same result as tf.make_ndarray(proto)."""
    shape = [d.size for d in proto.tensor_shape.dim]
    count = 1
    for d in shape:
        count *= d
    dtype = proto.dtype
    if dtype == types_pb2.DT_STRING and not proto.tensor_content:
        values = proto.string_val
        if len(values) == count and count > 0:
            return np.array(list(values), dtype=object).reshape(shape)
    elif dtype in _FIELD:
        field, np_dtype = _FIELD[dtype]
        content = proto.tensor_content
        if content:
            if count > 0 and len(content) == count * np.dtype(np_dtype).itemsize:
                return np.frombuffer(content, dtype=np_dtype).copy().reshape(shape)
        else:
            values = getattr(proto, field)
            if len(values) == count and count > 0:
                return np.fromiter(values, dtype=np_dtype, count=count).reshape(shape)
    return tf.make_ndarray(proto)


def fill_proto(proto, array: np.ndarray) -> None:
    """Write `array` into an empty TensorProto exactly as tf.make_tensor_proto(array) would."""
    enum = _ENUM.get(array.dtype)
    is_bytes = array.dtype == object and all(type(v) is bytes for v in array.flat)
    if (enum is None and not is_bytes) or array.nbytes >= (1 << 31):
        proto.CopyFrom(tf.make_tensor_proto(array))
        return
    proto.tensor_shape.SetInParent()
    for d in array.shape:
        proto.tensor_shape.dim.add().size = d
    if is_bytes:
        proto.dtype = types_pb2.DT_STRING
        proto.string_val.extend(array.ravel().tolist())
        return
    proto.dtype = enum
    if enum in _CONTENT and array.size > 1:
        proto.tensor_content = array.tobytes()
        return
    getattr(proto, _FIELD[enum][0]).extend(array.ravel().tolist())
