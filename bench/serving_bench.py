"""Serving benchmark: in-process signature call vs gRPC vs REST, and 16-client throughput with
batching off and on, measured side by side in one run against the local server.

`python -m bench.serving_bench [SAVED_MODEL_DIR]`; the default is the newest pushed census version
under serving/models/census, else a small stand-in model with the census signatures (said so in
the output). Servers run as subprocesses, so client and server do not share a GIL.
"""
import argparse
import base64
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from typing import Dict, Optional

REPO = pathlib.Path(__file__).resolve().parents[1]
CENSUS_ROOT = REPO / "serving" / "models" / "census"
CLIENTS = 16
ROW = {"age": 39, "workclass": "State-gov", "fnlwgt": 77516, "education": "Bachelors",
       "education_num": 13, "marital_status": "Never-married", "occupation": "Adm-clerical",
       "relationship": "Not-in-family", "race": "White", "sex": "Male", "capital_gain": 2174,
       "capital_loss": 0, "hours_per_week": 40, "native_country": "United-States"}


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentiles(samples):
    samples = sorted(samples)
    return {"p50_ms": round(samples[len(samples) // 2] * 1000, 3),
            "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000, 3)}


def _example(row) -> bytes:
    from serving.client import _example as make
    return make(row)


def _start_server(model_dir: pathlib.Path, tmp: pathlib.Path, batching: bool):
    base = tmp / ("batched" if batching else "plain") / "census"
    base.mkdir(parents=True)
    os.symlink(model_dir, base / "1")
    grpc_port, rest_port = _free_port(), _free_port()
    flags = [f"--port={grpc_port}", f"--rest_api_port={rest_port}", "--model_name=census",
             f"--model_base_path={base}", "--file_system_poll_wait_seconds=0"]
    if batching:
        config = tmp / "batching.config"
        config.write_text("max_batch_size { value: 16 } batch_timeout_micros { value: 2000 } "
                          "num_batch_threads { value: 1 } max_enqueued_batches { value: 64 }")
        flags += ["--enable_batching=true", f"--batching_parameters_file={config}"]
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=str(REPO))
    process = subprocess.Popen([sys.executable, "-m", "serving", *flags], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{rest_port}/v1/models/census", timeout=1)
            return process, grpc_port, rest_port
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("benchmark server exited during start-up")
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("benchmark server did not start within 120 s")


def _latency(fn, n: int):
    for _ in range(20):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return _percentiles(samples)


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


def _stand_in(tmp: pathlib.Path) -> pathlib.Path:
    from serving import testing
    return testing.build_census_like(tmp / "stand_in", hidden=64)


def default_model_dir() -> Optional[pathlib.Path]:
    from serving.configs import scan_versions
    versions = scan_versions(CENSUS_ROOT)
    return CENSUS_ROOT / str(versions[-1]) if versions else None


def run(model_dir=None, n: int = 300, seconds: float = 4.0) -> Dict:
    """Measure and return the figures (also printed by main)."""
    import grpc
    import numpy as np
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="serving-bench-"))
    result = {}
    try:
        if model_dir is None:
            model_dir = default_model_dir()
        if model_dir is None:
            model_dir = _stand_in(tmp)
            result["model"] = f"stand-in census-like model (no pushed census model under {CENSUS_ROOT})"
            row = {k: ROW[k] for k in ("age", "hours_per_week", "workclass", "sex")}
        else:
            result["model"] = str(model_dir)
            row = ROW
        model_dir = pathlib.Path(model_dir).resolve()
        serialized = _example(row)
        loaded = tf.saved_model.load(str(model_dir))
        signature = loaded.signatures["serving_default"]
        (input_key,) = signature.structured_input_signature[1]
        one = tf.constant([serialized])
        batch = tf.constant([serialized] * CLIENTS)
        result["in_process"] = _latency(lambda: signature(**{input_key: one}), n)
        in_process_batched = _throughput(lambda: signature(**{input_key: batch}), seconds,
                                         clients=1) * CLIENTS
        servers = {}
        try:
            for batching in (False, True):
                servers[batching] = _start_server(model_dir, tmp, batching)
            request = predict_pb2.PredictRequest()
            request.model_spec.name = "census"
            request.inputs[input_key].CopyFrom(
                tf.make_tensor_proto(np.array([serialized], dtype=object)))
            body = json.dumps({"instances": [{"b64": base64.b64encode(serialized).decode()}]}
                              ).encode()

            def clients_for(batching):
                _, grpc_port, rest_port = servers[batching]
                stub = prediction_service_pb2_grpc.PredictionServiceStub(
                    grpc.insecure_channel(f"127.0.0.1:{grpc_port}"))
                url = f"http://127.0.0.1:{rest_port}/v1/models/census:predict"

                def rest_call():
                    urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=30).read()
                return (lambda: stub.Predict(request, timeout=30)), rest_call

            grpc_call, rest_call = clients_for(False)
            result["grpc"] = _latency(grpc_call, n)
            result["rest"] = _latency(rest_call, n)
            grpc_batched, _ = clients_for(True)
            result["throughput_rps"] = {
                "in_process_batched_16": round(in_process_batched, 1),
                "grpc_16_clients_batching_off": round(_throughput(grpc_call, seconds), 1),
                "grpc_16_clients_batching_on": round(_throughput(grpc_batched, seconds), 1),
            }
        finally:
            for process, _, _ in servers.values():
                process.terminate()
                process.wait(15)
        base = result["in_process"]["p50_ms"]
        tput = result["throughput_rps"]
        result["ratios"] = {
            "grpc_p50_vs_in_process": round(result["grpc"]["p50_ms"] / base, 2),
            "rest_p50_vs_in_process": round(result["rest"]["p50_ms"] / base, 2),
            "batching_off_vs_in_process_batched": round(
                tput["grpc_16_clients_batching_off"] / tput["in_process_batched_16"], 2),
            "batching_on_vs_in_process_batched": round(
                tput["grpc_16_clients_batching_on"] / tput["in_process_batched_16"], 2),
        }
        result["targets"] = {"grpc_p50_vs_in_process": "<= 1.5", "rest_p50_vs_in_process": "<= 2",
                             "batching_on_vs_in_process_batched": ">= 0.7"}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serving_bench", description=__doc__)
    parser.add_argument("model_dir", nargs="?", type=pathlib.Path,
                        help="SavedModel directory (default: newest serving/models/census version)")
    parser.add_argument("--requests", type=int, default=300, help="latency samples per path")
    parser.add_argument("--seconds", type=float, default=4.0, help="throughput window")
    args = parser.parse_args(argv)
    if args.model_dir is not None and not (args.model_dir / "saved_model.pb").exists():
        parser.error(f"{args.model_dir} is not a SavedModel directory (no saved_model.pb)")
    result = run(args.model_dir, args.requests, args.seconds)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
