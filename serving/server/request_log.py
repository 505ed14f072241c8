"""Request logging as TF Serving defines it: a model's `logging_config` in the model config file.

```
config { name: "census" base_path: "/models/census"
         logging_config { sampling_config { sampling_rate: 0.1 }
                          log_collector_config { filename_prefix: "/logs/census" } } }
```
A sampled request and its response become one `PredictionLog` (predict, classify, regress or
multi-inference log, with `log_metadata`: model spec, sampling config, `serve` tag, time) in
TFRecord files. The request thread only samples and queues what it already holds (arrays or
protos); a background thread builds and writes the protos in batches every 50 ms, so logging
costs the request path a deque append. A full queue (10,000 records) drops the record (counted in
`dropped`) rather than slow requests down.

File naming (decision; TF Serving leaves the file layout to its LogCollector plug-in):
`<filename_prefix>.<start time, UTC %Y%m%dT%H%M%S>.<pid>.<sequence, 5 digits>.tfrecord`; a file
is closed and the next sequence number started once it reaches `max_file_bytes` (64 MiB). A
relative prefix is relative to the model config file's directory. `read_prediction_logs` reads a
file, a directory, or every file of a prefix, oldest first.
"""
import collections
import glob
import logging
import os
import pathlib
import random
import threading
import time
from typing import Dict, Iterator, Optional

import tensorflow as tf
from tensorflow_serving.apis import (classification_pb2, predict_pb2, prediction_log_pb2,
                                     regression_pb2)

from serving.config import configs
from serving.config.configs import ConfigError
from serving.server import tensor_codec

log = logging.getLogger("tfxp.serving")

DEFAULT_MAX_FILE_BYTES = 64 << 20
QUEUE_LIMIT = 10000
WRITE_INTERVAL_S = 0.05
SUFFIX = ".tfrecord"


class RequestLogger:
    """Samples and writes one model's requests (one writer thread, size-rotated files)."""

    def __init__(self, model_name: str, logging_config, config_dir: Optional[pathlib.Path] = None,
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, seed: Optional[int] = None):
        prefix = logging_config.log_collector_config.filename_prefix
        if not prefix:
            raise ConfigError(f"model {model_name}: logging_config needs log_collector_config "
                             "{ filename_prefix: ... }")
        self.prefix = resolve_prefix(prefix, config_dir)
        self.model_name = model_name
        self.sampling_config = logging_config.sampling_config
        self.sampling_rate = logging_config.sampling_config.sampling_rate
        self.max_file_bytes = max_file_bytes
        self.dropped = 0
        self.written = 0
        self._random = random.Random(seed)
        self._pending: collections.deque = collections.deque()
        self._write_lock = threading.Lock()
        self._closing = threading.Event()
        self._started = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        self._sequence = 0
        self._file = None
        self._file_bytes = 0
        self._thread = threading.Thread(target=self._drain, name=f"request-log-{model_name}",
                                        daemon=True)
        self._thread.start()

    def sampled(self) -> bool:
        """One draw per request (TF Serving: log when a uniform draw is below the rate)."""
        return self.sampling_rate > 0 and self._random.random() < self.sampling_rate

    def submit(self, kind: str, model, signature_name: str, request, response) -> None:
        """Queue one request/response; `request`/`response` may be protos, numpy dicts (predict)
        or a zero-argument callable returning the request proto, all built on the writer thread.
        An append to a deque: no lock and no wake-up on the request path."""
        if len(self._pending) >= QUEUE_LIMIT:
            self.dropped += 1
            return
        self._pending.append((kind, model.name, model.version, signature_name, request,
                              response, time.time()))

    def flush(self) -> None:
        """Write everything queued so far and flush the file (tests, shutdown)."""
        self._write_pending()

    def close(self) -> None:
        """Stop the writer thread, write what is still queued and close the file, so a config
        change or shutdown loses no sampled record."""
        self._closing.set()
        self._thread.join(10)
        self._write_pending()
        with self._write_lock:
            self._close_file()

    def _drain(self) -> None:
        """Writer thread: every WRITE_INTERVAL_S, write what the requests queued, in one batch,
        so the writer takes the interpreter lock once per batch instead of once per request."""
        while not self._closing.wait(WRITE_INTERVAL_S):
            self._write_pending()

    def _write_pending(self) -> None:
        with self._write_lock:
            wrote = False
            while self._pending:
                kind, name, version, signature_name, request, response, timestamp = (
                    self._pending.popleft())
                try:
                    if callable(request):
                        request = request()
                    self._write(build_log(kind, name, version, signature_name, request,
                                          response, timestamp, self.sampling_config))
                    wrote = True
                except Exception:  # a logging fault must never reach requests
                    log.exception("Request log for model %s: record dropped", self.model_name)
                    self.dropped += 1
            if wrote and self._file is not None:
                self._file.flush()

    def _write(self, prediction_log) -> None:
        if self._file is None:
            self._sequence += 1
            path = (f"{self.prefix}.{self._started}.{os.getpid()}."
                    f"{self._sequence:05d}{SUFFIX}")
            pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._file = tf.io.TFRecordWriter(path)
            self._file_bytes = 0
        data = prediction_log.SerializeToString()
        self._file.write(data)
        self.written += 1
        self._file_bytes += len(data) + 16
        if self._file_bytes >= self.max_file_bytes:
            self._close_file()

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _fill_spec(spec, name, version, signature_name) -> None:
    spec.name = name
    spec.version.value = version
    spec.signature_name = signature_name


