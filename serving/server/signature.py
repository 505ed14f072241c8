"""Signature runner: a loaded SavedModel version and its signatures (tensors in, tensors out).

Checks input names and dtypes before running (TF Serving's wording); shapes are TensorFlow's to
judge, and its rejection becomes INVALID_ARGUMENT in its own words. TF1 graph SavedModels run in
one session over the MetaGraph, feeding and fetching by tensor name, as TF Serving runs every
model. Classify and Regress follow TF Serving's rules: one string input of serialized
tf.Examples, outputs `classes`/`scores` (classify) or `outputs` (regress). With
`--enable_signature_method_name_check` (TF Serving's flag, off by default) the signature's
method_name must also be tensorflow/serving/classify|regress|predict.
A TF2 model gets such a method name by editing saved_model.pb after tf.saved_model.save
(`set_method_name`) or by exporting with tf.compat.v1.saved_model's classification_signature_def.
"""
import pathlib
import threading
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.example import example_pb2
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import config_pb2, saved_model_pb2
from tensorflow_serving.apis import classification_pb2, get_model_metadata_pb2, regression_pb2

from serving.server import errors

PREDICT_METHOD = "tensorflow/serving/predict"
CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"
DEFAULT_SIGNATURE = "serving_default"


class TensorSpecInfo:
    """dtype and shape of one signature input/output (None shape = unknown rank, -1 = any size)."""

    __slots__ = ("name", "dtype", "shape")

    def __init__(self, name: str, info, dtype=None):
        self.name = name
        self.dtype = tf.dtypes.as_dtype(dtype if dtype is not None else info.dtype)
        self.shape = (None if info.tensor_shape.unknown_rank
                      else [d.size for d in info.tensor_shape.dim])


def _shape_str(shape: Sequence[int]) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def dtype_name(dtype) -> str:
    """TF Serving's spelling (DataTypeString): float, int64, string..."""
    return types_pb2.DataType.Name(tf.dtypes.as_dtype(dtype).as_datatype_enum)[3:].lower()


_CONTEXT_LINES = ("Graph execution error", "Detected at node", "Node: ", "Original stack trace",
                  "File ")


def _tf_message(e: Exception) -> str:
    """TensorFlow's own words for a rejected input: the first line of the op's status message,
    without the Python-side context (graph location, stack) that TF Serving's C++ never adds."""
    message = (getattr(e, "message", None) or str(e)).strip()
    for line in message.split("\n"):
        line = line.strip()
        if line and not line.startswith(_CONTEXT_LINES):
            return line
    return message.split("\n")[0]


def _tf_error(e: Exception) -> errors.ServingError:
    """TensorFlow's status as TF Serving passes it on: its code (INVALID_ARGUMENT for argument
    binding errors raised in Python) and its words."""
    code = grpc.StatusCode.INVALID_ARGUMENT
    if isinstance(e, tf.errors.OpError):
        code = next((c for c in grpc.StatusCode if c.value[0] == e.error_code),
                    grpc.StatusCode.UNKNOWN)
    return errors.ServingError(code, _tf_message(e))


