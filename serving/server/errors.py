"""Every client-visible error, defined once: gRPC code, HTTP status and TF Serving's wording.

Both front ends raise and catch `ServingError`; the REST handler turns it into
`{"error": message}` with `http_status`, the gRPC servicer into `context.abort(code, message)`.
The wording copies tensorflow_model_server's for the errors clients and scripts match on.
"""
import functools

import grpc

# tensorflow_serving/model_servers/http_server.cc ToHTTPStatusCode.
_HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}


class ServingError(Exception):
    """An error a client sees, with the same code on REST and gRPC."""

    def __init__(self, code: grpc.StatusCode, message: str, http_status: int = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status or _HTTP_STATUS[code]

    @property
    def error_code_value(self) -> int:
        """The numeric tensorflow.error.Code (same numbering as gRPC)."""
        return self.code.value[0]


# The codes raised with a message of the raiser's own; TF Serving's fixed wordings follow below.
invalid_argument = functools.partial(ServingError, grpc.StatusCode.INVALID_ARGUMENT)
failed_precondition = functools.partial(ServingError, grpc.StatusCode.FAILED_PRECONDITION)
not_found = functools.partial(ServingError, grpc.StatusCode.NOT_FOUND)
internal = functools.partial(ServingError, grpc.StatusCode.INTERNAL)
unavailable = functools.partial(ServingError, grpc.StatusCode.UNAVAILABLE)
deadline_exceeded = functools.partial(ServingError, grpc.StatusCode.DEADLINE_EXCEEDED)
unknown = functools.partial(ServingError, grpc.StatusCode.UNKNOWN)


def unexpected(error: BaseException) -> ServingError:
    """A server fault (a bug, not the client's mistake): INTERNAL / 500, logged with its traceback
    by the caller; the client sees the exception's type and first line, never a stack trace."""
    if isinstance(error, ServingError):
        return error
    text = str(error).strip().split("\n")[0][:500]
    return internal(f"Internal error while handling the request: {type(error).__name__}: {text}")


def method_not_allowed(method: str, path: str) -> ServingError:
    """REST only: 405 with the verbs the API takes, so a wrong verb on a known path is not
    mistaken for a missing model."""
    return ServingError(grpc.StatusCode.INVALID_ARGUMENT,
                        f"Method {method} is not allowed for {path}: use GET for model status and "
                        "metadata, POST for :predict, :classify and :regress", http_status=405)


def unimplemented_method(method: str) -> ServingError:
    """A MultiInference task asking for a method other than classify or regress."""
    return ServingError(grpc.StatusCode.UNIMPLEMENTED, f"Unsupported signature method_name: {method}")


def servable_not_found(name: str, version=None) -> ServingError:
    """TF Serving's wording for a model or version that is not being served: `Specific(name,
    version)` when a version was asked for, else `Latest(name)`."""
    request = f"Specific({name}, {version})" if version is not None else f"Latest({name})"
    return not_found(f"Servable not found for request: {request}")


def unrecognized_label(label: str, hint: str = "") -> ServingError:
    """A version label the model does not define: INVALID_ARGUMENT, in TF Serving's words; `hint`
    (a serving group behind the canary router) follows them, naming where the label is served."""
    return invalid_argument(f"Unrecognized servable version label: {label}"
                            + (f" ({hint})" if hint else ""))


def no_versions(name: str) -> ServingError:
    """Model status for a model the server does not know or holds no version of, in any state."""
    return not_found(f"Could not find any versions of model {name}")


def version_not_found(name: str, version: int) -> ServingError:
    """Model status for a version the model's version policy does not list."""
    return not_found(f"Could not find version {version} of model {name}")


def malformed_request(method: str, path: str) -> ServingError:
    """A REST request that matches no /v1/models route, in TF Serving's words."""
    return invalid_argument(f"Malformed request: {method} {path}")


def signature_not_found(signature: str) -> ServingError:
    """A signature key the SavedModel lacks: FAILED_PRECONDITION, as in TF Serving."""
    return failed_precondition(f'Serving signature key "{signature}" not found.')


def body_too_large(size: int, limit: int) -> ServingError:
    """A REST body over --rest_api_max_body_bytes: 413, refused before it is parsed."""
    return ServingError(grpc.StatusCode.RESOURCE_EXHAUSTED,
                        f"Request body of {size} bytes exceeds the limit of {limit} bytes",
                        http_status=413)


def label_unavailable(name: str, label: str, version: int) -> ServingError:
    """A config that labels a version not yet available: refused, as in TF Serving, unless
    --allow_version_labels_for_unavailable_models is set."""
    return failed_precondition(
        f"Request to assign label to version {version} of model {name}, which is not currently "
        f"available for inference. (label: {label})")
