"""`--grpc_frontend=native` answers every gRPC request exactly as the Python front end does.

The same requests, well-formed and hostile, go to two servers on the same models (the conformance
tree: models this project did not train, TF1 graphs with imprecise or declared shapes, a
tf.Module, Keras): the Python front end and the native one (Go over TensorFlow's C API). Every
response or error (code and message) must be identical. The well-formed ones must have been
answered by the native path itself (its counter), the others handed to the Python server. Then
batching under concurrent clients, versions appearing and retiring, metrics and TLS.
"""
import concurrent.futures
import pathlib
import re
import time
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from serving.config.testing import tls_materials, write_ssl_config
from serving.server import testing
from serving.server.process import ServerProcess
from serving.server.testing import DECLARED_SHAPES
from tests.serving.helpers import http, local_server, stubs

pytestmark = pytest.mark.local_only
NATIVE = "--grpc_frontend=native"


def _request(model, inputs, signature="", version=None, label=None, output_filter=()):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    if signature:
        request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = version
    if label is not None:
        request.model_spec.version_label = label
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(value if isinstance(value, type(request.inputs[key]))
                                     else tf.make_tensor_proto(value))
    request.output_filter.extend(output_filter)
    return request


def _typed_floats(values, shape):
    """A float tensor in float_val (clients other than tf.make_tensor_proto send these)."""
    proto = tf.make_tensor_proto(np.zeros((), np.float32))
    proto.ClearField("float_val")
    for size in shape:
        proto.tensor_shape.dim.add().size = size
    proto.float_val.extend(values)
    return proto


def _examples(n):
    return np.array([testing.example({**testing.SAMPLE_ROW, "age": 20 + 7 * i})
                     for i in range(n)], dtype=object)


def _raw_census(n):
    return {"age": np.arange(30, 30 + n, dtype=np.int64),
            "hours_per_week": np.full(n, 40, np.int64),
            "workclass": np.array([b"Private", b"State-gov"] * n, dtype=object)[:n],
            "sex": np.array([b"Male"] * n, dtype=object)}


def _value(shape):
    return (np.arange(int(np.prod(shape)), dtype=np.float32) + 1).reshape(shape)


# (case, request): requests the native path must answer itself
ANSWERED = [
    ("census one example", _request("census", {"examples": _examples(1)})),
    ("census three examples", _request("census", {"examples": _examples(3)})),
    ("census raw features", _request("census", _raw_census(4), signature="serving_raw")),
    ("census classify signature, string outputs", _request("census", {"inputs": _examples(2)},
                                                           signature="classify")),
    ("census output filter", _request("census", {"inputs": _examples(2)}, signature="classify",
                                      output_filter=["scores"])),
    ("half latest is version 2", _request("half", {"x": _value((2, 2))})),
    ("half version 1", _request("half", {"x": _value((1, 2))}, version=1)),
    ("half label stable", _request("half", {"x": _value((3, 2))}, label="stable")),
    ("half label canary", _request("half", {"x": _value((3, 2))}, label="canary")),
    ("half float_val", _request("half", {"x": _typed_floats([1.5, -2, 3, 4], (2, 2))})),
    ("tf1 half_plus_two fed [3] against TensorInfo [-1, 1]",
     _request("tf1_half", {"x": _value((3,))})),
    ("tf1 half_plus_two fed a scalar", _request("tf1_half", {"x": np.float32(4)})),
    ("tf.Module", _request("tf2_square", {"x": _value((5,))})),
    ("a TF2 function fed another inner shape than it declares (the kernels decide)",
     _request("half", {"x": _value((2, 3))})),
    ("keras sequential", _request("keras_sum", {"features": _value((2, 3))})),
] + [(f"tf1 placeholder {declared} fed {list(shape)}",
      _request("tf1_shapes", {"x": _value(shape)}, signature=name))
     for name, declared in DECLARED_SHAPES.items()
     for shape in [(), (3,), (1,), (2, 1), (1, 3), (2, 2, 1)]]

