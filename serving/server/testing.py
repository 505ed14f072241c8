"""Tiny SavedModels with the pipeline's signature shapes, for tests and the benchmark stand-in,
and what both need to see which front end answered a request.

`census_like` mirrors the census export: `serving_default` takes serialized tf.Examples (string
[-1]) -> {"probabilities": float [-1, 1]}, `serving_raw` takes named raw features; it also carries
`classify` and `regress` signatures whose method_name is set to TF Serving's classify/regress
(see signature.set_method_name), the way a TF2 model exposes Classify/Regress.
"""
import pathlib
import re
import time
import urllib.request

import tensorflow as tf

from serving.server.signature import CLASSIFY_METHOD, PREDICT_METHOD, REGRESS_METHOD, set_method_name

NUMERIC = ("age", "hours_per_week")
CATEGORICAL = ("workclass", "sex")
FEATURE_SPEC = {**{k: tf.io.FixedLenFeature([], tf.int64, default_value=0) for k in NUMERIC},
                **{k: tf.io.FixedLenFeature([], tf.string, default_value="") for k in CATEGORICAL}}
SAMPLE_ROW = {"age": 39, "hours_per_week": 40, "workclass": "State-gov", "sex": "Male"}


class _Affine(tf.Module):
    """y = x * scale: a two-input-column float model for shape/dtype/version tests."""

    def __init__(self, scale: float):
        super().__init__()
        self.scale = tf.Variable(scale)

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
    def serve(self, x):
        return {"y": x * self.scale}


def build_affine(path: pathlib.Path, scale: float) -> pathlib.Path:
    """y = x * scale over float [-1, 2]; versions with different scales tell in a test which
    version answered."""
    module = _Affine(scale)
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    return path


