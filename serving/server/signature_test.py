"""serving.server.signature: TF1 session signatures, TF2 function signatures (fast path and the public
call it stands in for) and TensorFlow's errors passed on with their own code and words."""
import numpy as np
import pytest

from serving.server import errors, testing
from serving.server.signature import FunctionSignature, LoadedModel, SessionSignature


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {
        "tf1": LoadedModel.load("tf1", 123, testing.build_tf1_half_plus_two(root / "00000123")),
        "tf2": LoadedModel.load("tf2", 1, testing.build_affine(root / "affine", 2.0)),
        "shapes": LoadedModel.load("shapes", 1,
                                   testing.build_tf1_declared_shapes(root / "shapes")),
    }


def test_tf1_runs_in_a_session_with_dtypes_from_the_graph(models):
    model = models["tf1"]
    assert isinstance(model.signature(""), SessionSignature)
    regress = model.signature("regress_x_to_y")
    assert regress.inputs["inputs"].dtype.name == "string"
    assert regress.inputs["inputs"].shape == []
    out = model.signature("").run({"x": np.array([2.0, 4.0], np.float32)})
    np.testing.assert_allclose(out["y"], [3.0, 4.0])


def test_tensorflow_rejection_keeps_its_words(models):
    with pytest.raises(errors.ServingError) as info:
        models["tf1"].signature("regress_x_to_y").run({"inputs": np.array([b"junk"], object)})
    assert info.value.code.name == "INVALID_ARGUMENT"
    assert "Graph execution error" not in info.value.message


def test_fast_path_and_public_call_agree(models):
    signature = models["tf2"].signature("")
    assert isinstance(signature, FunctionSignature)
    x = {"x": np.array([[1.0, 2.0]], np.float32)}
    fast = signature.run(x)
    order, call = signature._flat_order, signature._flat_call
    signature._flat_order, signature._flat_call = None, None
    try:
        public = signature.run(x)
    finally:
        signature._flat_order, signature._flat_call = order, call
    np.testing.assert_array_equal(fast["y"], public["y"])
    assert order is not None, "TF changed its loaded-signature internals: the fast path is off"


def test_dtype_checked_shapes_left_to_tensorflow(models):
    signature = models["tf2"].signature("")
    with pytest.raises(errors.ServingError, match="to be float but string"):
        signature.check_inputs({"x": np.array([["a", "b"]], object)})
    signature.check_inputs({"x": np.ones([1, 3], np.float32)})


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (1, 2, 1)])
def test_a_placeholder_declaring_none_1_takes_what_its_kernels_accept(models, shape):
    """The C++ session's feed semantics: no check against the declared [None, 1]."""
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    out = models["shapes"].signature("column").run({"x": x})
    assert isinstance(out["y"], np.ndarray) and out["y"].shape == shape
    np.testing.assert_array_equal(out["y"], x * 0.5 + 2)
    with pytest.raises(errors.ServingError, match=r"In\[0\]") as info:
        models["shapes"].signature("matrix").run({"x": x})
    assert info.value.code.name == "INVALID_ARGUMENT"
