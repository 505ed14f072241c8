"""Serving benchmark: in-process signature call vs gRPC vs REST, and 16-client throughput with
batching off and on, measured side by side in one run against the local server.

`python -m bench.serving_bench [SAVED_MODEL_DIR]`; the default is the newest pushed census version
under serving/models/census. With no pushed version the benchmark stops and says so; `--stand-in`
measures a small model with the census signatures instead (named so in the output), whose figures
do not describe the real model. The in-process, gRPC and REST latencies are measured in
alternating chunks, so a load change on the shared machine hits all three alike. Servers run as
subprocesses, so client and server do not share a GIL; the 16
throughput clients run in separate processes (4 x 4 threads) sending pre-serialized requests, so the
figure is the server's rate, not the rate one Python client process can produce. Client and
server share the machine's cores, which the in-process figures do not pay for; the extra
`transport_floor` figures (a model-free RPC) show how much of the gap is Python gRPC itself.

`run_router` (`--router`, suite "router" of `make bench`) is a separate case: the canary router's
added latency, one-row predict through nginx vs straight to the serving group behind it.
"""
import argparse
import base64
import http.client
import json
import multiprocessing
import os
import pathlib
import shutil
import sys
import tempfile
import threading
import time
from typing import Dict, NamedTuple, Optional

from serving.rollout import router
from serving.server.process import ServerProcess, free_ports

REPO = pathlib.Path(__file__).resolve().parents[1]
CENSUS_ROOT = REPO / "serving" / "models" / "census"
CLIENTS = 16
CLIENT_PROCESSES = 4
IDLE_GAP_S = 0.0005
PREDICT_METHOD = "/tensorflow.serving.PredictionService/Predict"
STATUS_METHOD = "/tensorflow.serving.ModelService/GetModelStatus"
HEALTH_METHOD = "/grpc.health.v1.Health/Check"  # answered by the native front end itself
BATCHING = ("max_batch_size { value: 16 } batch_timeout_micros { value: 2000 } "
            "num_batch_threads { value: 1 } max_enqueued_batches { value: 64 }")
# The native front end as serving/README's tuning section sizes it for a small machine: the
# session runs its ops in the calling thread on one intra-op thread (TensorFlow's ConfigProto
# through tensorflow_model_server's own flags), and Go schedules its goroutines on one core
NATIVE_TUNED_FLAGS = ("--tensorflow_intra_op_parallelism=1",
                      "--tensorflow_inter_op_parallelism=-1")
NATIVE_TUNED_ENV = {"GOMAXPROCS": "1"}
MEANING = {
    "in_process": "p50/p99 of one census row through the loaded SavedModel's public signature "
                  "call in this process (no server); the base of the latency ratios; measured "
                  "in chunks alternating with grpc and rest",
    "in_process_server_call": "extra: the same row through the server's own signature runner "
                              "(serving.server.signature.Signature.run) in this process, no transport",
    "in_process_server_call_after_idle": "extra: as in_process_server_call but after 0.5 ms idle "
                                         "before each call, as a served request arrives after "
                                         "its round trip (TF's threads and caches are cold)",
    "grpc": "p50/p99 of one-row Predict over gRPC (official stub, one client thread) to the "
            "local server (batching off)",
    "rest": "p50/p99 of one-row :predict over REST (keep-alive HTTP/1.1 connection) to the "
            "local server (batching off)",
    "transport_floor": "extra: p50 of GetModelStatus (no model run) over gRPC and of the model "
                       "status GET over REST; what the transport alone costs on this machine",
    "throughput_rps.in_process_batched_16": "rows/s of one in-process caller running 16-row "
                                            "batches back to back (no server); base of the "
                                            "throughput ratios",
    "throughput_rps.grpc_16_clients_*": "one-row Predict requests/s from 16 concurrent clients "
                                        "(4 processes x 4 threads) with server batching off/on",
    "throughput_rps.grpc_16_clients_no_model": "extra: GetModelStatus requests/s from the same 16 "
                                               "clients; the server's gRPC ceiling without a model",
    "native_first_call_ms": "extra: wall ms of the first one-row Predict the native front end "
                            "answers itself on a fresh server, with the version's warmup "
                            "records replayed (warmup_on) and without (warmup_off)",
    "grpc_native": "p50/p99 of one-row Predict over gRPC to the local server with "
                   "--grpc_frontend=native (Go over TensorFlow's C API; batching off)",
    "grpc_native_tuned": "the same against a native front end tuned for a small machine "
                         "(bench's NATIVE_TUNED_FLAGS and NATIVE_TUNED_ENV; batching off)",
    "throughput_rps.grpc_16_clients_native_*": "the same 16 clients against the native front "
                                               "end with batching on: Predict, and its no-model "
                                               "ceiling (grpc.health.v1 Health/Check, which it "
                                               "answers itself; GetModelStatus it hands to the "
                                               "Python server)",
    "throughput_rps.grpc_16_clients_native_tuned_*": "the same two windows against a native "
                                                     "front end tuned for this machine (bench's "
                                                     "NATIVE_TUNED_FLAGS and NATIVE_TUNED_ENV), "
                                                     "alternated with the default one",
    "throughput_rps.grpc_16_clients_native_tuned_half_plus_two_batching_on": (
        "extra: the same 16 clients and batching against the tuned native front end serving "
        "TF Serving's own test model half_plus_two (a TF1 graph, y = 0.5 * x + 2, built by "
        "serving.server.testing) instead of census, one float per request: what the front end "
        "reaches when the model costs next to nothing"),
    "client_cpu_us_per_request": "extra: the CPU the rest of the machine (the client "
                                 "processes) spent per request in the same windows",
    "server_cpu_us_per_request": "extra: the server process's CPU time (user + system, /proc) "
                                 "during each timed 16-client window over the requests it "
                                 "answered in it; the client processes' CPU is not in it",
    "server_cores": "extra: the same CPU time over the window's seconds: how many cores the "
                    "server kept busy. Near 1.0 while machine_busy_pct stays under 100, the "
                    "server is bound by Python's global interpreter lock, not by the machine",
    "machine_busy_pct": "extra: share of all CPUs busy (/proc/stat) during the same windows, "
                        "clients and server together",
    "request_logging": "gRPC Predict to two otherwise identical local servers, request logging off "
                       "and on at sampling_rate 1.0 (TFRecord PredictionLog files), latency in "
                       "alternating blocks and 16-client throughput alternated; slowdown in %",
    "ratios": "served figure / in-process figure, and batched gRPC / the no-model RPC ceiling "
              "(both from the same 16 client processes, alternated over two rounds); compare "
              "with targets",
    "limits": "extra: the best ratios a server could reach on this machine: transport floor plus "
              "the model call after idle (latency), the model-free RPC rate (throughput), and "
              "*_if_cpu_bound: the throughput ratio if CPU were the only limit (client + server "
              "CPU per request of the ceiling over that of the batched Predict); "
              "native_tuned_half_plus_two_*: the same ratios with half_plus_two served instead "
              "of census (the front end's own best), and the server CPU per request census "
              "adds over it (the model's share, which no front end removes)",
}
ROW = {"age": 39, "workclass": "State-gov", "fnlwgt": 77516, "education": "Bachelors",
       "education_num": 13, "marital_status": "Never-married", "occupation": "Adm-clerical",
       "relationship": "Not-in-family", "race": "White", "sex": "Male", "capital_gain": 2174,
       "capital_loss": 0, "hours_per_week": 40, "native_country": "United-States"}