_bad_content = tf.make_tensor_proto(_value((2, 2)))
_bad_content.tensor_content = _bad_content.tensor_content[:-4]
_short_list = _typed_floats([1.0], (2, 2))
_negative = tf.make_tensor_proto(_value((2, 2)))
_negative.tensor_shape.dim[0].size = -1
_huge = _typed_floats([1.0], (1 << 20, 1 << 20))
# (case, request): requests the native path must hand to the Python server
HANDED_OVER = [
    ("no model name", _request("", {"x": _value((1, 2))})),
    ("unknown model", _request("absent", {"x": _value((1, 2))})),
    ("unknown version", _request("half", {"x": _value((1, 2))}, version=9)),
    ("unknown label", _request("half", {"x": _value((1, 2))}, label="beta")),
    ("unknown signature", _request("half", {"x": _value((1, 2))}, signature="nope")),
    ("missing input", _request("census", {}, signature="serving_raw")),
    ("an input alias the signature lacks", _request("keras_sum", {"inputs": _value((1, 3))})),
    ("extra input", _request("half", {"x": _value((1, 2)), "z": _value((1, 2))})),
    ("wrong dtype", _request("half", {"x": np.array([[1, 2]], np.int32)})),
    ("string for float", _request("half", {"x": np.array([b"1"], dtype=object)})),
    ("tensor_content of the wrong length", _request("half", {"x": _bad_content})),
    ("one value for four elements (TensorFlow fills)", _request("half", {"x": _short_list})),
    ("negative dimension", _request("half", {"x": _negative})),
    ("a tiny proto declaring a huge tensor", _request("half", {"x": _huge})),
    ("no rows", _request("half", {"x": np.zeros((0, 2), np.float32)})),
    ("unknown output alias", _request("half", {"x": _value((1, 2))}, output_filter=["nope"])),
    ("the kernel refuses the shape", _request("tf1_shapes", {"x": _value((3,))},
                                              signature="matrix")),
    ("a version that failed to load", _request("broken", {"x": _value((1, 2))}, version=2)),
]


def _outcome(stub, request):
    try:
        return ("ok", stub.Predict(request, timeout=30).SerializeToString(deterministic=True))
    except grpc.RpcError as e:
        return ("error", e.code(), e.details())


def _native_count(server) -> float:
    """Predicts the native front end answered itself so far (every model and version)."""
    return testing.native_predicts(server.rest)


def _wait_native(server, request, timeout=120.0):
    """Until the native path answers `request` itself; its response."""
    return testing.first_native_answer(stubs(server)[0], server.rest, request, timeout)[0]


@pytest.fixture(scope="module")
def native(model_tree):
    srv = local_server(model_tree, "--rest_api_max_body_bytes=200000", NATIVE)
    for _, request in ANSWERED:
        _wait_native(srv, request)
    yield srv
    srv.stop()


@pytest.mark.parametrize("case, request_", ANSWERED, ids=[c for c, _ in ANSWERED])
def test_the_native_path_answers_as_the_python_server_does(server, native, case, request_):
    before = _native_count(native)
    expected, got = _outcome(stubs(server)[0], request_), _outcome(stubs(native)[0], request_)
    assert got == expected and got[0] == "ok"
    assert _native_count(native) == before + 1, "answered by the Python server, not natively"


@pytest.mark.parametrize("case, request_", HANDED_OVER, ids=[c for c, _ in HANDED_OVER])
def test_what_the_native_path_cannot_answer_gets_the_python_servers_answer(
        server, native, case, request_):
    before = _native_count(native)
    expected, got = _outcome(stubs(server)[0], request_), _outcome(stubs(native)[0], request_)
    assert got == expected
    assert _native_count(native) == before, "the native path answered it itself"


def test_other_apis_and_metadata_reach_the_python_server_unchanged(server, native):
    from tensorflow_serving.apis import get_model_status_pb2, get_model_metadata_pb2
    status = get_model_status_pb2.GetModelStatusRequest()
    status.model_spec.name = "half"
    metadata = get_model_metadata_pb2.GetModelMetadataRequest()
    metadata.model_spec.name = "tf1_half"
    metadata.metadata_field.append("signature_def")
    for call, request in ((lambda s: s[1].GetModelStatus, status),
                          (lambda s: s[0].GetModelMetadata, metadata)):
        assert call(stubs(native))(request, timeout=30) == call(stubs(server))(request, timeout=30)


