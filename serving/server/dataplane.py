"""The one data plane both front ends call: resolve a servable, run a signature, record metrics.

Inputs and outputs are numpy arrays (predict) or TF Serving result protos (classify/regress); the
REST and gRPC layers only translate their wire formats to and from these calls.
"""
import logging
import time
from typing import Callable, Dict, Iterable, NamedTuple, Optional, Tuple

import numpy as np
from tensorflow_serving.apis import inference_pb2, get_model_metadata_pb2

from serving.server import errors, request_log, signature as sig_lib
from serving.server.batching import BatchScheduler
from serving.server.metrics import Metrics
from serving.server.repository import ModelRepository
from serving.server.request_log import RequestLogs
from serving.server.signature import LoadedModel, Signature

log = logging.getLogger("tfxp.serving")


class _ExamplesApi(NamedTuple):
    """What differs between Classify and Regress: both run a signature on serialized tf.Examples."""
    method_name: str  # the signature method_name --enable_signature_method_name_check requires
    kind: str  # how TF Serving's method-name error names the API
    inputs: Callable  # (signature, Input proto) -> feed, after the API's signature checks
    result: Callable  # (outputs, number of examples) -> ClassificationResult | RegressionResult
    request: Callable  # rebuilds the request proto a request log records
    result_field: str  # the result's field in a MultiInference InferenceResult


_EXAMPLES_APIS = {
    "classify": _ExamplesApi(sig_lib.CLASSIFY_METHOD, "classification", sig_lib.classify_inputs,
                             sig_lib.classification_result, request_log.classify_request,
                             "classification_result"),
    "regress": _ExamplesApi(sig_lib.REGRESS_METHOD, "regression", sig_lib.regress_inputs,
                            sig_lib.regression_result, request_log.regress_request,
                            "regression_result"),
}
_API_BY_METHOD_NAME = {api.method_name: name for name, api in _EXAMPLES_APIS.items()}


