"""REST front end (tornado): TF Serving's /v1 API translated onto the data plane.

Routing uses TF Serving's own path regexes; every error is a ServingError rendered as
`{"error": "..."}` with its mapped HTTP status. Model calls run on a thread pool so the IO loop
keeps accepting requests; bodies over the limit are refused from the headers (413) before reading.
"""
import asyncio
import concurrent.futures
import json
import logging
import re
import urllib.parse
from typing import Optional

import tornado.httpserver
import tornado.httputil
import tornado.web
from google.protobuf import json_format

from serving.server import errors, json_codec
from serving.server.dataplane import DataPlane

log = logging.getLogger("tfxp.serving")

_PREDICT = re.compile(r"(?i)/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?"
                      r":(classify|regress|predict)")
_STATUS = re.compile(r"(?i)/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?"
                     r"(?:/(metadata))?")
_INT64_MAX = 2 ** 63 - 1
# Bodies over --rest_api_max_body_bytes are read and dropped up to this size so the client gets its
# 413; only beyond it does tornado close the connection.
_DRAIN_LIMIT_BYTES = 1 << 34


def _version(text: Optional[str]) -> Optional[int]:
    if not text:
        return None
    value = int(text)
    if value > _INT64_MAX:
        raise errors.invalid_argument(f"Failed to convert version: {text} to numeric.")
    return value


def _name(text: Optional[str]) -> Optional[str]:
    return urllib.parse.unquote(text) if text is not None else None


class JsonErrorHandler(tornado.web.RequestHandler):
    """Every answer is JSON, including tornado's own errors (unknown HTTP method, bad request)."""

    def set_default_headers(self):
        """Tornado override: JSON content type on every answer, errors included."""
        self.set_header("Content-Type", "application/json")

    def _error(self, e: errors.ServingError):
        self.set_status(e.http_status, reason=None if e.http_status != 499 else "Client Closed")
        self.finish(json.dumps({"error": e.message}))

    def write_error(self, status_code: int, **kwargs):
        """Tornado override: its own errors and unexpected exceptions answer `{"error": ...}`."""
        exc = kwargs.get("exc_info", (None, None))[1]
        if isinstance(exc, tornado.web.HTTPError) or exc is None:
            reason = (getattr(exc, "reason", None)
                      or tornado.httputil.responses.get(status_code, "error"))
            message = (f"Method {self.request.method} is not allowed for {self.request.path}"
                       if status_code == 405 else reason)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"error": message}))
            return
        log.error("REST %s %s failed unexpectedly", self.request.method, self.request.path,
                  exc_info=kwargs.get("exc_info"))
        self.set_status(500)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": errors.unexpected(exc).message}))