class Signature:
    """One SignatureDef and how to run it; subclasses bind it to a TF2 function or a TF1 session.

    Like TF Serving, only names and dtypes are checked here: shapes are left to TensorFlow, whose
    rejection becomes INVALID_ARGUMENT with TensorFlow's message.
    """

    def __init__(self, name: str, signature_def, inputs: Dict[str, TensorSpecInfo],
                 outputs: Dict[str, TensorSpecInfo]):
        self.name = name
        self.signature_def = signature_def
        self.method_name = signature_def.method_name
        self.inputs = inputs
        self.outputs = outputs
        self.batchable = bool(self.inputs) and all(
            s.shape is not None and len(s.shape) >= 1 and s.shape[0] == -1
            for s in self.inputs.values())

    def check_inputs(self, inputs: Dict[str, np.ndarray]) -> None:
        """TF Serving's alias checks (same wording), then the dtype check of TF's session."""
        sent, expected = set(inputs), set(self.inputs)
        if len(sent) != len(expected):
            extra, missing = sorted(sent - expected), sorted(expected - sent)
            raise errors.invalid_argument(
                f"input size does not match signature: {len(sent)}!={len(expected)} "
                f"len({{{','.join(sorted(sent))}}}) != len({{{','.join(sorted(expected))}}}). "
                f"Sent extra: {{{','.join(extra)}}}. Missing but required: {{{','.join(missing)}}}.")
        for key in sorted(sent - expected):
            raise errors.invalid_argument(
                f"input tensor alias not found in signature: {key}. Inputs expected to be in the "
                f"set {{{','.join(sorted(expected))}}}.")
        for key, value in inputs.items():
            spec = self.inputs[key]
            got = tf.dtypes.as_dtype(value.dtype) if value.dtype.kind not in "OSU" else tf.string
            if got != spec.dtype:
                raise errors.invalid_argument(
                    f"Expects arg '{key}' to be {dtype_name(spec.dtype)} but {dtype_name(got)} is "
                    "provided")

    def output_keys(self, output_filter: Optional[Iterable[str]] = None) -> List[str]:
        """The outputs a request asks for (all of them when it names none); an alias the signature
        lacks is refused in TF Serving's words before anything runs."""
        wanted = list(output_filter or [])
        for key in wanted:
            if key not in self.outputs:
                raise errors.invalid_argument(
                    f"output tensor alias not found in signature: {key} Outputs expected to be in "
                    f"the set {{{','.join(sorted(self.outputs))}}}.")
        return wanted or list(self.outputs)

    def run(self, inputs: Dict[str, np.ndarray],
            output_filter: Optional[Iterable[str]] = None) -> Dict[str, np.ndarray]:
        """Run on dtype-checked numpy inputs; returns numpy outputs (only `output_filter`'s when
        given). Inputs must have passed `check_inputs`."""
        raise NotImplementedError


class FunctionSignature(Signature):
    """A TF2 SavedModel signature: the loaded concrete function."""

    def __init__(self, name: str, signature_def, function):
        super().__init__(name, signature_def,
                         {k: TensorSpecInfo(k, v) for k, v in signature_def.inputs.items()},
                         {k: TensorSpecInfo(k, v) for k, v in signature_def.outputs.items()})
        self.function = function
        self._flat_order, self._flat_call = _flat_caller(function, self.inputs)

    def run(self, inputs: Dict[str, np.ndarray],
            output_filter: Optional[Iterable[str]] = None) -> Dict[str, np.ndarray]:
        """Through the flat call when the inputs match the signature's specs exactly, else the
        public call, which binds and checks the arguments itself."""
        keys = self.output_keys(output_filter)
        try:
            tensors = {k: tf.constant(v) for k, v in inputs.items()}
            if self._flat_call is not None and self._matches_specs(tensors):
                result = self._flat_call([tensors[k] for k in self._flat_order])
            else:
                result = self.function(**tensors)
        except (tf.errors.OpError, ValueError, TypeError) as e:
            raise _tf_error(e) from None
        return {k: result[k].numpy() for k in keys}

    def _matches_specs(self, tensors) -> bool:
        """True when the public call would accept these tensors unchanged (same names, dtypes and
        compatible shapes), so skipping its argument binding cannot change the result or error."""
        if len(tensors) != len(self.inputs):
            return False
        for key, tensor in tensors.items():
            spec = self.inputs.get(key)
            if spec is None or tensor.dtype != spec.dtype:
                return False
            if spec.shape is not None:
                shape = tensor.shape
                if len(shape) != len(spec.shape) or any(
                        want not in (-1, have) for want, have in zip(spec.shape, shape)):
                    return False
        return True