class _CensusLike(tf.Module):
    def __init__(self, bias: float, hidden: int = 0):
        super().__init__()
        self.bias = tf.Variable(bias)
        self.weights = tf.Variable([0.03, 0.02, 0.4, 0.3])
        self.hidden = None
        if hidden:
            init = tf.random.stateless_normal([4, hidden], seed=[1, 2]) * 0.1
            self.hidden = (tf.Variable(init), tf.Variable(tf.ones([hidden, 1]) * 0.1))

    def _logit(self, features):
        x = tf.stack([tf.cast(features["age"], tf.float32) / 10.0,
                      tf.cast(features["hours_per_week"], tf.float32) / 10.0,
                      tf.cast(tf.strings.length(features["workclass"]) > 5, tf.float32),
                      tf.cast(tf.equal(features["sex"], "Male"), tf.float32)], axis=1)
        logit = tf.reduce_sum(x * self.weights, axis=1, keepdims=True) - 2.0 + self.bias
        if self.hidden is not None:
            logit += tf.matmul(tf.nn.relu(tf.matmul(x, self.hidden[0])), self.hidden[1])
        return logit

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(self, examples):
        return {"probabilities": tf.sigmoid(self._logit(tf.io.parse_example(examples,
                                                                            FEATURE_SPEC)))}

    @tf.function(input_signature=[{
        **{k: tf.TensorSpec([None], tf.int64, name=k) for k in NUMERIC},
        **{k: tf.TensorSpec([None], tf.string, name=k) for k in CATEGORICAL}}])
    def serve_raw(self, raw):
        return {"probabilities": tf.sigmoid(self._logit(raw))}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
    def classify(self, inputs):
        p = tf.sigmoid(self._logit(tf.io.parse_example(inputs, FEATURE_SPEC)))
        n = tf.shape(p)[0]
        return {"classes": tf.tile(tf.constant([["<=50K", ">50K"]]), [n, 1]),
                "scores": tf.concat([1.0 - p, p], axis=1)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
    def regress(self, inputs):
        return {"outputs": tf.squeeze(self._logit(tf.io.parse_example(inputs, FEATURE_SPEC)), 1)}


def build_census_like(path: pathlib.Path, bias: float = 0.0, hidden: int = 0) -> pathlib.Path:
    """The census export's signatures (see the module docstring); `bias` shifts the predictions
    so versions differ, `hidden` adds a layer of that width to make calls costlier."""
    module = _CensusLike(bias, hidden)
    tf.saved_model.save(module, str(path), signatures={
        "serving_default": module.serve_examples, "serving_raw": module.serve_raw,
        "classify": module.classify, "regress": module.regress})
    set_method_name(path, "classify", CLASSIFY_METHOD)
    set_method_name(path, "regress", REGRESS_METHOD)
    return path


def example(row=None) -> bytes:
    """A serialized tf.Example for the census-like model."""
    from serving.server.examples import example_bytes
    return example_bytes(dict(SAMPLE_ROW if row is None else row))


def build_tf1_half_plus_two(path: pathlib.Path) -> pathlib.Path:
    """A TF1 graph SavedModel in the style of TF Serving's own test model half_plus_two, written
    with tf.compat.v1.saved_model.Builder: y = 0.5 * x + 2.

    Its TensorInfo is imprecise on purpose, as real TF1 exports often are: `serving_default`
    declares x as [-1, 1] over a placeholder of unknown shape, and the classify/regress signatures
    declare their serialized tf.Example input as a scalar `()` (the regress one even as float,
    while its placeholder is a string vector).
    """
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as session:
        a = v1.Variable(0.5, name="a")
        b = v1.Variable(2.0, name="b")
        x = v1.placeholder(tf.float32, name="x")
        y = tf.add(a * x, b, name="y")
        serialized = v1.placeholder(tf.string, shape=[None], name="tf_example")
        parsed = v1.io.parse_example(serialized, {"x": v1.io.FixedLenFeature([1], tf.float32)})
        y_from_example = tf.add(a * parsed["x"], b, name="y_from_example")
        session.run(v1.global_variables_initializer())

        def info(tensor, shape, dtype=None):
            result = v1.saved_model.build_tensor_info(tensor)
            result.tensor_shape.Clear()
            result.tensor_shape.SetInParent()
            for size in shape:
                result.tensor_shape.dim.add().size = size
            if dtype is not None:
                result.dtype = dtype.as_datatype_enum
            return result

        build = v1.saved_model.signature_def_utils.build_signature_def
        signatures = {
            "serving_default": build({"x": info(x, [-1, 1])}, {"y": info(y, [-1, 1])},
                                     PREDICT_METHOD),
            "regress_x_to_y": build({"inputs": info(serialized, [], tf.float32)},
                                    {"outputs": info(y_from_example, [-1, 1])}, REGRESS_METHOD),
            "classify_x_to_y": build({"inputs": info(serialized, [])},
                                     {"scores": info(y_from_example, [-1, 1])}, CLASSIFY_METHOD),
        }
        builder = v1.saved_model.Builder(str(path))
        builder.add_meta_graph_and_variables(session, ["serve"], signature_def_map=signatures)
        builder.save()
    return path


class _Square(tf.Module):
    """A TF2 tf.Module: y = x * x + bias over float vectors."""

    def __init__(self):
        super().__init__()
        self.bias = tf.Variable(1.0)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    def serve(self, x):
        return {"y": x * x + self.bias}


# Placeholder shapes of build_tf1_declared_shapes: signature name -> declared shape (None: unknown
# rank). Each computes y = 0.5 * x + 2 elementwise, so every shape TF's kernels accept answers.
DECLARED_SHAPES = {"column": [None, 1], "vector": [None], "two_rows": [2, None], "any_rank": None}


def build_tf1_declared_shapes(path: pathlib.Path) -> pathlib.Path:
    """A TF1 graph SavedModel (tf.compat.v1 Builder, as TF Serving's half_plus_two) whose
    placeholders declare the shapes in DECLARED_SHAPES, each its own predict signature with
    precise TensorInfo; `matrix` (x [None, 1] -> matmul(x, [[2]])) lets the MatMul kernel refuse
    what is not a matrix; `classify` and `regress` take serialized tf.Examples through a
    placeholder declared [1] (an export for one example at a time) and answer 0.5 * x + 2."""
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as session:
        half = v1.Variable(0.5, name="half")
        session.run(v1.global_variables_initializer())
        build = v1.saved_model.signature_def_utils.build_signature_def
        info = v1.saved_model.build_tensor_info
        signatures = {}
        for name, shape in DECLARED_SHAPES.items():
            x = v1.placeholder(tf.float32, shape=shape, name=f"x_{name}")
            y = tf.add(half * x, 2.0, name=f"y_{name}")
            signatures[name] = build({"x": info(x)}, {"y": info(y)}, PREDICT_METHOD)
        x = v1.placeholder(tf.float32, shape=[None, 1], name="x_matrix")
        signatures["matrix"] = build({"x": info(x)}, {"y": info(tf.matmul(x, [[2.0]]))},
                                     PREDICT_METHOD)
        serialized = v1.placeholder(tf.string, shape=[1], name="tf_example")
        parsed = v1.io.parse_example(serialized, {"x": v1.io.FixedLenFeature([1], tf.float32)})
        scores = tf.add(half * parsed["x"], 2.0, name="y_from_example")
        signatures["classify"] = build({"inputs": info(serialized)}, {"scores": info(scores)},
                                       CLASSIFY_METHOD)
        signatures["regress"] = build({"inputs": info(serialized)}, {"outputs": info(scores)},
                                      REGRESS_METHOD)
        builder = v1.saved_model.Builder(str(path))
        builder.add_meta_graph_and_variables(session, ["serve"], signature_def_map=signatures)
        builder.save()
    return path


def build_tf2_module(path: pathlib.Path) -> pathlib.Path:
    """A plain TF2 tf.Module export (y = x * x + 1 over float vectors), a model this project did
    not train."""
    module = _Square()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    return path


def build_keras_sequential(path: pathlib.Path) -> pathlib.Path:
    """A Keras Sequential model saved by tf.saved_model.save: output = sum(features) + 0.5."""
    keras = tf.keras
    model = keras.Sequential([
        keras.Input(shape=(3,), name="features"),
        keras.layers.Dense(1, name="total", kernel_initializer="ones",
                           bias_initializer=keras.initializers.Constant(0.5)),
    ])
    tf.saved_model.save(model, str(path))
    return path


def native_predicts(rest_address: str) -> float:
    """Predicts the native gRPC front end answered itself so far, every model and version (its
    counter on the server's Prometheus page, which must be enabled)."""
    with urllib.request.urlopen(f"http://{rest_address}/monitoring/prometheus/metrics",
                                timeout=30) as page:
        text = page.read().decode()
    return sum(float(v) for v in re.findall(r"^tfxp_serving_native_requests_total\{.*\} (\S+)$",
                                            text, re.MULTILINE))


def first_native_answer(stub, rest_address: str, request, timeout: float = 120.0):
    """(response, seconds) of the first `request` the native front end answers itself. It loads
    its sessions after the Python server reports a version AVAILABLE, which may not have happened
    yet either: until then the Python server answers, or says NOT_FOUND."""
    import grpc

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = native_predicts(rest_address)
        started = time.perf_counter()
        try:
            response = stub.Predict(request, timeout=30)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                raise
            response = None
        elapsed = time.perf_counter() - started
        if response is not None and native_predicts(rest_address) > before:
            return response, elapsed
        time.sleep(0.2)
    raise TimeoutError(f"the native front end answered no Predict within {timeout:.0f} s")