def _fill_tensors(target_map, arrays) -> None:
    for key, value in arrays.items():
        tensor_codec.fill_proto(target_map[key], value)


def build_log(kind: str, name: str, version: int, signature_name: str, request, response,
              timestamp: float, sampling_config=None) -> prediction_log_pb2.PredictionLog:
    """One PredictionLog as TF Serving writes it (request, response and log_metadata)."""
    entry = prediction_log_pb2.PredictionLog()
    metadata = entry.log_metadata
    metadata.model_spec.name = name
    metadata.model_spec.version.value = version
    metadata.model_spec.signature_name = signature_name
    if sampling_config is not None:
        metadata.sampling_config.CopyFrom(sampling_config)
    metadata.saved_model_tags.append("serve")
    metadata.timestamp_secs = int(timestamp)
    if kind == "predict":
        target = entry.predict_log
        if isinstance(request, predict_pb2.PredictRequest):
            target.request.CopyFrom(request)
        else:
            _fill_spec(target.request.model_spec, name, version, signature_name)
            _fill_tensors(target.request.inputs, request)
        _fill_spec(target.response.model_spec, name, version, signature_name)
        _fill_tensors(target.response.outputs, response)
    elif kind == "classify":
        entry.classify_log.request.CopyFrom(request)
        entry.classify_log.response.CopyFrom(_with_spec(
            classification_pb2.ClassificationResponse(result=response), name, version,
            signature_name))
    elif kind == "regress":
        entry.regress_log.request.CopyFrom(request)
        entry.regress_log.response.CopyFrom(_with_spec(
            regression_pb2.RegressionResponse(result=response), name, version, signature_name))
    elif kind == "multi_inference":
        entry.multi_inference_log.request.CopyFrom(request)
        entry.multi_inference_log.response.CopyFrom(response)
    else:
        raise ValueError(f"unknown request kind {kind!r}")
    return entry


def _with_spec(response, name, version, signature_name):
    response.model_spec.name = name
    response.model_spec.version.value = version
    response.model_spec.signature_name = signature_name
    return response


def classify_request(name, version, label, signature_name, input_proto):
    """The ClassificationRequest a log record carries, rebuilt from the parts the data plane
    receives (REST sends no proto); called lazily on the writer thread, never per request."""
    request = classification_pb2.ClassificationRequest()
    _fill_request_spec(request.model_spec, name, version, label, signature_name)
    request.input.CopyFrom(input_proto)
    return request