class SessionSignature(Signature):
    """A TF1 graph SavedModel signature run as TF Serving runs it: one session over the MetaGraph,
    feeding and fetching the signature's tensors by name. dtypes come from the graph's tensors
    (a TensorInfo's declared dtype and shape are not trusted: TF1 exports often get them wrong).

    Feeds go through the C++ `Session::MakeCallable`/`RunCallable` (TF Serving calls the C++
    `Session::Run`), not Python's `Session.run`: Python refuses a feed whose shape differs from the
    placeholder's declared one ("Cannot feed value of shape ..."), the C++ session does not, so the
    graph's kernels decide, and their refusal is INVALID_ARGUMENT in TensorFlow's words."""

    def __init__(self, name: str, signature_def, session, graph):
        def spec(key, info):
            return TensorSpecInfo(key, info, graph.get_tensor_by_name(info.name).dtype)
        super().__init__(name, signature_def,
                         {k: spec(k, v) for k, v in signature_def.inputs.items()},
                         {k: spec(k, v) for k, v in signature_def.outputs.items()})
        self.session = session
        self._callables = {}
        self._lock = threading.Lock()

    def _callable(self, feeds: Tuple[str, ...], fetches: Tuple[str, ...]):
        key = (feeds, fetches)
        call = self._callables.get(key)
        if call is None:
            with self._lock:
                call = self._callables.get(key)
                if call is None:
                    options = config_pb2.CallableOptions(
                        feed=[self.signature_def.inputs[k].name for k in feeds],
                        fetch=[self.signature_def.outputs[k].name for k in fetches])
                    call = self.session._make_callable_from_options(options)
                    self._callables[key] = call
        return call

    def run(self, inputs: Dict[str, np.ndarray],
            output_filter: Optional[Iterable[str]] = None) -> Dict[str, np.ndarray]:
        """One cached session callable per (inputs, outputs) pair, so a request does not rebuild
        the feed/fetch plan."""
        keys = tuple(self.output_keys(output_filter))
        feeds = tuple(sorted(inputs))
        try:
            values = self._callable(feeds, keys)(*[inputs[k] for k in feeds])
        except (tf.errors.OpError, ValueError, TypeError) as e:
            raise _tf_error(e) from None
        return {k: _as_array(v) for k, v in zip(keys, values)}


def _as_array(value) -> np.ndarray:
    """A fetched value as an array: the C++ callable returns scalars (0-d tensors) as numpy scalars
    or, for strings, as bytes."""
    if isinstance(value, np.ndarray):
        return value
    return np.asarray(value, dtype=object if isinstance(value, bytes) else None)


def _flat_caller(function, inputs):
    """(input order, call) for the signature's flat call with its captured variable handles
    resolved once, or (None, None) to always use the public call.

    A loaded signature re-resolves its ~60 captured handles and re-binds its keyword arguments on
    every call (about 40% of a census row's in-process time). Outside a distribution strategy those
    handles never change, so the server resolves them at load time. Only used when the function
    looks exactly like TF 2.16's loaded signatures (else a TF upgrade silently keeps the public
    path, which `signature_test` also runs).
    """
    from tensorflow.python.eager.polymorphic_function import concrete_function
    order = list(getattr(function, "_arg_keywords", None) or [])
    raw_captures = getattr(function, "_captured_inputs", None)
    call_flat = getattr(concrete_function.ConcreteFunction, "_call_flat", None)
    if (call_flat is None or raw_captures is None or sorted(order) != sorted(inputs)
            or any(callable(c) or not isinstance(c, tf.Tensor) for c in raw_captures)):
        return None, None
    captures = list(function.captured_inputs)
    if len(function.inputs) != len(order) + len(captures):
        return None, None
    return order, lambda flat: call_flat(function, flat, captures)


def _tensor_from_list(values, dtype) -> np.ndarray:
    return np.asarray(values, dtype=object if dtype == tf.string else dtype.as_numpy_dtype)


