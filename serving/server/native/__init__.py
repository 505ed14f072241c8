"""The native gRPC front end (`tfxp serve --grpc_frontend=native`): Go over TensorFlow's C API,
loaded into the model server's process as a C shared library.

It owns the public gRPC address and answers Predict for the versions this server has made
AVAILABLE, with its own sessions and batching; every other call, and every Predict it cannot
answer exactly as the Python path would (a label or version it does not hold yet, an input it
does not decode, a TensorFlow error), goes as raw bytes to this server's gRPC front end on a
private UNIX socket. So errors, the other APIs and request logging keep one implementation, and
the Predicts it answers are merged into this server's metrics at every scrape.
"""
import base64
import ctypes
import functools
import json
import logging
import pathlib
from typing import Callable, Dict, List, Optional

from serving.server import metrics as metrics_lib

log = logging.getLogger("tfxp.serving")


class NativeFrontendError(RuntimeError):
    """The native front end could not start or take a snapshot; the message says why."""


def _bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    for name in ("TfxpNativeStart", "TfxpNativeSetModels"):
        getattr(lib, name).argtypes = [ctypes.c_char_p]
        getattr(lib, name).restype = ctypes.c_void_p
    lib.TfxpNativeMetrics.argtypes = []
    lib.TfxpNativeMetrics.restype = ctypes.c_void_p
    lib.TfxpNativeStop.argtypes = []
    lib.TfxpNativeStop.restype = None
    lib.TfxpFree.argtypes = [ctypes.c_void_p]
    lib.TfxpFree.restype = None
    return lib


class NativeFrontend:
    """The loaded library: start once per process, take snapshots, drain metrics, stop."""

    def __init__(self, library: Optional[pathlib.Path] = None):
        if library is None:
            from serving.server.native import build
            library = build.library()
        self.lib = _bind(ctypes.CDLL(str(library)))

    def _text(self, pointer) -> Optional[str]:
        if not pointer:
            return None
        try:
            return ctypes.string_at(pointer).decode()
        finally:
            self.lib.TfxpFree(pointer)

    def start(self, addresses: List[str], backend: str, tls: Optional[Dict] = None,
              batching=None, session_config: bytes = b"") -> None:
        """Bind `addresses` (host:port or unix:path) and forward to `backend` (unix:path);
        `batching` is the Python server's BatchScheduler (None: batching off),
        `session_config` a serialized ConfigProto for every session it loads."""
        config = {"addresses": addresses, "backend": backend, "tls": tls,
                  "batching": None if batching is None else batching_dict(batching),
                  "latency_buckets_s": list(metrics_lib.LATENCY_BUCKETS),
                  "tf_serving_buckets_us": list(metrics_lib.TF_SERVING_BUCKETS_US),
                  "batch_size_buckets": list(metrics_lib.BATCH_SIZE_BUCKETS),
                  "session_config": base64.b64encode(session_config).decode()}
        error = self._text(self.lib.TfxpNativeStart(json.dumps(config).encode()))
        if error:
            raise NativeFrontendError(error)

    def set_models(self, snapshot: Dict) -> None:
        """Replace what the front end serves with `snapshot` (see `snapshot()`)."""
        error = self._text(self.lib.TfxpNativeSetModels(json.dumps(snapshot).encode()))
        if error:
            raise NativeFrontendError(error)

    def drain_metrics(self) -> Dict:
        """The front end's counts since the last drain (Metrics.merge_native's input)."""
        return json.loads(self._text(self.lib.TfxpNativeMetrics()))

    def stop(self) -> None:
        """Close the public addresses (2 s for calls in flight), answer queued batches
        UNAVAILABLE and close every session."""
        self.lib.TfxpNativeStop()


def batching_dict(scheduler) -> Dict:
    """The Python server's BatchScheduler settings (its defaults already applied), so both
    front ends batch alike."""
    return {"max_batch_size": scheduler.max_batch_size,
            "batch_timeout_micros": round(scheduler.timeout * 1e6),
            "num_batch_threads": scheduler.threads,
            "max_enqueued_batches": scheduler.max_enqueued_batches,
            "allowed_batch_sizes": list(scheduler.allowed)}


def _tensor_specs(specs, infos) -> Optional[Dict]:
    """alias -> tensor name and DataType number; None when a TensorInfo is not a plain tensor
    (sparse or composite), which the native path leaves to the Python server."""
    out = {}
    for alias, spec in specs.items():
        info = infos[alias]
        if info.WhichOneof("encoding") != "name":
            return None
        out[alias] = {"tensor": info.name, "dtype": spec.dtype.as_datatype_enum}
    return out


def signatures_of(model, predict_only: bool) -> Dict:
    """The signatures of a LoadedModel the native path may run, with Python's dtypes (so the two
    paths accept the same inputs). `predict_only` (--enable_signature_method_name_check) keeps
    only predict signatures; Predict on the others then gets the Python server's refusal."""
    from serving.server.signature import PREDICT_METHOD
    out = {}
    for name, signature in model.signatures.items():
        if predict_only and signature.method_name != PREDICT_METHOD:
            continue
        inputs = _tensor_specs(signature.inputs, signature.signature_def.inputs)
        outputs = _tensor_specs(signature.outputs, signature.signature_def.outputs)
        if inputs and outputs:
            out[name] = {"batchable": signature.batchable, "inputs": inputs, "outputs": outputs}
    return out


@functools.lru_cache(maxsize=64)
def _warmup_requests(path: str, modified_ns: int) -> List[str]:
    from serving.server.warmup import predict_requests
    return [base64.b64encode(r).decode() for r in predict_requests(pathlib.Path(path))]


def warmup_of(model, iterations: int) -> Dict:
    """The version's warmup Predicts for the front end to replay on its own session before it
    answers the version (`iterations` 0: warmup off), read once per warmup file."""
    from serving.server.repository import WARMUP_FILE
    path = pathlib.Path(model.path) / WARMUP_FILE
    if iterations < 1 or not path.is_file():
        return {"warmup": [], "warmup_iterations": 0}
    import tensorflow as tf
    from google.protobuf.message import DecodeError
    try:
        requests = _warmup_requests(str(path), path.stat().st_mtime_ns)
    except (OSError, tf.errors.OpError, DecodeError) as e:  # changed since the Python path read it
        log.warning("native front end: %s can no longer be read (%s); the version is answered "
                    "without warmup", path, e)
        return {"warmup": [], "warmup_iterations": 0}
    return {"warmup": requests, "warmup_iterations": iterations}


def snapshot(served: Dict, predict_only: bool, excluded: Callable[[str], bool],
             warmup_iterations: int = 0) -> Dict:
    """The front end's view of `ModelRepository.served()`: labels and AVAILABLE versions with
    their warmup Predicts, less the models `excluded` names (those with request logging, which
    the Python path records)."""
    return {name: {"labels": labels,
                   "versions": [{"version": version, "path": str(model.path), "tags": ["serve"],
                                 "signatures": signatures_of(model, predict_only),
                                 **warmup_of(model, warmup_iterations)}
                                for version, model in sorted(versions.items())]}
            for name, (labels, versions) in served.items() if not excluded(name)}