def test_batched_concurrent_clients_each_get_their_own_rows(model_tree, tmp_path):
    """16 clients at once through the native scheduler (max 16 rows, 5 ms): every client gets
    exactly its own rows back, and batches of more than one request ran."""
    config = tmp_path / "batching.config"
    config.write_text("max_batch_size { value: 16 } batch_timeout_micros { value: 5000 } "
                      "num_batch_threads { value: 1 } max_enqueued_batches { value: 64 }")
    srv = local_server(model_tree, NATIVE, "--enable_batching=true",
                       f"--batching_parameters_file={config}")
    try:
        _wait_native(srv, _request("half", {"x": _value((1, 2))}))
        channel = grpc.insecure_channel(srv.grpc)
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        before = _native_count(srv)

        def client(i):
            answers = []
            for j in range(20):
                x = np.array([[i, j]], np.float32) + np.float32(0.25)
                response = stub.Predict(_request("half", {"x": x}), timeout=30)
                answers.append(tf.make_ndarray(response.outputs["y"]).tolist() ==
                               (x * 3).tolist())
            return answers
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = [a for answers in pool.map(client, range(16)) for a in answers]
        assert all(results) and len(results) == 320
        assert _native_count(srv) == before + 320
        with urllib.request.urlopen(f"http://{srv.rest}/monitoring/prometheus/metrics",
                                    timeout=30) as response:
            text = response.read().decode()
        batches = float(re.search(r"^tfxp_serving_batch_size_count (\S+)$", text, re.M).group(1))
        rows = float(re.search(r"^tfxp_serving_batch_size_sum (\S+)$", text, re.M).group(1))
        assert rows >= 320 and batches < rows, (batches, rows)
        channel.close()
    finally:
        srv.stop()


def test_a_new_version_is_answered_natively_and_a_retired_one_no_longer(tmp_path):
    base = tmp_path / "half"
    testing.build_affine(base / "1", 2.0)
    srv = ServerProcess([f"--model_base_path={base}", "--model_name=half", NATIVE,
                         "--file_system_poll_wait_seconds=1",
                         f"--monitoring_config_file={_monitoring(tmp_path)}"])
    try:
        srv.wait_ready(["half"], timeout=120)
        one = _request("half", {"x": _value((1, 2))})
        _wait_native(srv, one)
        testing.build_affine(base / "2", 3.0)
        _wait_native(srv, _request("half", {"x": _value((1, 2))}, version=2))
        stub = stubs(srv)[0]
        assert tf.make_ndarray(stub.Predict(one, timeout=30).outputs["y"]).tolist() == [[3, 6]]
        retired = _request("half", {"x": _value((1, 2))}, version=1)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                stub.Predict(retired, timeout=30)
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.NOT_FOUND
                break
            time.sleep(0.2)
        else:
            raise AssertionError("version 1 was still answered a minute after version 2 loaded")
    finally:
        srv.stop()


def test_tf_serving_metric_families_count_native_predicts(server, native):
    def count(srv):
        with urllib.request.urlopen(f"http://{srv.rest}/monitoring/prometheus/metrics",
                                    timeout=30) as response:
            text = response.read().decode()
        found = re.search(r'^:tensorflow:serving:request_count\{model_name="keras_sum",'
                          r'status="OK"\} (\S+)$', text, re.M)
        return float(found.group(1)) if found else 0.0
    before = count(native)
    request = _request("keras_sum", {"features": _value((1, 3))})
    for _ in range(5):
        stubs(native)[0].Predict(request, timeout=30)
    assert count(native) == before + 5


def test_sessions_that_run_their_ops_in_the_calling_thread_answer_on_both_paths(tmp_path):
    """serving/README's tuning for a small machine: TensorFlow's flags as tensorflow_model_server
    passes them (a negative inter-op count: a session runs its ops in the calling thread), and
    Go on one core. On a TF1 graph (a session on both paths), the native path must load its
    session with that ConfigProto and answer itself, and the Python path must answer REST."""
    version = _build_call_counter(tmp_path / "counter" / "1")
    srv = ServerProcess([f"--model_base_path={version.parent}", "--model_name=counter", NATIVE,
                         "--tensorflow_intra_op_parallelism=1",
                         "--tensorflow_inter_op_parallelism=-1",
                         f"--monitoring_config_file={_monitoring(tmp_path)}"],
                        extra_env={"GOMAXPROCS": "1"})
    try:
        srv.wait_ready(["counter"], timeout=120)
        first = _wait_native(srv, _request("counter", {"x": _value((2, 1))}), timeout=60)
        assert tf.make_ndarray(first.outputs["y"]).tolist() == [[1], [1]]
        status, body = http(srv, "POST", "/v1/models/counter:predict",
                            {"instances": [[1.0], [2.0]]})
        assert status == 200 and len(body["predictions"]) == 2, body
        assert body["predictions"][0] == body["predictions"][1] >= [1], body
    finally:
        srv.stop()