class LoadedModel:
    """One loaded version: the TF object or session (kept alive for in-flight requests) and its
    signatures."""

    def __init__(self, name: str, version: int, path: pathlib.Path, loaded, signature_defs,
                 signatures: Dict[str, Signature]):
        self.name = name
        self.version = version
        self.path = path
        self._loaded = loaded
        self.signature_defs = signature_defs
        self.signatures = signatures

    @classmethod
    def load(cls, name: str, version: int, path: pathlib.Path) -> "LoadedModel":
        """TF1 graph SavedModels (no object graph) load into a session as TF Serving loads them;
        TF2 SavedModels load with tf.saved_model.load and run their concrete functions."""
        meta_graph = read_serve_meta_graph(path)
        signature_defs = dict(meta_graph.signature_def)
        if not meta_graph.object_graph_def.nodes:
            graph = tf.Graph()
            session = tf.compat.v1.Session(graph=graph)
            with graph.as_default():
                tf.compat.v1.saved_model.loader.load(session, ["serve"], str(path))
            signatures = {k: SessionSignature(k, v, session, graph)
                          for k, v in signature_defs.items()}
            return cls(name, version, path, session, signature_defs, signatures)
        loaded = tf.saved_model.load(str(path), tags=["serve"])
        signatures = {}
        for key, sig_def in signature_defs.items():
            function = loaded.signatures.get(key)
            if function is not None:
                signatures[key] = FunctionSignature(key, sig_def, function)
        return cls(name, version, path, loaded, signature_defs, signatures)

    def signature(self, key: str) -> Signature:
        """An empty key means serving_default, as in TF Serving's requests."""
        key = key or DEFAULT_SIGNATURE
        try:
            return self.signatures[key]
        except KeyError:
            raise errors.signature_not_found(key) from None

    def signature_def_map(self):
        """The SignatureDefs as the message GetModelMetadata packs into `signature_def`."""
        result = get_model_metadata_pb2.SignatureDefMap()
        for key, sig_def in self.signature_defs.items():
            result.signature_def[key].CopyFrom(sig_def)
        return result


def read_serve_meta_graph(path: pathlib.Path):
    """The MetaGraph tagged `serve`, exactly as stored (method names included)."""
    proto = saved_model_pb2.SavedModel()
    pb = pathlib.Path(path) / "saved_model.pb"
    if not pb.exists():
        raise errors.not_found(f"No saved_model.pb in {path}")
    proto.ParseFromString(pb.read_bytes())
    for meta_graph in proto.meta_graphs:
        if "serve" in meta_graph.meta_info_def.tags:
            return meta_graph
    raise errors.not_found(f"SavedModel at {path} has no MetaGraph tagged 'serve'")


def read_signature_defs(path: pathlib.Path):
    """The SignatureDefs of the `serve` MetaGraph, exactly as stored (method names included)."""
    return dict(read_serve_meta_graph(path).signature_def)


def set_method_name(saved_model_dir, signature: str, method_name: str) -> None:
    """Give a signature saved by tf.saved_model.save a classify/regress method name, which TF
    Serving's Classify/Regress need when --enable_signature_method_name_check is on."""
    pb = pathlib.Path(saved_model_dir) / "saved_model.pb"
    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString(pb.read_bytes())
    found = False
    for meta_graph in proto.meta_graphs:
        if signature in meta_graph.signature_def:
            meta_graph.signature_def[signature].method_name = method_name
            found = True
    if not found:
        raise KeyError(f"signature {signature!r} not found in {pb}")
    pb.write_bytes(proto.SerializeToString())


def check_method(signature: Signature, expected: str, api: str, enabled: bool) -> None:
    """With --enable_signature_method_name_check (`enabled`), refuse a signature exported for
    another API; `api` names the expected one in the message ("prediction", "classification")."""
    if enabled and signature.method_name != expected:
        raise errors.invalid_argument(
            f"Expected {api} signature method_name to be {expected}. Was: {signature.method_name}")


