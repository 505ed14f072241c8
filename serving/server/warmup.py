"""SavedModel warmup: replay `assets.extra/tf_serving_warmup_requests` before a version serves.

The file is a TFRecord of PredictionLog (TF Serving's format, at most 1000 records); any failing
record fails the load, as in TF Serving, so a broken model never becomes AVAILABLE.
"""
import pathlib
from typing import Iterable, List

import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from serving.server import errors, signature as sig_lib, tensor_codec
from serving.server.signature import LoadedModel


def _replay(model: LoadedModel, log) -> None:
    kind = log.WhichOneof("log_type")
    if kind == "predict_log":
        request = log.predict_log.request
        signature = model.signature(request.model_spec.signature_name)
        inputs = tensor_codec.request_inputs(request)
        signature.check_inputs(inputs)
        signature.run(inputs, request.output_filter)
    elif kind in ("classify_log", "regress_log"):
        request = getattr(log, kind).request
        signature = model.signature(request.model_spec.signature_name)
        if kind == "classify_log":
            inputs = sig_lib.classify_inputs(signature, request.input)
            sig_lib.classification_result(signature.run(inputs), len(next(iter(inputs.values()))))
        else:
            inputs = sig_lib.regress_inputs(signature, request.input)
            sig_lib.regression_result(signature.run(inputs), len(next(iter(inputs.values()))))
    elif kind == "multi_inference_log":
        request = log.multi_inference_log.request
        for task in request.tasks:
            signature = model.signature(task.model_spec.signature_name)
            builder = (sig_lib.classify_inputs if task.method_name == sig_lib.CLASSIFY_METHOD
                       else sig_lib.regress_inputs)
            signature.run(builder(signature, request.input))
    else:
        raise errors.invalid_argument(f"Unsupported log_type for warmup: {kind}")


def run_warmup(model: LoadedModel, path: pathlib.Path, max_records: int = 1000,
               iterations: int = 1) -> int:
    """Replay every record `iterations` times before the version serves; returns the record
    count. More than `max_records` records or a failing one raises, which fails the load."""
    count = 0
    for record in tf.compat.v1.io.tf_record_iterator(str(path)):
        count += 1
        if count > max_records:
            raise errors.invalid_argument(
                f"Number of warmup records exceeds the maximum ({max_records}) at {path}")
        log = prediction_log_pb2.PredictionLog.FromString(record)
        for _ in range(iterations):
            try:
                _replay(model, log)
            except errors.ServingError as e:
                raise errors.ServingError(e.code, f"Warmup request {count} in {path} failed: "
                                                  f"{e.message}") from None
    return count


def predict_requests(path: pathlib.Path, max_records: int = 1000) -> List[bytes]:
    """The serialized PredictRequests of a warmup file's predict_log records (the native front
    end replays them on its own sessions), at most `max_records` records read."""
    requests = []
    for count, record in enumerate(tf.compat.v1.io.tf_record_iterator(str(path)), start=1):
        if count > max_records:
            break
        log = prediction_log_pb2.PredictionLog.FromString(record)
        if log.WhichOneof("log_type") == "predict_log":
            requests.append(log.predict_log.request.SerializeToString())
    return requests


def write_warmup_file(saved_model_dir: pathlib.Path, logs: Iterable) -> pathlib.Path:
    """Write PredictionLogs where TF Serving looks for them."""
    path = pathlib.Path(saved_model_dir) / "assets.extra" / "tf_serving_warmup_requests"
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for log in logs:
            writer.write(log.SerializeToString())
    return path


def predict_log(request) -> "prediction_log_pb2.PredictionLog":
    """A PredictRequest wrapped as the warmup record TF Serving replays."""
    return prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request))