def _monitoring(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "monitoring.config"
    path.write_text('prometheus_config { enable: true path: "/monitoring/prometheus/metrics" }')
    return path


def test_mutual_tls_on_the_native_front_end_admits_only_certified_clients(tmp_path):
    pki = tls_materials()
    config = write_ssl_config(tmp_path / "ssl.config", pki, client_verify=True)
    models = tmp_path / "models" / "half"
    testing.build_affine(models / "1", 2.0)
    srv = ServerProcess([f"--model_base_path={models}", "--model_name=half", NATIVE,
                         f"--ssl_config_file={config}", "--file_system_poll_wait_seconds=0"])
    try:
        srv.wait_ready(["half"], timeout=120)
        request = _request("half", {"x": _value((1, 2))})

        def predict(**pair):
            credentials = grpc.ssl_channel_credentials(root_certificates=pki["ca"].encode(),
                                                       **pair)
            with grpc.secure_channel(srv.grpc, credentials) as channel:
                try:
                    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
                    return tf.make_ndarray(stub.Predict(request, timeout=20).outputs["y"]).tolist()
                except grpc.RpcError as e:
                    return e.code()
        client = {"private_key": pki["client_key"].encode(),
                  "certificate_chain": pki["client_cert"].encode()}
        stranger = {"private_key": pki["stranger_key"].encode(),
                    "certificate_chain": pki["stranger_cert"].encode()}
        assert predict(**client) == [[2.0, 4.0]]
        assert predict() == grpc.StatusCode.UNAVAILABLE
        assert predict(**stranger) == grpc.StatusCode.UNAVAILABLE
        with grpc.insecure_channel(srv.grpc) as channel:
            with pytest.raises(grpc.RpcError) as refused:
                prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request,
                                                                                   timeout=20)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "(TLS, client certificates required) (native front end)" in srv.log()
    finally:
        srv.stop()


def test_without_go_the_native_front_end_refuses_to_start_naming_what_is_missing(
        tmp_path, monkeypatch):
    """A machine whose PATH has no Go: the build stops before writing anything."""
    from serving.server.native import build
    monkeypatch.setattr(build, "TOOLS_CACHE", tmp_path / "empty-cache")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(build.NativeBuildError, match="go is not installed: the native gRPC "
                                                     "front end needs Go 1.26"):
        build.library()
    assert not (tmp_path / "empty-cache").exists()


def test_logged_models_and_refused_method_names_stay_with_the_python_server(tmp_path):
    """A model with request logging is answered by the Python server (so every request is
    logged); with --enable_signature_method_name_check a classify signature is refused through
    Predict, in the Python server's words, while the predict signature is answered natively."""
    from serving.server.request_log import read_prediction_logs
    testing.build_affine(tmp_path / "half" / "1", 2.0)
    testing.build_census_like(tmp_path / "census" / "1")
    prefix = tmp_path / "logs" / "half"
    config = tmp_path / "models.config"
    config.write_text(
        f'model_config_list {{ config {{ name: "half" base_path: "{tmp_path / "half"}" '
        'model_platform: "tensorflow" logging_config { sampling_config { sampling_rate: 1.0 } '
        f'log_collector_config {{ filename_prefix: "{prefix}" }} }} }} '
        f'config {{ name: "census" base_path: "{tmp_path / "census"}" '
        'model_platform: "tensorflow" } }\n')
    srv = ServerProcess([f"--model_config_file={config}", NATIVE,
                         "--enable_signature_method_name_check=true",
                         f"--monitoring_config_file={_monitoring(tmp_path)}"])
    try:
        srv.wait_ready(["half", "census"], timeout=120)
        _wait_native(srv, _request("census", {"examples": _examples(1)}))
        stub = stubs(srv)[0]
        before = _native_count(srv)
        for _ in range(5):
            stub.Predict(_request("half", {"x": _value((1, 2))}), timeout=30)
        with pytest.raises(grpc.RpcError) as refused:
            stub.Predict(_request("census", {"inputs": _examples(1)}, signature="classify"),
                         timeout=30)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "tensorflow/serving/predict" in refused.value.details()
        assert _native_count(srv) == before
    finally:
        srv.stop()
    assert sum(1 for _ in read_prediction_logs(prefix)) == 5


