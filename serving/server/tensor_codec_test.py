"""serving.server.tensor_codec against TF's own tf.make_tensor_proto / tf.make_ndarray as the reference.

The codec replaces those calls on the request path, so it must give byte-identical protos and
identical arrays (values, dtype, shape) for every dtype, and TF's own errors for protos TF rejects.
"""
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, types_pb2

from serving.server import tensor_codec

SHAPES = [(), (1,), (3,), (2, 3), (0,), (2, 0, 3), (1, 1)]
NUMERIC = [np.float32, np.float64, np.int32, np.int64, np.bool_, np.float16, np.int8, np.uint8,
           np.int16, np.uint16, np.uint32, np.uint64, np.complex64, np.complex128]


def _values(dtype, shape):
    n = int(np.prod(shape))
    if dtype == np.bool_:
        return (np.arange(n) % 3 == 0).reshape(shape)
    if np.issubdtype(dtype, np.complexfloating):
        return (np.arange(n) * (1.5 - 2j)).astype(dtype).reshape(shape)
    if np.issubdtype(dtype, np.floating):
        return (np.arange(n) * -1.37 + 0.1).astype(dtype).reshape(shape)
    return (np.arange(n) * 7 % 100).astype(dtype).reshape(shape)


def _same_array(got, want):
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    if want.dtype == object:
        assert got.tolist() == want.tolist()
    else:
        np.testing.assert_array_equal(got, want)


def _check_fill(array):
    proto = tensor_pb2.TensorProto()
    try:
        want = tf.make_tensor_proto(array)
    except Exception as e:  # the codec must raise the same error TF raises
        with pytest.raises(type(e)) as got:
            tensor_codec.fill_proto(proto, array)
        assert str(got.value) == str(e)
        return
    tensor_codec.fill_proto(proto, array)
    assert proto.SerializeToString(deterministic=True) == want.SerializeToString(deterministic=True)


@pytest.mark.parametrize("dtype", NUMERIC, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_numeric_round_trip_matches_tf(dtype, shape):
    array = _values(dtype, shape)
    _check_fill(array)
    reference = tf.make_tensor_proto(array)
    _same_array(tensor_codec.to_ndarray(reference), tf.make_ndarray(reference))
    _same_array(tensor_codec.to_ndarray(reference), array)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_string_round_trip_matches_tf(shape):
    n = int(np.prod(shape))
    items = [b"", b"\x00bin\xff", "é".encode(), b"census row"]
    array = np.array([items[i % len(items)] for i in range(n)], dtype=object).reshape(shape)
    _check_fill(array)
    reference = tf.make_tensor_proto(array)
    _same_array(tensor_codec.to_ndarray(reference), tf.make_ndarray(reference))


@pytest.mark.parametrize("array", [
    np.array(["text", "é"], dtype=object), np.array([b"a\x00", b"b"]), np.array(["u", "v"]),
    np.array([1, b"x"], dtype=object)], ids=["str-objects", "fixed-bytes", "unicode", "mixed"])
def test_other_arrays_fall_back_to_tf(array):
    _check_fill(array)


def test_non_contiguous_array():
    array = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]
    _check_fill(array)
    _check_fill(array.T)


@pytest.mark.parametrize("field,dtype,values", [
    ("float_val", types_pb2.DT_FLOAT, [1.5, -2.25, 3.0]),
    ("double_val", types_pb2.DT_DOUBLE, [1e300, -2.5, 0.1]),
    ("int_val", types_pb2.DT_INT32, [1, -2, 2 ** 31 - 1]),
    ("int64_val", types_pb2.DT_INT64, [1, -2, 2 ** 63 - 1]),
    ("bool_val", types_pb2.DT_BOOL, [True, False, True]),
    ("string_val", types_pb2.DT_STRING, [b"a", b"", b"\xff"]),
])
@pytest.mark.parametrize("dims,count", [([3], 3), ([1, 3], 3), ([5], 1), ([5], 3), ([], 1),
                                        ([], 0), ([2], 0), ([0], 0), ([], 3), ([2], 3)])
def test_hand_written_protos_match_tf(field, dtype, values, dims, count):
    """Protos as clients write them: repeated fields, fewer values than elements (TF pads with
    the last one), no shape at all."""
    proto = tensor_pb2.TensorProto(dtype=dtype)
    for d in dims or []:
        proto.tensor_shape.dim.add().size = d
    getattr(proto, field).extend(values[:count])
    _check_to_ndarray(proto)


@pytest.mark.parametrize("proto", [
    tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_content=b"\x00" * 6,
                           tensor_shape={"dim": [{"size": 2}]}),
    tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_content=b"\x00" * 8,
                           tensor_shape={"dim": [{"size": 3}]}),
    tensor_pb2.TensorProto(dtype=types_pb2.DT_INVALID),
    tensor_pb2.TensorProto(dtype=types_pb2.DT_INT64, int64_val=[1, 2, 3],
                           tensor_shape={"dim": [{"size": 2}]}),
], ids=["ragged-content", "short-content", "invalid-dtype", "too-many-values"])
def test_malformed_protos_behave_like_tf(proto):
    _check_to_ndarray(proto)


def _check_to_ndarray(proto):
    try:
        want = tf.make_ndarray(proto)
    except Exception as e:  # the codec must raise the same error TF raises
        with pytest.raises(type(e)) as got:
            tensor_codec.to_ndarray(proto)
        assert str(got.value) == str(e)
        return
    _same_array(tensor_codec.to_ndarray(proto), want)


def _declared(shape, values=(), content=b"", dtype=types_pb2.DT_FLOAT):
    proto = tensor_pb2.TensorProto(dtype=dtype)
    for d in shape:
        proto.tensor_shape.dim.add().size = d
    proto.float_val.extend(values)
    proto.tensor_content = content
    return proto


@pytest.mark.parametrize("proto", [
    _declared([1 << 40], [1.0]),
    _declared([-1], [1.0]),
    _declared([1], [1.0, 2.0]),
    _declared([4], content=b"\0" * 15),
    _declared([3], []),
])
def test_declared_size_disagreeing_with_content_is_invalid_argument(proto):
    from serving.server import errors
    with pytest.raises(errors.ServingError) as info:
        tensor_codec.check_declared_size(proto)
    assert info.value.code.name == "INVALID_ARGUMENT"


def test_small_fill_stays_tensorflows_and_exact_sizes_pass():
    tensor_codec.check_declared_size(_declared([2, 2], [1.0, 2.0, 3.0, 4.0]))
    tensor_codec.check_declared_size(_declared([3], [7.0]))
    tensor_codec.check_declared_size(_declared([2], content=b"\0" * 8))
    np.testing.assert_array_equal(tensor_codec.to_ndarray(_declared([3], [7.0])), [7.0] * 3)