def examples_from_input(input_proto) -> List[bytes]:
    """tensorflow.serving.Input -> serialized tf.Examples (context merged into each, as TF Serving
    does for ExampleListWithContext)."""
    kind = input_proto.WhichOneof("kind")
    if kind == "example_list":
        return [e.SerializeToString() for e in input_proto.example_list.examples]
    if kind == "example_list_with_context":
        ctx = input_proto.example_list_with_context.context
        serialized = []
        for e in input_proto.example_list_with_context.examples:
            merged = example_pb2.Example()
            merged.CopyFrom(ctx)
            merged.MergeFrom(e)
            serialized.append(merged.SerializeToString())
        return serialized
    raise errors.invalid_argument("Input is empty.")


def _single_string_input(signature: Signature) -> str:
    if len(signature.inputs) != 1:
        raise errors.invalid_argument("Expected one input Tensor.")
    key, spec = next(iter(signature.inputs.items()))
    if spec.dtype != tf.string:
        raise errors.invalid_argument(
            f"Signature '{signature.name}' input '{key}' must be a string tensor of serialized "
            f"tf.Examples to be used by Classify/Regress, got {dtype_name(spec.dtype)}")
    return key


def classify_inputs(signature: Signature, input_proto) -> Dict[str, np.ndarray]:
    """The feed for a Classify request, after TF Serving's checks that the signature can classify
    (one string input; a `classes` or `scores` output) and that there are examples."""
    key = _single_string_input(signature)
    if not ({"classes", "scores"} & set(signature.outputs)):
        raise errors.invalid_argument(
            'Expected classification signature outputs to contain at least one of "classes" or '
            '"scores"')
    examples = examples_from_input(input_proto)
    if not examples:
        raise errors.invalid_argument("Input is empty.")
    return {key: _tensor_from_list(examples, tf.string)}


def classification_result(outputs: Dict[str, np.ndarray], n: int):
    """The `n` examples' classes and scores as a ClassificationResult; outputs that are not
    [n, num_classes] are refused with TF Serving's message."""
    classes, scores = outputs.get("classes"), outputs.get("scores")
    result = classification_pb2.ClassificationResult()
    for array, what in ((classes, "classes"), (scores, "scores")):
        if array is not None and (array.ndim != 2 or array.shape[0] != n):
            raise errors.invalid_argument(
                f"Expected {what} output shape [{n}, num_classes], got {_shape_str(array.shape)}")
    width = (classes if classes is not None else scores).shape[1]
    for i in range(n):
        row = result.classifications.add()
        for j in range(width):
            cls = row.classes.add()
            if classes is not None:
                cls.label = classes[i, j].decode("utf-8", "replace") if isinstance(
                    classes[i, j], bytes) else str(classes[i, j])
            if scores is not None:
                cls.score = float(scores[i, j])
    return result


def regress_inputs(signature: Signature, input_proto) -> Dict[str, np.ndarray]:
    """The feed for a Regress request, after TF Serving's checks that the signature can regress
    (one string input; an `outputs` output) and that there are examples."""
    key = _single_string_input(signature)
    if "outputs" not in signature.outputs:
        raise errors.invalid_argument("No regression outputs found in signature.")
    examples = examples_from_input(input_proto)
    if not examples:
        raise errors.invalid_argument("Input is empty.")
    return {key: _tensor_from_list(examples, tf.string)}


def regression_result(outputs: Dict[str, np.ndarray], n: int):
    """One value per example as a RegressionResult; `outputs` must be [n] or [n, 1]."""
    values = outputs["outputs"]
    if values.shape[0] != n or values.size != n:
        raise errors.invalid_argument(
            f"Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got "
            f"{_shape_str(values.shape)}")
    result = regression_pb2.RegressionResult()
    for v in values.reshape(-1):
        result.regressions.add().value = float(v)
    return result