def regress_request(name, version, label, signature_name, input_proto):
    """The RegressionRequest a log record carries; see classify_request."""
    request = regression_pb2.RegressionRequest()
    _fill_request_spec(request.model_spec, name, version, label, signature_name)
    request.input.CopyFrom(input_proto)
    return request


def _fill_request_spec(spec, name, version, label, signature_name):
    spec.name = name
    if version is not None:
        spec.version.value = version
    elif label:
        spec.version_label = label
    spec.signature_name = signature_name or ""


def resolve_prefix(filename_prefix: str, config_dir: Optional[pathlib.Path]) -> pathlib.Path:
    """Where a `log_collector_config.filename_prefix` points: relative to the config's folder."""
    path = pathlib.Path(filename_prefix)
    return config_dir / path if not path.is_absolute() and config_dir is not None else path


def configured_prefix(models_root: pathlib.Path, model: str) -> Optional[pathlib.Path]:
    """The request-log prefix `models_root/models.config` gives `model`, or None if it logs none."""
    config_path = pathlib.Path(models_root) / configs.MODELS_CONFIG
    if not config_path.exists():
        return None
    entry = configs.model_entry(configs.read_models_config(config_path), model)
    prefix = entry.logging_config.log_collector_config.filename_prefix if entry else ""
    return resolve_prefix(prefix, config_path.parent) if prefix else None


def log_files(path_or_prefix) -> list:
    """The log files a path names: the file itself, a directory's `*.tfrecord` files, or every
    file starting with a prefix; sorted (names sort by start time, pid, sequence)."""
    path = pathlib.Path(path_or_prefix)
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(SUFFIX))
    return sorted(pathlib.Path(p) for p in glob.glob(glob.escape(str(path)) + "*" + SUFFIX))


def read_prediction_logs(path_or_prefix) -> Iterator[prediction_log_pb2.PredictionLog]:
    """Every PredictionLog in the request-log files of a file, directory or filename prefix."""
    files = log_files(path_or_prefix)
    if not files:
        raise FileNotFoundError(f"no request-log files ({SUFFIX}) at {path_or_prefix}")
    for path in files:
        for record in tf.data.TFRecordDataset(str(path)).as_numpy_iterator():
            yield prediction_log_pb2.PredictionLog.FromString(record)


class RequestLogs:
    """The loggers of the current model config, by model name (replaced on every config load)."""

    def __init__(self, config_dir: Optional[pathlib.Path] = None,
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES):
        self.config_dir = config_dir
        self.max_file_bytes = max_file_bytes
        self._loggers: Dict[str, RequestLogger] = {}
        self._keys: Dict[str, bytes] = {}
        self._lock = threading.Lock()

    def configure(self, config) -> None:
        """Start, keep or stop loggers to match the config's logging_config entries."""
        wanted = {e.name: e.logging_config for e in config.model_config_list.config
                  if e.HasField("logging_config")}
        stopped = []
        with self._lock:
            for name in list(self._loggers):
                if name not in wanted or self._keys[name] != wanted[name].SerializeToString():
                    stopped.append(self._loggers.pop(name))
                    del self._keys[name]
            for name, logging_config in wanted.items():
                if name not in self._loggers:
                    self._loggers[name] = RequestLogger(name, logging_config, self.config_dir,
                                                        self.max_file_bytes)
                    self._keys[name] = logging_config.SerializeToString()
        for logger in stopped:
            logger.close()

    def get(self, name: str) -> Optional[RequestLogger]:
        """The model's logger, or None when its config entry logs nothing (no lock: a dict read
        on the request path)."""
        return self._loggers.get(name)

    def close(self) -> None:
        """Close every logger (server stop), writing what they still hold."""
        with self._lock:
            loggers, self._loggers, self._keys = list(self._loggers.values()), {}, {}
        for logger in loggers:
            logger.close()