class DataPlane:
    """Resolve, run and count every request the same way whichever front end received it, so REST
    and gRPC answer and are measured alike."""

    def __init__(self, repository: ModelRepository, metrics: Metrics,
                 batcher: Optional[BatchScheduler] = None, method_name_check: bool = False,
                 request_logs: Optional[RequestLogs] = None):
        self.repository = repository
        self.metrics = metrics
        self.batcher = batcher
        self.method_name_check = method_name_check
        self.request_logs = request_logs

    def _sampled_logger(self, name: str):
        """The model's request logger when this request is sampled (one dict lookup otherwise)."""
        if self.request_logs is None:
            return None
        logger = self.request_logs.get(name)
        return logger if logger is not None and logger.sampled() else None

    def _run(self, model: LoadedModel, signature: Signature, inputs: Dict[str, np.ndarray],
             output_filter=None, api: str = "predict") -> Dict[str, np.ndarray]:
        """Run the signature (through the batcher when on); the time it takes is TF Serving's
        runtime latency (the session run, batching queue included as in its batching session)."""
        start = time.perf_counter()
        if self.batcher is None or not signature.batchable:
            outputs = signature.run(inputs, output_filter)
        else:
            wanted = signature.output_keys(output_filter)
            key = (model.name, model.version, signature.name,
                   tuple(sorted((k, v.shape[1:], v.dtype.str) for k, v in inputs.items())))
            batched = self.batcher.submit(key, signature.run, inputs)
            outputs = {k: batched[k] for k in wanted}
        self.metrics.tf_serving.runtime(model.name, api, time.perf_counter() - start)
        return outputs

    def _timed(self, name: str, api: str, protocol: str, fn, version: Optional[int] = None,
               label: Optional[str] = None):
        """Resolve, call fn(model) and record the outcome under the resolved version and its
        label, so a failing version is counted as itself (canary watch compares versions by these
        numbers)."""
        start = time.perf_counter()
        model = None
        try:
            model = self.repository.resolve(name, version, label)
            result = fn(model)
        except errors.ServingError as e:
            self.metrics.observe(name, model.version if model else None, api, protocol, 0,
                                 e.code.name, self._label(model, label))
            raise
        except Exception as e:  # a server fault: counted, then answered as INTERNAL
            log.exception("%s %s of model %s failed unexpectedly", protocol, api, name)
            error = errors.unexpected(e)
            self.metrics.observe(name, model.version if model else None, api, protocol, 0,
                                 error.code.name, self._label(model, label))
            raise error from None
        self.metrics.observe(name, model.version, api, protocol, time.perf_counter() - start,
                             label=self._label(model, label))
        return model, result

    def _label(self, model: Optional[LoadedModel], requested: Optional[str]) -> str:
        """The label the request named, else the label this server gives the version (or "")."""
        if requested or model is None:
            return requested or ""
        held = sorted(k for k, v in self.repository.labels(model.name).items()
                      if v == model.version)
        return held[0] if held else ""

    def record_error(self, name: str, api: str, protocol: str, error: errors.ServingError):
        """For failures before the data plane is reached (e.g. a body that is not JSON)."""
        self.metrics.observe(name, None, api, protocol, 0, error.code.name)

    def predict(self, name: str, version: Optional[int], label: Optional[str],
                signature_name: str, decode: Callable[[Signature], Dict[str, np.ndarray]],
                output_filter: Iterable[str] = (), protocol: str = "grpc", request_proto=None
                ) -> Tuple[LoadedModel, Signature, Dict[str, np.ndarray]]:
        """Predict as TF Serving's handlers do, one call per request: resolve the servable, pick
        the signature, `decode(signature)` the wire inputs (REST needs the signature's dtypes),
        check and run. `request_proto` (the gRPC PredictRequest) is what a request log records,
        else the decoded inputs are."""
        def call(model):
            signature = model.signature(signature_name)
            sig_lib.check_method(signature, sig_lib.PREDICT_METHOD, "prediction",
                                 self.method_name_check)
            inputs = decode(signature)
            signature.check_inputs(inputs)
            return signature, inputs, self._run(model, signature, inputs, output_filter)
        model, (signature, inputs, outputs) = self._timed(name, "predict", protocol, call,
                                                          version, label)
        logger = self._sampled_logger(model.name)
        if logger is not None:
            logger.submit("predict", model, signature.name,
                          request_proto if request_proto is not None else inputs, outputs)
        return model, signature, outputs

    def classify_or_regress(self, api: str, name, version, label, signature_name, input_proto,
                            protocol="grpc", log_request=True):
        """Classify or Regress (`api`) the examples of a tensorflow.serving.Input; returns (model,
        signature, result proto). `log_request=False` leaves logging to the caller (MultiInference
        logs the whole request once)."""
        examples_api = _EXAMPLES_APIS[api]

        def call(model):
            signature = model.signature(signature_name)
            sig_lib.check_method(signature, examples_api.method_name, examples_api.kind,
                                 self.method_name_check)
            inputs = examples_api.inputs(signature, input_proto)
            n = next(iter(inputs.values())).shape[0]
            outputs = self._run(model, signature, inputs, api=api)
            return signature, examples_api.result(outputs, n)
        model, (signature, result) = self._timed(name, api, protocol, call, version, label)
        logger = self._sampled_logger(model.name) if log_request else None
        if logger is not None:
            logger.submit(api, model, signature.name, lambda: examples_api.request(
                name, version, label, signature_name, input_proto), result)
        return model, signature, result

    def multi_inference(self, request, protocol="grpc"):
        """MultiInference: several classify/regress tasks on one Input, all on the same model."""
        if not request.tasks:
            raise errors.invalid_argument("Tasks are empty")
        names = {t.model_spec.name for t in request.tasks}
        if len(names) != 1:
            raise errors.invalid_argument("All ModelSpecs in a MultiInferenceRequest must access "
                                          "the same model name.")
        response = inference_pb2.MultiInferenceResponse()
        for task in request.tasks:
            spec = task.model_spec
            version, label = model_spec_version(spec)
            api = _API_BY_METHOD_NAME.get(task.method_name)
            if api is None:
                raise errors.unimplemented_method(task.method_name)
            model, signature, result = self.classify_or_regress(
                api, spec.name, version, label, spec.signature_name, request.input, protocol,
                log_request=False)
            out = response.results.add()
            getattr(out, _EXAMPLES_APIS[api].result_field).CopyFrom(result)
            out.model_spec.name = model.name
            out.model_spec.version.value = model.version
            out.model_spec.signature_name = signature.name
        logger = self._sampled_logger(model.name)
        if logger is not None:
            logger.submit("multi_inference", model, "", request, response)
        return response

    def metadata(self, name, version=None, label=None, protocol="grpc"):
        """GetModelMetadata's response (signature_def only, the one field TF Serving serves);
        timed and counted like the inference APIs."""
        def call(model):
            response = get_model_metadata_pb2.GetModelMetadataResponse()
            response.model_spec.name = model.name
            response.model_spec.version.value = model.version
            response.metadata["signature_def"].Pack(model.signature_def_map())
            return response
        return self._timed(name, "metadata", protocol, call, version, label)[1]

    def status(self, name, version=None, label=None):
        """GetModelStatus's response: the repository's state of each version (not timed or
        counted: a status poll runs no model)."""
        return self.repository.status(name, version, label)


def model_spec_version(spec) -> Tuple[Optional[int], Optional[str]]:
    """(version, label) of a ModelSpec, at most one set: its version_choice is a oneof."""
    choice = spec.WhichOneof("version_choice")
    if choice == "version":
        return spec.version.value, None
    if choice == "version_label":
        return None, spec.version_label
    return None, None