class ApiHandler(JsonErrorHandler):
    """All /v1 requests; one handler so unknown paths get TF Serving's 'Malformed request'.

    A body over --rest_api_max_body_bytes is read and dropped, then answered 413 (closing the
    socket with unread data would reset the connection before the client sees the answer)."""

    def initialize(self, server):
        """Tornado override: the RestServer (data plane, limits, executor) from the route."""
        self.server = server
        self.body_parts = []
        self.body_size = 0
        self.too_large = False

    def prepare(self):
        """Tornado override: judge the body size from Content-Length before reading any of it."""
        try:
            length = int(self.request.headers.get("Content-Length", "0") or 0)
        except ValueError:
            length = 0
        if length > self.server.max_body_bytes:
            self.too_large = True
            self.body_size = length

    def data_received(self, chunk: bytes):
        """Tornado override (streamed body): keep chunks until the limit, then drop the rest."""
        if self.too_large:
            return
        self.body_size += len(chunk)
        if self.body_size > self.server.max_body_bytes:
            self.too_large = True
            self.body_parts = []
            return
        self.body_parts.append(chunk)

    async def get(self, *_):
        """Tornado override: model status and metadata."""
        await self._dispatch("GET")

    async def post(self, *_):
        """Tornado override: predict, classify and regress."""
        await self._dispatch("POST")

    async def _not_allowed(self, *_):
        self.set_header("Allow", "GET, POST")
        self._error(errors.method_not_allowed(self.request.method, self.request.path))

    delete = put = patch = options = head = _not_allowed

    async def _dispatch(self, method: str):
        path = self.request.path
        if self.too_large:
            self._error(errors.body_too_large(self.body_size, self.server.max_body_bytes))
            return
        try:
            body = b"".join(self.body_parts)
            match = _PREDICT.fullmatch(path) if method == "POST" else None
            if match:
                name, version, label, api = match.groups()
                result = await self._call(self._predict_like, _name(name), _version(version),
                                          _name(label), api.lower(), body)
            else:
                match = _STATUS.fullmatch(path) if method == "GET" else None
                if not match:
                    raise errors.malformed_request(method, path)
                name, version, label, metadata = match.groups()
                if not name:
                    raise errors.invalid_argument("Missing model name in request.")
                result = await self._call(self._status_or_metadata, _name(name),
                                          _version(version), _name(label), bool(metadata))
        except errors.ServingError as e:
            if e.http_status >= 500:
                log.error("REST %s %s failed: %s", method, path, e.message)
            self._error(e)
            return
        except Exception as e:  # a server fault: JSON 500, logged and counted
            log.exception("REST %s %s failed unexpectedly", method, path)
            error = errors.unexpected(e)
            self.server.dataplane.record_error("", "rest", "rest", error)
            self._error(error)
            return
        self.finish(result)

    async def _call(self, fn, *args):
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.server.executor, fn, *args)
        try:
            return await asyncio.wait_for(future, self.server.timeout_s)
        except asyncio.TimeoutError:
            raise errors.deadline_exceeded(
                f"Request did not finish within --rest_api_timeout_in_ms="
                f"{int(self.server.timeout_s * 1000)}") from None

    def _predict_like(self, name, version, label, api, body) -> str:
        plane: DataPlane = self.server.dataplane
        try:
            doc = json_codec.loads(body)
            signature_name = json_codec.signature_name(doc)
            if api != "predict":
                input_proto = json_codec.decode_examples(doc)
        except errors.ServingError as e:
            plane.record_error(name, api, "rest", e)
            raise
        if api == "predict":
            formats = []

            def decode(signature):
                inputs, fmt = json_codec.decode_predict(doc, signature)
                formats.append(fmt)
                return inputs
            _, _, outputs = plane.predict(name, version, label, signature_name, decode,
                                          protocol="rest")
            return json.dumps(json_codec.encode_predict(outputs, formats[0]))
        _, _, result = plane.classify_or_regress(api, name, version, label, signature_name,
                                                 input_proto, protocol="rest")
        encode = (json_codec.encode_classification if api == "classify"
                  else json_codec.encode_regression)
        return json.dumps(encode(result))

    def _status_or_metadata(self, name, version, label, metadata: bool) -> str:
        plane: DataPlane = self.server.dataplane
        if not metadata:
            response = plane.status(name, version, label)
            return json.dumps(json_format.MessageToDict(
                response, preserving_proto_field_name=True, including_default_value_fields=True),
                indent=1)
        response = plane.metadata(name, version, label, protocol="rest")
        from tensorflow_serving.apis import get_model_metadata_pb2
        sig_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(sig_map)
        return json.dumps({
            "model_spec": {"name": response.model_spec.name, "signature_name": "",
                           "version": str(response.model_spec.version.value)},
            "metadata": {"signature_def": json_format.MessageToDict(
                sig_map, preserving_proto_field_name=True, including_default_value_fields=True)},
        }, indent=1)


ApiHandler = tornado.web.stream_request_body(ApiHandler)


class MetricsHandler(JsonErrorHandler):
    """Prometheus scrapes at the monitoring config's path (only routed when it enables it)."""

    def initialize(self, server):
        """Tornado override: the RestServer whose metrics this handler exposes."""
        self.server = server

    def get(self):
        """Tornado override: the registry in Prometheus text format."""
        self.set_header("Content-Type", "text/plain; version=0.0.4")
        self.finish(self.server.dataplane.metrics.exposition())


class NotFoundHandler(JsonErrorHandler):
    """Paths outside /v1 and the metrics path: a JSON 404, not tornado's HTML page."""

    def prepare(self):
        """Tornado override: answer 404 for any method before a method handler runs."""
        self.set_status(404)
        self.finish(json.dumps({"error": f"Unknown path: {self.request.path}"}))


class RestServer:
    """Runs the tornado app on its own IO loop thread (started by serving.server.server)."""

    def __init__(self, dataplane: DataPlane, host: str, port: int, timeout_ms: int,
                 max_body_bytes: int, threads: int, metrics_path: Optional[str]):
        self.dataplane = dataplane
        self.host, self.port = host, port
        self.timeout_s = timeout_ms / 1000.0 if timeout_ms > 0 else None
        self.max_body_bytes = max_body_bytes
        self.executor = concurrent.futures.ThreadPoolExecutor(threads, "rest")
        routes = []
        if metrics_path:
            routes.append((re.escape(metrics_path), MetricsHandler, {"server": self}))
        routes.append((r"(?i)/v1(?:/.*)?", ApiHandler, {"server": self}))
        self.app = tornado.web.Application(routes, default_handler_class=NotFoundHandler)
        self.http_server = None

    def start(self) -> None:
        """Call on the IO loop thread."""
        self.http_server = tornado.httpserver.HTTPServer(
            self.app, max_body_size=_DRAIN_LIMIT_BYTES)
        self.http_server.listen(self.port, address=self.host)

    def stop(self) -> None:
        """Stop accepting connections and drop queued model calls; call on the IO loop thread."""
        if self.http_server is not None:
            self.http_server.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)