def _percentiles(samples):
    samples = sorted(samples)
    return {"p50_ms": round(samples[len(samples) // 2] * 1000, 3),
            "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000, 3)}


def _start_server(model_dir: pathlib.Path, tmp: pathlib.Path, batching: bool,
                  request_logging: bool = False, frontend: str = "python", warmup: bool = True,
                  extra_flags=(), extra_env=None, batching_parameters: str = BATCHING):
    """The local server on `model_dir`; with `request_logging`, every request is logged
    (logging_config with sampling_rate 1.0 in a model config file); `frontend` is its
    --grpc_frontend; `warmup` its --enable_model_warmup; `extra_flags` and `extra_env` are
    added as given; `batching_parameters` is the text of its batching parameters file."""
    kind = "logged" if request_logging else ("batched" if batching else "plain")
    kind = f"{frontend}-{kind}" + ("" if warmup else "-no-warmup")
    kind += "".join(f"-{flag.lstrip('-').replace('=', '-')}" for flag in extra_flags)
    base = tmp / kind / "census"
    base.mkdir(parents=True)
    os.symlink(model_dir, base / "1")
    grpc_port, rest_port = free_ports(2)
    monitoring = tmp / kind / "monitoring.config"
    monitoring.write_text(
        'prometheus_config { enable: true path: "/monitoring/prometheus/metrics" }')
    flags = ["--file_system_poll_wait_seconds=0", f"--grpc_frontend={frontend}",
             f"--enable_model_warmup={str(warmup).lower()}",
             f"--monitoring_config_file={monitoring}"]
    if request_logging:
        config = tmp / kind / "models.config"
        prefix = tmp / kind / "logs" / "census"
        config.write_text(
            f'model_config_list {{ config {{ name: "census" base_path: "{base}" '
            'model_platform: "tensorflow" logging_config { sampling_config { sampling_rate: 1.0 } '
            f'log_collector_config {{ filename_prefix: "{prefix}" }} }} }} }}\n')
        flags += [f"--model_config_file={config}"]
    else:
        flags += ["--model_name=census", f"--model_base_path={base}"]
    if batching:
        config = tmp / kind / "batching.config"
        config.write_text(batching_parameters)
        flags += ["--enable_batching=true", f"--batching_parameters_file={config}"]
    flags += list(extra_flags)
    server = ServerProcess(flags, grpc_port=grpc_port, rest_port=rest_port, extra_env=extra_env)
    return server.wait_ready(["census"], timeout=120), grpc_port, rest_port


def _latency_samples(fn, n: int, idle_s: float = 0.0):
    for _ in range(20):
        fn()
    samples = []
    for _ in range(n):
        if idle_s:
            time.sleep(idle_s)
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def _latency(fn, n: int, idle_s: float = 0.0):
    return _percentiles(_latency_samples(fn, n, idle_s))


def _side_by_side_latency(fns: Dict[str, object], n: int, rounds: int = 5) -> Dict[str, dict]:
    """p50/p99 of several callers measured in alternating blocks, so a load change on a shared
    machine hits all of them alike."""
    samples = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            samples[name] += _latency_samples(fn, max(1, n // rounds))
    return {name: _percentiles(values) for name, values in samples.items()}


def _client_process(target, method, payload, threads, ready, go, counts, index, end_at):
    """One load-generating process: `threads` threads on one channel, raw request bytes (no
    client-side proto work), counting calls that finish before `end_at`."""
    import grpc
    channel = grpc.insecure_channel(target)
    call = channel.unary_unary(method)
    for _ in range(20):
        call(payload, timeout=30)
    ready.release()
    go.wait()
    done = [0] * threads

    def loop(i):
        while True:
            call(payload, timeout=30)
            if time.time() >= end_at.value:
                return
            done[i] += 1
    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    counts[index] = sum(done)
    channel.close()


class Window(NamedTuple):
    """One timed load window: requests/s, and what the server and the machine spent meanwhile."""
    rate: float
    server_cpu_us_per_request: Optional[float]
    server_cores: Optional[float]
    machine_busy_pct: float
    client_cpu_us_per_request: Optional[float]


def _machine_cpu_ticks():
    """(all ticks, idle + iowait ticks) of every CPU since boot, from /proc/stat (Linux)."""
    with open("/proc/stat") as stat:
        ticks = [int(t) for t in stat.readline().split()[1:]]
    return sum(ticks), ticks[3] + ticks[4]


def _grpc_throughput(target: str, method: str, payload: bytes, seconds: float,
                     clients: int = CLIENTS, processes: int = CLIENT_PROCESSES,
                     server_pid: Optional[int] = None) -> Window:
    """Requests/s from `clients` concurrent callers spread over `processes` client processes;
    with `server_pid`, also that process's CPU over the same window (client start-up and
    warm-up excluded)."""
    ctx = multiprocessing.get_context("spawn")
    ready, go = ctx.Semaphore(0), ctx.Event()
    counts = ctx.Array("l", processes)
    end_at = ctx.Value("d", 0.0)
    procs = [ctx.Process(target=_client_process,
                         args=(target, method, payload, clients // processes, ready, go, counts,
                               i, end_at), daemon=True)
             for i in range(processes)]
    for p in procs:
        p.start()
    try:
        for _ in procs:
            if not ready.acquire(timeout=120):
                raise RuntimeError("benchmark client processes did not start within 120 s")
        cpu_before = _process_cpu_s(server_pid) if server_pid else None
        ticks_before = _machine_cpu_ticks()
        start = time.time()
        end_at.value = start + seconds
        go.set()
        time.sleep(seconds)
        cpu_after = _process_cpu_s(server_pid) if server_pid else None
        ticks_after = _machine_cpu_ticks()
        for p in procs:
            p.join(seconds + 60)
        done = sum(counts[:])
        total, idle = (after - before for after, before in zip(ticks_after, ticks_before))
        server_cpu = None if cpu_before is None else cpu_after - cpu_before
        busy_cpu_s = (1 - idle / max(total, 1)) * (os.cpu_count() or 1) * seconds
        return Window(
            rate=done / (end_at.value - start),
            server_cpu_us_per_request=(None if server_cpu is None
                                       else round(server_cpu / max(done, 1) * 1e6, 1)),
            server_cores=None if server_cpu is None else round(server_cpu / seconds, 2),
            machine_busy_pct=round((1 - idle / max(total, 1)) * 100, 1),
            client_cpu_us_per_request=(None if server_cpu is None else round(
                max(busy_cpu_s - server_cpu, 0) / max(done, 1) * 1e6, 1)))
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()


def _process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far, from /proc (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _throughput(fn, seconds: float, clients: int = CLIENTS) -> float:
    """Requests/s from `clients` threads each calling fn() in a loop."""
    stop = threading.Event()
    counts = [0] * clients

    def loop(i):
        while not stop.is_set():
            fn()
            counts[i] += 1
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    before = sum(counts)
    start = time.perf_counter()
    time.sleep(seconds)
    done = sum(counts) - before
    elapsed = time.perf_counter() - start
    stop.set()
    for t in threads:
        t.join()
    return done / elapsed


def _request_logging_overhead(servers, request, n: int, seconds: float,
                              log_prefix: pathlib.Path) -> Dict:
    """gRPC Predict with request logging off vs on (sampling_rate 1.0), side by side; also counts
    the records written, so a logger that silently wrote nothing cannot look fast."""
    from serving.server.request_log import read_prediction_logs
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc
    channels = {key: grpc.insecure_channel(f"127.0.0.1:{servers[key][1]}")
                for key in (False, "logged")}
    try:
        calls = {("logging_on" if key == "logged" else "logging_off"):
                 (lambda stub: lambda: stub.Predict(request, timeout=30))(
                     prediction_service_pb2_grpc.PredictionServiceStub(channel))
                 for key, channel in channels.items()}
        latency = _side_by_side_latency(calls, n * 4, rounds=20)
    finally:
        for channel in channels.values():
            channel.close()
    payload = request.SerializeToString()
    rates = {"logging_off": [], "logging_on": []}
    for _ in range(2):
        for key, name in ((False, "logging_off"), ("logged", "logging_on")):
            rates[name].append(_grpc_throughput(f"127.0.0.1:{servers[key][1]}", PREDICT_METHOD,
                                                payload, seconds / 2).rate)
    throughput = {name: round(sum(values) / len(values), 1) for name, values in rates.items()}
    time.sleep(0.5)
    return {
        "records_logged": sum(1 for _ in read_prediction_logs(log_prefix)),
        **_request_logging_cpu(request),
        "grpc_p50_ms": {k: v["p50_ms"] for k, v in latency.items()},
        "grpc_p99_ms": {k: v["p99_ms"] for k, v in latency.items()},
        "grpc_16_clients_rps": throughput,
        "p50_slowdown_pct": round(
            (latency["logging_on"]["p50_ms"] / latency["logging_off"]["p50_ms"] - 1) * 100, 1),
        "throughput_slowdown_pct": round(
            (1 - throughput["logging_on"] / throughput["logging_off"]) * 100, 1),
    }


def _request_logging_cpu(request, n: int = 5000) -> Dict:
    """In-process cost of logging one request: what the request thread pays (sample + queue) and
    what the writer thread pays (build, serialize, write), in microseconds; steadier than the
    served figures on a shared machine."""
    import numpy as np
    from tensorflow_serving.config import logging_config_pb2

    from serving.server.request_log import RequestLogger

    class Model:
        name, version = "census", 1
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="request-log-bench-"))
    try:
        config = logging_config_pb2.LoggingConfig()
        config.sampling_config.sampling_rate = 1.0
        config.log_collector_config.filename_prefix = str(tmp / "census")
        logger = RequestLogger("census", config)
        outputs = {"probabilities": np.array([[0.25]], np.float32)}
        start = time.perf_counter()
        for _ in range(n):
            if logger.sampled():
                logger.submit("predict", Model, "serving_default", request, outputs)
        request_path = time.perf_counter() - start
        start = time.perf_counter()
        logger.flush()
        writer = time.perf_counter() - start
        logger.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"request_path_us_per_record": round(request_path / n * 1e6, 2),
            "writer_us_per_record": round(writer / n * 1e6, 2)}


class NoBenchModel(RuntimeError):
    """No model to measure: nothing pushed and no stand-in asked for."""


def bench_model(model_dir, tmp: pathlib.Path, stand_in: bool = False):
    """(model folder, its description, a request row): the given model, else the pushed census
    model, else (only when asked for with `stand_in`) a census-like stand-in built under `tmp`."""
    model_dir = model_dir or default_model_dir()
    if model_dir is None:
        if not stand_in:
            raise NoBenchModel(
                f"no pushed census model under {CENSUS_ROOT} to benchmark: run `make run` first "
                "(it pushes one), pass a SavedModel directory, or pass --stand-in to measure a "
                "small census-like stand-in model (its figures do not describe the real model)")
        row = {k: ROW[k] for k in ("age", "hours_per_week", "workclass", "sex")}
        return (_stand_in(tmp, row), "stand-in census-like model (no pushed census model under "
                f"{CENSUS_ROOT})", row)
    return model_dir, str(model_dir), ROW


def _stand_in(tmp: pathlib.Path, row: Dict) -> pathlib.Path:
    """A census-like model with one warmup record, as the infra validator stamps pushed ones."""
    import numpy as np
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    from serving.server import testing, warmup
    from serving.server.examples import example_bytes
    model = testing.build_census_like(tmp / "stand_in", hidden=64)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "census"
    request.inputs["examples"].CopyFrom(
        tf.make_tensor_proto(np.array([example_bytes(row)], dtype=object)))
    warmup.write_warmup_file(model, [warmup.predict_log(request)])
    return model


def default_model_dir() -> Optional[pathlib.Path]:
    """The newest pushed census version, or None when nothing was pushed yet."""
    from serving.config.configs import scan_versions
    versions = scan_versions(CENSUS_ROOT)
    return CENSUS_ROOT / str(versions[-1]) if versions else None


def _rest_caller(port: int, method: str, path: str, body: Optional[bytes] = None):
    """One keep-alive HTTP/1.1 connection, as a production REST client would hold."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"} if body is not None else {}

    def call():
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"REST {path} answered {response.status}: {data[:200]!r}")
    return call


def native_first_call_ms(model_dir: pathlib.Path, tmp: pathlib.Path, request,
                         warmup: bool) -> float:
    """Wall ms of the first Predict the native front end answers itself once it has loaded the
    version (what the version's warmup records are replayed for), on a fresh server."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    from serving.server import testing
    server, grpc_port, rest_port = _start_server(model_dir, tmp / "first-call", False,
                                                 frontend="native", warmup=warmup)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            _, seconds = testing.first_native_answer(stub, f"127.0.0.1:{rest_port}", request)
        return round(seconds * 1000, 2)
    finally:
        server.stop()


def run(model_dir=None, n: int = 300, seconds: float = 4.0, stand_in: bool = False) -> Dict:
    """Measure and return the figures (also printed by main); `stand_in` allows the stand-in
    model when nothing is pushed (else NoBenchModel)."""
    import grpc
    import numpy as np
    import tensorflow as tf
    from tensorflow_serving.apis import (get_model_status_pb2, model_service_pb2_grpc,
                                         predict_pb2, prediction_service_pb2_grpc)

    from serving.server import testing
    from serving.server.examples import example_bytes
    from serving.server.signature import LoadedModel

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="serving-bench-"))
    result = {}
    try:
        model_dir, result["model"], row = bench_model(model_dir, tmp, stand_in)
        model_dir = pathlib.Path(model_dir).resolve()
        serialized = example_bytes(row)
        loaded = tf.saved_model.load(str(model_dir))
        signature = loaded.signatures["serving_default"]
        (input_key,) = signature.structured_input_signature[1]
        one = tf.constant([serialized])
        batch = tf.constant([serialized] * CLIENTS)
        runner = LoadedModel.load("census", 1, model_dir).signature("serving_default")
        one_row = {input_key: np.array([serialized], dtype=object)}
        result["in_process_server_call"] = _latency(lambda: runner.run(one_row), n)
        result["in_process_server_call_after_idle"] = _latency(
            lambda: runner.run(one_row), n, idle_s=IDLE_GAP_S)
        in_process_batched = _throughput(lambda: signature(**{input_key: batch}), seconds,
                                         clients=1) * CLIENTS
        from serving.server.native import build
        build.library()  # before any server starts, so no server's start-up waits on Go
        servers = {}
        try:
            for batching in (False, True):
                servers[batching] = _start_server(model_dir, tmp, batching)
            servers["logged"] = _start_server(model_dir, tmp, False, request_logging=True)
            servers["native"] = _start_server(model_dir, tmp, False, frontend="native")
            servers["native_batched"] = _start_server(model_dir, tmp, True, frontend="native")
            servers["native_tuned_plain"] = _start_server(
                model_dir, tmp, False, frontend="native", extra_flags=NATIVE_TUNED_FLAGS,
                extra_env=NATIVE_TUNED_ENV)
            servers["native_tuned"] = _start_server(
                model_dir, tmp, True, frontend="native", extra_flags=NATIVE_TUNED_FLAGS,
                extra_env=NATIVE_TUNED_ENV)
            servers["native_tuned_half_plus_two"] = _start_server(
                testing.build_tf1_half_plus_two(tmp / "half_plus_two"), tmp / "reference", True,
                frontend="native", extra_flags=NATIVE_TUNED_FLAGS, extra_env=NATIVE_TUNED_ENV)
            request = predict_pb2.PredictRequest()
            request.model_spec.name = "census"
            request.inputs[input_key].CopyFrom(
                tf.make_tensor_proto(np.array([serialized], dtype=object)))
            status_request = get_model_status_pb2.GetModelStatusRequest()
            status_request.model_spec.name = "census"
            body = json.dumps({"instances": [{"b64": base64.b64encode(serialized).decode()}]}
                              ).encode()
            half_plus_two_request = predict_pb2.PredictRequest()
            half_plus_two_request.model_spec.name = "census"  # _start_server's name for any model
            half_plus_two_request.inputs["x"].CopyFrom(
                tf.make_tensor_proto(np.array([[1.0]], dtype=np.float32)))

            _, grpc_port, rest_port = servers[False]
            channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            model_stub = model_service_pb2_grpc.ModelServiceStub(channel)
            native_channels, native_stubs = [], {}
            for name in ("native", "native_tuned_plain"):
                native_server, native_port, _ = servers[name]
                native_channels.append(grpc.insecure_channel(f"127.0.0.1:{native_port}"))
                native_stubs[name] = prediction_service_pb2_grpc.PredictionServiceStub(
                    native_channels[-1])
                testing.first_native_answer(native_stubs[name], native_server.rest, request)
            reference_server, reference_port, _ = servers["native_tuned_half_plus_two"]
            with grpc.insecure_channel(f"127.0.0.1:{reference_port}") as reference_channel:
                testing.first_native_answer(
                    prediction_service_pb2_grpc.PredictionServiceStub(reference_channel),
                    reference_server.rest, half_plus_two_request)
            result.update(_interleaved({
                "in_process": lambda: signature(**{input_key: one}),
                "grpc": lambda: stub.Predict(request, timeout=30),
                "grpc_native": lambda: native_stubs["native"].Predict(request, timeout=30),
                "grpc_native_tuned": lambda: native_stubs["native_tuned_plain"].Predict(
                    request, timeout=30),
                "rest": _rest_caller(rest_port, "POST", "/v1/models/census:predict", body),
            }, n))
            for native_channel in native_channels:
                native_channel.close()
            result["transport_floor"] = {
                "grpc_get_model_status_p50_ms": _latency(
                    lambda: model_stub.GetModelStatus(status_request, timeout=30), n)["p50_ms"],
                "rest_get_model_status_p50_ms": _latency(
                    _rest_caller(rest_port, "GET", "/v1/models/census"), n)["p50_ms"],
            }
            channel.close()
            if (model_dir / "assets.extra" / "tf_serving_warmup_requests").is_file():
                result["native_first_call_ms"] = {
                    ("warmup_on" if warmup else "warmup_off"): native_first_call_ms(
                        model_dir, tmp, request, warmup) for warmup in (True, False)}
            result["request_logging"] = _request_logging_overhead(
                servers, request, n, seconds, tmp / "python-logged" / "logs" / "census")

            def window(server, method, payload):
                return _grpc_throughput(f"127.0.0.1:{servers[server][1]}", method, payload,
                                        seconds, server_pid=servers[server][0].process.pid)
            # batched and no-model rates alternate over two rounds (the ratio of item 9 compares
            # them), so a load change on a shared machine hits all of them alike
            alternated = {
                "grpc_16_clients_batching_on": (True, PREDICT_METHOD, request),
                "grpc_16_clients_no_model": (False, STATUS_METHOD, status_request),
                "grpc_16_clients_native_batching_on": ("native_batched", PREDICT_METHOD, request),
                "grpc_16_clients_native_no_model": ("native_batched", HEALTH_METHOD, None),
                "grpc_16_clients_native_tuned_batching_on": ("native_tuned", PREDICT_METHOD,
                                                             request),
                "grpc_16_clients_native_tuned_no_model": ("native_tuned", HEALTH_METHOD, None),
                "grpc_16_clients_native_tuned_half_plus_two_batching_on": (
                    "native_tuned_half_plus_two", PREDICT_METHOD, half_plus_two_request)}
            windows = {name: [] for name in alternated}
            for _ in range(2):
                for name, (server, method, message) in alternated.items():
                    payload = b"" if message is None else message.SerializeToString()
                    windows[name].append(window(server, method, payload))
            windows["grpc_16_clients_batching_off"] = [
                window(False, PREDICT_METHOD, request.SerializeToString())]

            def mean(name, field):
                return round(sum(getattr(w, field) for w in windows[name]) / len(windows[name]),
                             2 if field == "server_cores" else 1)
            result["server_cpu_us_per_request"] = {
                name: mean(name, "server_cpu_us_per_request") for name in windows}
            result["server_cores"] = {name: mean(name, "server_cores") for name in windows}
            result["machine_busy_pct"] = {name: mean(name, "machine_busy_pct") for name in windows}
            result["client_cpu_us_per_request"] = {
                name: mean(name, "client_cpu_us_per_request") for name in windows}
            result["throughput_rps"] = {
                "in_process_batched_16": round(in_process_batched, 1),
                **{name: mean(name, "rate") for name in windows},
            }
        finally:
            for server, _, _ in servers.values():
                server.stop()
        base = result["in_process"]["p50_ms"]
        tput = result["throughput_rps"]
        result["ratios"] = {
            "grpc_p50_vs_in_process": round(result["grpc"]["p50_ms"] / base, 2),
            "rest_p50_vs_in_process": round(result["rest"]["p50_ms"] / base, 2),
            "batching_off_vs_in_process_batched": round(
                tput["grpc_16_clients_batching_off"] / tput["in_process_batched_16"], 2),
            "batching_on_vs_in_process_batched": round(
                tput["grpc_16_clients_batching_on"] / tput["in_process_batched_16"], 2),
            "batching_on_vs_no_model_rpc_ceiling": round(
                tput["grpc_16_clients_batching_on"] / tput["grpc_16_clients_no_model"], 2),
            "grpc_native_p50_vs_in_process": round(result["grpc_native"]["p50_ms"] / base, 2),
            "grpc_native_tuned_p50_vs_in_process": round(
                result["grpc_native_tuned"]["p50_ms"] / base, 2),
            "native_batching_on_vs_native_no_model_rpc_ceiling": round(
                tput["grpc_16_clients_native_batching_on"]
                / tput["grpc_16_clients_native_no_model"], 2),
            "native_tuned_batching_on_vs_native_tuned_no_model_rpc_ceiling": round(
                tput["grpc_16_clients_native_tuned_batching_on"]
                / tput["grpc_16_clients_native_tuned_no_model"], 2),
            "native_tuned_batching_on_vs_native_batching_on": round(
                tput["grpc_16_clients_native_tuned_batching_on"]
                / tput["grpc_16_clients_native_batching_on"], 2),
            "native_batching_on_vs_no_model_rpc_ceiling": round(
                tput["grpc_16_clients_native_batching_on"] / tput["grpc_16_clients_no_model"], 2),
            "native_batching_on_vs_batching_on": round(
                tput["grpc_16_clients_native_batching_on"] / tput["grpc_16_clients_batching_on"],
                2),
        }
        floor = result["transport_floor"]
        idle_model = result["in_process_server_call_after_idle"]["p50_ms"]
        result["limits"] = {
            "grpc_floor_plus_model_vs_in_process": round(
                (floor["grpc_get_model_status_p50_ms"] + idle_model) / base, 2),
            "rest_floor_plus_model_vs_in_process": round(
                (floor["rest_get_model_status_p50_ms"] + idle_model) / base, 2),
            "no_model_rpc_ceiling_vs_in_process_batched": round(
                tput["grpc_16_clients_no_model"] / tput["in_process_batched_16"], 2),
            "native_batching_on_vs_native_no_model_if_cpu_bound": _cpu_bound_ratio(
                result, "grpc_16_clients_native_batching_on", "grpc_16_clients_native_no_model"),
            "native_tuned_batching_on_vs_native_tuned_no_model_if_cpu_bound": _cpu_bound_ratio(
                result, "grpc_16_clients_native_tuned_batching_on",
                "grpc_16_clients_native_tuned_no_model"),
            "batching_on_vs_no_model_if_cpu_bound": _cpu_bound_ratio(
                result, "grpc_16_clients_batching_on", "grpc_16_clients_no_model"),
            "native_tuned_half_plus_two_batching_on_vs_native_tuned_no_model": round(
                tput["grpc_16_clients_native_tuned_half_plus_two_batching_on"]
                / tput["grpc_16_clients_native_tuned_no_model"], 2),
            "native_tuned_half_plus_two_batching_on_vs_native_tuned_no_model_if_cpu_bound": (
                _cpu_bound_ratio(result, "grpc_16_clients_native_tuned_half_plus_two_batching_on",
                                 "grpc_16_clients_native_tuned_no_model")),
            "native_tuned_model_server_cpu_us_per_request_over_half_plus_two": round(
                result["server_cpu_us_per_request"]["grpc_16_clients_native_tuned_batching_on"]
                - result["server_cpu_us_per_request"][
                    "grpc_16_clients_native_tuned_half_plus_two_batching_on"], 1),
        }
        result["ratios"]["request_logging_p50_slowdown_pct"] = (
            result["request_logging"]["p50_slowdown_pct"])
        result["ratios"]["request_logging_throughput_slowdown_pct"] = (
            result["request_logging"]["throughput_slowdown_pct"])
        result["targets"] = {"grpc_p50_vs_in_process": "<= 1.5", "rest_p50_vs_in_process": "<= 2",
                             "batching_on_vs_in_process_batched": ">= 0.7",
                             "batching_on_vs_no_model_rpc_ceiling": ">= 0.8",
                             "native_batching_on_vs_native_no_model_rpc_ceiling": ">= 0.8",
                             "native_tuned_batching_on_vs_native_tuned_no_model_rpc_ceiling":
                                 ">= 0.8",
                             "grpc_native_p50_vs_in_process": "<= 1.5",
                             "grpc_native_tuned_p50_vs_in_process": "<= 1.5",
                             "request_logging_p50_slowdown_pct": "<= 5",
                             "request_logging_throughput_slowdown_pct": "<= 5"}
        result["meaning"] = MEANING
        result["machine"] = {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def _cpu_bound_ratio(result: Dict, predict: str, ceiling: str) -> Optional[float]:
    """The ratio the two windows would have if the machine's CPUs were the only limit: the
    ceiling's CPU per request (clients and server) over the predict's."""
    server, client = result["server_cpu_us_per_request"], result["client_cpu_us_per_request"]
    if None in (server[predict], client[predict], server[ceiling], client[ceiling]):
        return None
    return round((server[ceiling] + client[ceiling]) / (server[predict] + client[predict]), 2)


def _interleaved(calls: Dict[str, object], n: int, chunk: int = 25) -> Dict[str, Dict]:
    """p50/p99 per call, measured in alternating chunks so machine load hits every path alike."""
    for fn in calls.values():
        for _ in range(20):
            fn()
    samples = {name: [] for name in calls}
    while min(len(v) for v in samples.values()) < n:
        for name, fn in calls.items():
            for _ in range(chunk):
                start = time.perf_counter()
                fn()
                samples[name].append(time.perf_counter() - start)
    return {name: _percentiles(v) for name, v in samples.items()}


def run_router(model_dir=None, n: int = 1000, stand_in: bool = False) -> Dict:
    """The canary router's added latency: one-row predict straight to the stable group and through
    nginx (weight 0, so both reach the same server), REST and gRPC, side by side."""
    import grpc
    import numpy as np
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    from serving.config import configs
    from serving.server.examples import example_bytes

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="router-bench-"))
    result = {}
    stack = None
    try:
        model_dir, result["model"], row = bench_model(model_dir, tmp, stand_in)
        root = tmp / "models"
        (root / "census").mkdir(parents=True)
        os.symlink(pathlib.Path(model_dir).resolve(), root / "census" / "1")
        configs.generate(root)
        stack = router.LocalStack(root, *free_ports(2)).start()
        serialized = example_bytes(row)
        body = json.dumps({"instances": [{"b64": base64.b64encode(serialized).decode()}]}).encode()
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "census"
        loaded = tf.saved_model.load(str(model_dir))
        (input_key,) = loaded.signatures["serving_default"].structured_input_signature[1]
        request.inputs[input_key].CopyFrom(
            tf.make_tensor_proto(np.array([serialized], dtype=object)))
        group = stack.groups["stable"]
        channels = {name: grpc.insecure_channel(f"127.0.0.1:{port}") for name, port in
                    (("direct", group["grpc_port"]), ("nginx", stack.grpc_port))}
        stubs = {name: prediction_service_pb2_grpc.PredictionServiceStub(c)
                 for name, c in channels.items()}
        path = "/v1/models/census:predict"
        measured = _interleaved({
            "rest_direct": _rest_caller(group["rest_port"], "POST", path, body),
            "rest_via_nginx": _rest_caller(stack.rest_port, "POST", path, body),
            "grpc_direct": lambda: stubs["direct"].Predict(request, timeout=30),
            "grpc_via_nginx": lambda: stubs["nginx"].Predict(request, timeout=30),
        }, n)
        for channel in channels.values():
            channel.close()
        result.update(measured)
        result["added_ms"] = {
            f"{api}_{q}": round(measured[f"{api}_via_nginx"][f"{q}_ms"]
                                - measured[f"{api}_direct"][f"{q}_ms"], 3)
            for api in ("rest", "grpc") for q in ("p50", "p99")}
        result["meaning"] = ("one-row predict latency straight to the stable serving group and "
                             "through the nginx router in front of it (keep-alive REST, one gRPC "
                             "channel each), measured in alternating chunks; added_ms = via nginx "
                             "- direct")
        result["machine"] = {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)}
    finally:
        if stack is not None:
            stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def main(argv=None) -> int:
    """`python -m bench.serving_bench`: returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench.serving_bench", description=__doc__)
    parser.add_argument("model_dir", nargs="?", type=pathlib.Path,
                        help="SavedModel directory (default: newest serving/models/census version)")
    parser.add_argument("--requests", type=int, default=300, help="latency samples per path")
    parser.add_argument("--seconds", type=float, default=4.0, help="throughput window")
    parser.add_argument("--router", action="store_true",
                        help="only the canary router case: latency through nginx vs direct")
    parser.add_argument("--stand-in", action="store_true",
                        help="with no pushed census model, measure a small census-like model")
    args = parser.parse_args(argv)
    if args.model_dir is not None and not (args.model_dir / "saved_model.pb").exists():
        parser.error(f"{args.model_dir} is not a SavedModel directory (no saved_model.pb)")
    try:
        if args.router:
            result = run_router(args.model_dir, max(args.requests, 100), args.stand_in)
        else:
            result = run(args.model_dir, args.requests, args.seconds, args.stand_in)
    except NoBenchModel as error:
        parser.exit(2, f"{parser.prog}: {error}\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())


def _rss_mb(pid: int) -> float:
    """Resident set size of a process in MiB, from /proc (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


def _fixed_rate_calls(call, rate: float, seconds: float, threads: int = 8):
    """Call `call()` at `rate` per second for `seconds` on a schedule (request i is due at
    start + i / rate, so a slow answer does not lower the offered rate while threads are free);
    returns [(due offset s, latency s, error or None)] per call."""
    total = int(rate * seconds)
    start = time.monotonic() + 0.5
    lock = threading.Lock()
    next_index = [0]
    results = []

    def worker():
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= total:
                return
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            began = time.monotonic()
            try:
                call()
                error = None
            except Exception as e:  # every failure counts; the soak reports them
                error = f"{type(e).__name__}: {str(e)[:200]}"
            results.append((due - start, time.monotonic() - began, error))
    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return results


def run_soak(model_dir=None, seconds: float = 600.0, rate: float = 50.0,
             window_s: float = 60.0, stand_in: bool = False) -> Dict:
    """A soak through the canary router: one-row predicts at a fixed rate, gRPC and REST
    alternating, stable and canary groups (canary weight 20) behind nginx, for `seconds`.
    Reports failed requests (must be 0), each group's RSS at the first and last window and its
    growth, and p99 per window with its drift (last window / first window). `stand_in` as in
    `run`."""
    import grpc
    import numpy as np
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    from serving.config import configs
    from serving.rollout import canary
    from serving.server.examples import example_bytes

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="soak-bench-"))
    result = {}
    stack = None
    try:
        model_dir, result["model"], row = bench_model(model_dir, tmp, stand_in)
        model_dir = pathlib.Path(model_dir).resolve()
        root = tmp / "models"
        (root / "census").mkdir(parents=True)
        os.symlink(model_dir, root / "census" / "1")
        configs.generate(root)
        os.symlink(model_dir, root / "census" / "2")
        canary.start(root, "census", 2, weight=20)
        stack = router.LocalStack(root, *free_ports(2)).start()
        serialized = example_bytes(row)
        body = json.dumps({"instances": [{"b64": base64.b64encode(serialized).decode()}]}).encode()
        (input_key,) = tf.saved_model.load(str(model_dir)).signatures[
            "serving_default"].structured_input_signature[1]
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "census"
        request.inputs[input_key].CopyFrom(
            tf.make_tensor_proto(np.array([serialized], dtype=object)))
        channel = grpc.insecure_channel(f"127.0.0.1:{stack.grpc_port}")
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        local = threading.local()
        turn = iter(range(1 << 62))

        def call():
            if next(turn) % 2:
                stub.Predict(request, timeout=30)
                return
            if not hasattr(local, "rest"):
                local.rest = _rest_caller(stack.rest_port, "POST", "/v1/models/census:predict",
                                          body)
            local.rest()
        pids = {group: stack.processes[group].pid for group in router.GROUPS}
        rss = {group: [] for group in pids}
        windows = []
        elapsed = 0.0
        while elapsed < seconds:
            span = min(window_s, seconds - elapsed)
            calls = _fixed_rate_calls(call, rate, span)
            latencies = [c[1] for c in calls if c[2] is None]
            windows.append({"start_s": round(elapsed, 1), "requests": len(calls),
                            "failed": sum(1 for c in calls if c[2] is not None),
                            "first_error": next((c[2] for c in calls if c[2]), None),
                            **(_percentiles(latencies) if latencies else {})})
            for group, pid in pids.items():
                rss[group].append(_rss_mb(pid))
            elapsed += span
        channel.close()
        result.update({
            "seconds": seconds, "rate_rps": rate, "window_s": window_s,
            "requests": sum(w["requests"] for w in windows),
            "failed": sum(w["failed"] for w in windows),
            "rss_mb": {g: {"first_window": v[0], "last_window": v[-1], "max": max(v)}
                       for g, v in rss.items()},
            "rss_growth_mb": {g: round(v[-1] - v[0], 1) for g, v in rss.items()},
            "p99_ms_by_window": [w.get("p99_ms") for w in windows],
            "p99_drift": (round(windows[-1]["p99_ms"] / windows[0]["p99_ms"], 2)
                          if windows[0].get("p99_ms") and windows[-1].get("p99_ms") else None),
            "windows": windows,
            "meaning": "one-row predicts through nginx (canary weight 20; gRPC and keep-alive "
                       "REST alternating) at a fixed offered rate; failed must be 0; RSS of each "
                       "serving group after each window; p99 per window, drift = last / first",
            "machine": {"cpus": os.cpu_count(),
                        "load_average_1m": round(os.getloadavg()[0], 2)},
        })
    finally:
        if stack is not None:
            stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return result
