"""Every client-visible error, defined once: gRPC code, HTTP status and TF Serving's wording.

Both front ends raise and catch `ServingError`; the REST handler turns it into
`{"error": message}` with `http_status`, the gRPC servicer into `context.abort(code, message)`.
The wording copies tensorflow_model_server's for the errors clients and scripts match on.
"""
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


def invalid_argument(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.INVALID_ARGUMENT, message)


def failed_precondition(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.FAILED_PRECONDITION, message)


def not_found(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.NOT_FOUND, message)


def internal(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.INTERNAL, message)


def unavailable(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.UNAVAILABLE, message)


def deadline_exceeded(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.DEADLINE_EXCEEDED, message)


def unexpected(error: BaseException) -> ServingError:
    """A server fault (a bug, not the client's mistake): INTERNAL / 500, logged with its traceback
    by the caller; the client sees the exception's type and first line, never a stack trace."""
    if isinstance(error, ServingError):
        return error
    text = str(error).strip().split("\n")[0][:500]
    return internal(f"Internal error while handling the request: {type(error).__name__}: {text}")


def method_not_allowed(method: str, path: str) -> ServingError:
    return ServingError(grpc.StatusCode.INVALID_ARGUMENT,
                        f"Method {method} is not allowed for {path}: use GET for model status and "
                        "metadata, POST for :predict, :classify and :regress", http_status=405)


def unknown(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.UNKNOWN, message)


def unimplemented_method(method: str) -> ServingError:
    return ServingError(grpc.StatusCode.UNIMPLEMENTED, f"Unsupported signature method_name: {method}")


def servable_not_found(name: str, version=None) -> ServingError:
    request = f"Specific({name}, {version})" if version is not None else f"Latest({name})"
    return not_found(f"Servable not found for request: {request}")


def unrecognized_label(label: str) -> ServingError:
    return invalid_argument(f"Unrecognized servable version label: {label}")


def no_versions(name: str) -> ServingError:
    return not_found(f"Could not find any versions of model {name}")


def version_not_found(name: str, version: int) -> ServingError:
    return not_found(f"Could not find version {version} of model {name}")


def malformed_request(method: str, path: str) -> ServingError:
    return invalid_argument(f"Malformed request: {method} {path}")


def signature_not_found(signature: str) -> ServingError:
    return failed_precondition(f'Serving signature key "{signature}" not found.')


def body_too_large(size: int, limit: int) -> ServingError:
    return ServingError(grpc.StatusCode.RESOURCE_EXHAUSTED,
                        f"Request body of {size} bytes exceeds the limit of {limit} bytes",
                        http_status=413)


def label_unavailable(name: str, label: str, version: int) -> ServingError:
    return failed_precondition(
        f"Request to assign label to version {version} of model {name}, which is not currently "
        f"available for inference. (label: {label})")
