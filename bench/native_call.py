"""`python -m bench --only native`: what one serving_default call costs through TensorFlow's C
API (the calls a native front end such as tensorflow_model_server's would make) beside the same
call from Python, as this server makes it today (the TF2 concrete function) and as a TF1 session.

Item 9 of issue 22 asks batched gRPC for 0.8 of the no-model RPC ceiling; the Python server is
bound by its interpreter lock there. This benchmark measures the part of a native front end's
gain that is the model call itself, on the pushed census model, with the pip wheel's own
libtensorflow_cc and headers (the C program is compiled with gcc into the tools cache)."""
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time
from typing import Dict, Sequence

from data.settings import TOOLS_CACHE

SOURCE = pathlib.Path(__file__).with_name("native_call.c")
WARMUP_CALLS = 20


class NativeBuildError(RuntimeError):
    """The C program could not be compiled against the installed TensorFlow."""


def build() -> pathlib.Path:
    """The compiled program, built once per source and TensorFlow version."""
    import tensorflow as tf

    tf_dir = pathlib.Path(tf.__file__).parent
    key = hashlib.sha256(SOURCE.read_bytes() + tf.__version__.encode()).hexdigest()[:16]
    binary = TOOLS_CACHE / "native_call" / key / "native_call"
    if binary.exists():
        return binary
    compiler = shutil.which("gcc")
    if compiler is None:
        raise NativeBuildError("gcc is not installed: install it (Debian: `apt-get install gcc`) "
                               "to run the native-call benchmark")
    binary.parent.mkdir(parents=True, exist_ok=True)
    command = [compiler, "-O2", f"-I{tf_dir / 'include'}", str(SOURCE), "-o", str(binary),
               str(tf_dir / "libtensorflow_cc.so.2"), str(tf_dir / "libtensorflow_framework.so.2"),
               f"-Wl,-rpath,{tf_dir}"]
    built = subprocess.run(command, capture_output=True, text=True)
    if built.returncode != 0:
        raise NativeBuildError(f"compiling {SOURCE.name} against TensorFlow {tf.__version__} "
                               f"failed:\n{built.stderr}")
    return binary


def _tensor(name: str):
    """(operation name, output index) of a TensorInfo name such as `serving_default_examples:0`."""
    operation, _, index = name.partition(":")
    return operation, int(index or 0)


def _native(binary, model_dir, input_name, output_name, rows, iterations, example_file) -> Dict:
    (in_op, in_index), (out_op, out_index) = _tensor(input_name), _tensor(output_name)
    ran = subprocess.run([str(binary), str(model_dir), in_op, str(in_index), out_op,
                          str(out_index), str(rows), str(iterations), str(example_file)],
                         capture_output=True, text=True, timeout=600,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    if ran.returncode != 0:
        raise RuntimeError(f"the native call failed (exit {ran.returncode}): {ran.stderr[-2000:]}")
    return json.loads(ran.stdout.strip().splitlines()[-1])


def _python_call_us(call, iterations: int) -> Dict:
    """Process CPU and wall microseconds per call (all threads, as the C program counts them)."""
    for _ in range(WARMUP_CALLS):
        call()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(iterations):
        call()
    return {"cpu_us": round((time.process_time() - cpu) / iterations * 1e6, 1),
            "wall_us": round((time.perf_counter() - wall) / iterations * 1e6, 1)}


def run(model_dir=None, rows: Sequence[int] = (8, 16), iterations: int = 2000,
        rounds: int = 2, stand_in: bool = False) -> Dict:
    """Per batch size: CPU and wall per call for the C API, the concrete function and a TF1
    session, alternated over `rounds`, and the outputs of the three compared."""
    import numpy as np
    import tensorflow as tf

    from bench import serving_bench
    from serving.server.examples import example_bytes
    from serving.server.signature import read_serve_meta_graph

    binary = build()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="native-call-bench-"))
    try:
        model_dir, description, row = serving_bench.bench_model(model_dir, tmp, stand_in)
        model_dir = pathlib.Path(model_dir).resolve()
        example = example_bytes(row)
        example_file = tmp / "example.bin"
        example_file.write_bytes(example)
        signature_def = read_serve_meta_graph(model_dir).signature_def["serving_default"]
        (input_key, input_info), = signature_def.inputs.items()
        output_key = sorted(signature_def.outputs)[0]
        output_name = signature_def.outputs[output_key].name

        function = tf.saved_model.load(str(model_dir)).signatures["serving_default"]
        graph = tf.Graph()
        session = tf.compat.v1.Session(graph=graph)
        with graph.as_default():
            tf.compat.v1.saved_model.loader.load(session, ["serve"], str(model_dir))

        result = {"model": description, "output": output_key, "iterations": iterations,
                  "rows": {}}
        for batch in rows:
            feed = np.array([example] * batch, dtype=object)
            feed_tensor = tf.constant(feed)
            outputs = {
                "c_api": None,
                "python_function": function(**{input_key: feed_tensor})[output_key].numpy()[0],
                "python_session": session.run(output_name, {input_info.name: feed})[0]}
            samples = {name: [] for name in outputs}
            for _ in range(rounds):
                native = _native(binary, model_dir, input_info.name, output_name, batch,
                                 iterations, example_file)
                outputs["c_api"] = np.array(native["first_row"], dtype=np.float32)
                samples["c_api"].append(native)
                samples["python_function"].append(_python_call_us(
                    lambda: function(**{input_key: tf.constant(feed)})[output_key].numpy(),
                    iterations))
                samples["python_session"].append(_python_call_us(
                    lambda: session.run(output_name, {input_info.name: feed}), iterations))
            figures = {name: {field: round(sum(s[field] for s in values) / rounds, 1)
                              for field in ("cpu_us", "wall_us")}
                       for name, values in samples.items()}
            reference = np.asarray(outputs["python_function"], dtype=np.float32).ravel()
            figures["outputs_agree"] = all(
                np.allclose(np.asarray(value, dtype=np.float32).ravel(), reference,
                            rtol=1e-5, atol=1e-6) for value in outputs.values())
            figures["c_api_cpu_vs_python_function"] = round(
                figures["c_api"]["cpu_us"] / figures["python_function"]["cpu_us"], 2)
            result["rows"][batch] = figures
        session.close()
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