def test_a_taken_port_stops_start_up_naming_the_address(tmp_path):
    import socket

    from serving.server.process import ServerProcessError
    testing.build_affine(tmp_path / "half" / "1", 2.0)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        srv = ServerProcess([f"--model_base_path={tmp_path / 'half'}", "--model_name=half",
                             NATIVE], grpc_port=port)
        try:
            with pytest.raises(ServerProcessError):
                srv.wait_ready(["half"], timeout=120)
            assert f"--grpc_frontend=native: could not bind gRPC address 127.0.0.1:{port}" in (
                srv.log())
        finally:
            srv.stop()


def _build_call_counter(path: pathlib.Path) -> pathlib.Path:
    """A TF1 graph whose every run adds one to a variable and answers the new count for each
    row, so a session's first answer tells how many runs it had before (its warmup). Its
    `halves` signature counts too, but takes float16, which only the Python path runs."""
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as session:
        calls = v1.get_variable("calls", initializer=0.0, use_resource=True)
        x = v1.placeholder(tf.float32, shape=[None, 1], name="x")
        y = tf.identity(x * 0.0 + calls.assign_add(1.0), name="y")
        half = v1.placeholder(tf.float16, shape=[None, 1], name="half")
        counted = tf.identity(tf.cast(half, tf.float32) * 0.0 + calls.assign_add(1.0),
                              name="counted")
        session.run(v1.global_variables_initializer())
        signatures = {
            "serving_default": v1.saved_model.predict_signature_def({"x": x}, {"y": y}),
            "halves": v1.saved_model.predict_signature_def({"x": half}, {"y": counted})}
        builder = v1.saved_model.Builder(str(path))
        builder.add_meta_graph_and_variables(session, ["serve"], signature_def_map=signatures)
        builder.save()
    return path


@pytest.mark.parametrize("warmup_flag,runs_before", [("true", 3 * 2), ("false", 0)])
def test_the_native_path_replays_the_warmup_requests_before_it_answers(
        tmp_path, warmup_flag, runs_before):
    """Each predict_log record of assets.extra/tf_serving_warmup_requests runs on the native
    session --num_request_iterations_for_warmup times before that session answers (so its first
    answers are not cold), and not at all under --enable_model_warmup=false."""
    from serving.server.warmup import predict_log, write_warmup_file
    version = _build_call_counter(tmp_path / "counter" / "1")
    write_warmup_file(version, [predict_log(_request("counter", {"x": _value((rows, 1))}))
                                for rows in (1, 2, 4)])
    srv = ServerProcess([f"--model_base_path={version.parent}", "--model_name=counter", NATIVE,
                         f"--enable_model_warmup={warmup_flag}",
                         "--num_request_iterations_for_warmup=2",
                         f"--monitoring_config_file={_monitoring(tmp_path)}"])
    try:
        srv.wait_ready(["counter"], timeout=120)
        first = _wait_native(srv, _request("counter", {"x": _value((1, 1))}))
        assert tf.make_ndarray(first.outputs["y"]).tolist() == [[runs_before + 1]]
        replayed = f"native front end: {version}: 3 warmup requests replayed"
        assert (replayed in srv.log()) == (warmup_flag == "true"), srv.log()[-2000:]
    finally:
        srv.stop()


def test_warmup_records_the_native_path_does_not_run_are_skipped_there_not_fatal(tmp_path):
    """A warmup file may hold records for signatures only the Python path runs (here float16
    inputs): the Python path replays them all; the native session replays its own three and
    still answers the version, instead of leaving it to the Python path."""
    from serving.server.warmup import predict_log, write_warmup_file
    version = _build_call_counter(tmp_path / "counter" / "1")
    halves = _request("counter", {"x": _value((1, 1)).astype(np.float16)}, signature="halves")
    write_warmup_file(version, [
        predict_log(halves),
        *(predict_log(_request("counter", {"x": _value((rows, 1))})) for rows in (1, 2, 4)),
        predict_log(halves)])
    srv = ServerProcess([f"--model_base_path={version.parent}", "--model_name=counter", NATIVE,
                         f"--monitoring_config_file={_monitoring(tmp_path)}"])
    try:
        srv.wait_ready(["counter"], timeout=120)
        first = _wait_native(srv, _request("counter", {"x": _value((1, 1))}), timeout=60)
        assert tf.make_ndarray(first.outputs["y"]).tolist() == [[3 + 1]]
        assert f"native front end: {version}: 3 warmup requests replayed" in srv.log()
        assert tf.make_ndarray(stubs(srv)[0].Predict(halves, timeout=30).outputs["y"]) > 0
    finally:
        srv.stop()
