"""gRPC front end: the official tensorflow_serving.apis servicers over the data plane."""
import concurrent.futures
import logging
import os
import pathlib
from typing import Optional

import grpc
from tensorflow_serving.apis import (classification_pb2, model_management_pb2, model_service_pb2_grpc,
                                     predict_pb2, prediction_service_pb2_grpc, regression_pb2)

from serving.server import errors, tensor_codec
from serving.server.dataplane import DataPlane, model_spec_version

log = logging.getLogger("tfxp.serving")


def _guard(method):
    """ServingError -> the same gRPC status code and message TF Serving sends; any other exception
    is a server fault: INTERNAL, logged and counted (the data plane counts the ones it sees)."""
    def wrapper(self, request, context):
        try:
            return method(self, request, context)
        except errors.ServingError as e:
            error = e
        except Exception as e:  # never let a fault become UNKNOWN with a Python traceback
            log.exception("gRPC %s failed unexpectedly", method.__name__)
            error = errors.unexpected(e)
            spec = getattr(request, "model_spec", None)
            self.plane.record_error(spec.name if spec is not None else "", method.__name__,
                                    "grpc", error)
        context.abort(error.code, error.message)
    wrapper.__name__ = method.__name__
    return wrapper


def _spec(request):
    spec = request.model_spec
    if not spec.name:
        raise errors.invalid_argument("Missing ModelSpec")
    version, label = model_spec_version(spec)
    return spec.name, version, label, spec.signature_name


def _fill_spec(target, model, signature_name):
    target.name = model.name
    target.version.value = model.version
    target.signature_name = signature_name


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    """tensorflow.serving.PredictionService over the data plane, with TF Serving's status codes."""

    def __init__(self, dataplane: DataPlane):
        self.plane = dataplane

    @_guard
    def Predict(self, request, context):
        """Decodes the TensorProtos, runs the data plane and encodes the outputs."""
        name, version, label, signature_name = _spec(request)
        model, signature, outputs = self.plane.predict(
            name, version, label, signature_name, lambda _: tensor_codec.request_inputs(request),
            request.output_filter, protocol="grpc", request_proto=request)
        response = predict_pb2.PredictResponse()
        _fill_spec(response.model_spec, model, signature.name)
        for key, value in outputs.items():
            tensor_codec.fill_proto(response.outputs[key], value)
        return response

    @_guard
    def Classify(self, request, context):
        """Runs the data plane's classify; the response names the version that answered."""
        return self._classify_or_regress("classify", request,
                                         classification_pb2.ClassificationResponse)

    @_guard
    def Regress(self, request, context):
        """Runs the data plane's regress; the response names the version that answered."""
        return self._classify_or_regress("regress", request, regression_pb2.RegressionResponse)

    def _classify_or_regress(self, api: str, request, response_type):
        name, version, label, signature_name = _spec(request)
        model, signature, result = self.plane.classify_or_regress(
            api, name, version, label, signature_name, request.input)
        response = response_type(result=result)
        _fill_spec(response.model_spec, model, signature.name)
        return response

    @_guard
    def MultiInference(self, request, context):
        """Passes the request to the data plane, which checks that all tasks name one model."""
        return self.plane.multi_inference(request)

    @_guard
    def GetModelMetadata(self, request, context):
        """Adds TF Serving's check that only `signature_def` metadata is asked for."""
        name, version, label, _ = _spec(request)
        if not request.metadata_field:
            raise errors.invalid_argument(
                "GetModelMetadataRequest must specify at least one metadata_field")
        for field in request.metadata_field:
            if field != "signature_def":
                raise errors.invalid_argument(f"Metadata field {field} is not supported")
        return self.plane.metadata(name, version, label)


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    """tensorflow.serving.ModelService: version status, and config reloads that return once the
    new config's versions are served."""

    def __init__(self, dataplane: DataPlane, reload_config):
        self.plane = dataplane
        self.reload_config = reload_config

    @_guard
    def GetModelStatus(self, request, context):
        """Answers from the model repository's version states."""
        name, version, label, _ = _spec(request)
        return self.plane.status(name, version, label)

    @_guard
    def HandleReloadConfigRequest(self, request, context):
        """Applies the new ModelServerConfig through the server's reload (the same path a
        --model_config_file poll takes)."""
        self.reload_config(request.config, source="HandleReloadConfigRequest")
        response = model_management_pb2.ReloadConfigResponse()
        response.status.error_code = 0
        return response


def default_root_certificates() -> bytes:
    """The roots gRPC trusts when none are given (its bundled roots.pem, or the file
    GRPC_DEFAULT_SSL_ROOTS_FILE_PATH names, as gRPC core reads them)."""
    path = os.environ.get("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH") or (
        pathlib.Path(grpc.__file__).parent / "_cython" / "_credentials" / "roots.pem")
    return pathlib.Path(path).read_bytes()


def server_credentials(ssl_config) -> grpc.ServerCredentials:
    """TF Serving's BuildServerCredentialsFromSSLConfigFile: the key/certificate pair, client
    certificates required and verified when client_verify is set (against custom_ca, else gRPC's
    default roots, which the C++ server falls back to), custom_ca otherwise only as given."""
    roots = ssl_config.custom_ca.encode() if ssl_config.custom_ca else None
    if ssl_config.client_verify and roots is None:
        roots = default_root_certificates()
    return grpc.ssl_server_credentials(
        [(ssl_config.server_key.encode(), ssl_config.server_cert.encode())],
        root_certificates=roots, require_client_auth=ssl_config.client_verify)


def make_server(dataplane: DataPlane, reload_config, addresses, max_workers: int,
                channel_arguments=(), credentials: Optional[grpc.ServerCredentials] = None
                ) -> grpc.Server:
    """One gRPC server on every address (`host:port`, `unix:/path`); `channel_arguments` (from
    --grpc_channel_arguments) override the defaults, as in TF Serving. With `credentials`
    (--ssl_config_file) every address, the UNIX socket included, is TLS only, as in TF Serving."""
    options = dict([("grpc.max_receive_message_length", -1),
                    ("grpc.max_send_message_length", -1), ("grpc.so_reuseport", 0)])
    options.update(channel_arguments)
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers, "grpc"),
                         options=list(options.items()))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionService(dataplane), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(
        ModelService(dataplane, reload_config), server)
    for address in addresses:
        try:
            bound = (server.add_insecure_port(address) if credentials is None
                     else server.add_secure_port(address, credentials))
        except RuntimeError:
            bound = 0
        if bound == 0:
            raise OSError(f"could not bind gRPC address {address}")
    return server

