"""A loopback HTTP server speaking the part of the KFP v2beta1 REST API the kfp 2.13 client calls.

It records every request (method, path, query, headers, JSON body or uploaded file) so tests can
assert on exactly what the client sent, and keeps just enough state (experiments, pipelines,
versions, recurring runs, runs) to answer the follow-up calls. It is a contract test of the API
shape, not a KFP backend: nothing is scheduled or run. Every JSON body and query filter is
checked strictly against KFP's own v2beta1 messages (kfp_messages.py): an unknown or misspelled
field is answered 400 InvalidArgument, as KFP's API server answers it, and kept in `rejected`.
"""
import dataclasses
import email.parser
import email.policy
import itertools
import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional

from tests.kubeflow import kfp_messages

API = "/apis/v2beta1"
CREATED_AT = "2026-11-24T00:00:00Z"


@dataclasses.dataclass
class Request:
    method: str
    path: str
    query: Dict[str, str]
    headers: Dict[str, str]  # names lower-cased
    body: Any = None
    upload: Optional[bytes] = None


class FakeKfp:
    """State plus the request log. `page_size` caps list pages so clients must follow tokens."""

    def __init__(self, token: Optional[str] = None, multi_user: bool = False, page_size: int = 2):
        self.token = token
        self.multi_user = multi_user
        self.page_size = page_size
        self.requests: List[Request] = []
        self.experiments: List[Dict[str, Any]] = []
        self.pipelines: List[Dict[str, Any]] = []
        self.versions: List[Dict[str, Any]] = []
        self.uploads: Dict[str, bytes] = {}
        self.recurring_runs: List[Dict[str, Any]] = []
        self.runs: List[Dict[str, Any]] = []
        self.rejected: List[str] = []  # what the v2beta1 messages refused, one line per problem
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None

    def new_id(self, kind: str) -> str:
        return f"{kind}-{next(self._ids)}"

    def calls(self, method: str, path_pattern: str) -> List[Request]:
        return [r for r in self.requests
                if r.method == method and re.fullmatch(API + path_pattern, r.path)]

    def start(self) -> str:
        fake = self

        class Handler(_Handler):
            state = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


def _matches(item: Dict[str, Any], filter_json: Optional[str]) -> bool:
    if not filter_json:
        return True
    for predicate in json.loads(filter_json).get("predicates", []):
        if predicate["operation"] not in ("EQUALS", 1):
            raise ValueError(f"this fake only implements EQUALS filters: {predicate}")
        if item.get(predicate["key"]) != predicate["stringValue"]:
            return False
    return True


def _message_problems(request: Request) -> List[str]:
    """What KFP's v2beta1 messages refuse in the request's JSON body and its `filter` query."""
    found = []
    path = request.path[len(API):] if request.path.startswith(API) else request.path
    if request.method == "POST" and path in kfp_messages.BODY_MESSAGES:
        found += kfp_messages.problems(request.body or {}, kfp_messages.BODY_MESSAGES[path])
    if request.query.get("filter"):
        found += [f"filter: {p}" for p in kfp_messages.problems(
            json.loads(request.query["filter"]), kfp_messages.FILTER_MESSAGE)]
    return found


def _same_namespace(item: Dict[str, Any], query: Dict[str, str]) -> bool:
    """Unset and empty are the same namespace (single-user KFP)."""
    return (item.get("namespace") or None) == (query.get("namespace") or None)


class _Handler(BaseHTTPRequestHandler):
    state: FakeKfp
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _not_found(self, what: str) -> None:
        self._reply(404, {"error": what, "code": 5, "message": what})

    def _record(self) -> Request:
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        request = Request(self.command, url.path, query,
                          {key.lower(): value for key, value in self.headers.items()})
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
            for part in message.iter_parts():
                if part.get_param("name", header="content-disposition") == "uploadfile":
                    request.upload = part.get_payload(decode=True)
        elif raw:
            request.body = json.loads(raw)
        self.state.requests.append(request)
        return request

    def _authorized(self, request: Request) -> bool:
        if self.state.token and request.headers.get("authorization") != f"Bearer {self.state.token}":
            self._reply(401, {"error": "unauthenticated", "code": 16, "message": "no valid token"})
            return False
        return True

    def _page(self, items: List[Dict[str, Any]], key: str, request: Request) -> None:
        start = int(request.query.get("page_token") or 0)
        size = min(int(request.query.get("page_size") or 10), self.state.page_size)
        body: Dict[str, Any] = {key: items[start:start + size], "total_size": len(items)}
        if start + size < len(items):
            body["next_page_token"] = str(start + size)
        self._reply(200, body)

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def _dispatch(self):
        request = self._record()
        if not self._authorized(request):
            return
        refused = _message_problems(request)
        if refused:
            self.state.rejected += refused
            message = "; ".join(refused)
            return self._reply(400, {"error": message, "code": 3, "message": message})
        with self.state._lock:
            try:
                self._route(request)
            except Exception as error:  # a bug in a test or the fake: answer, do not hang up
                self._reply(500, {"error": repr(error), "code": 13, "message": repr(error)})

    def _route(self, request: Request) -> None:
        state, path, method, query = self.state, request.path, request.method, request.query
        if not path.startswith(API):
            return self._not_found(path)
        path = path[len(API):]
        if method == "GET" and path == "/healthz":
            return self._reply(200, {"multi_user": state.multi_user})
        if path == "/experiments":
            if method == "POST":
                return self._create(state.experiments, request, "experiment_id", "experiment",
                                    storage_state="AVAILABLE")
            found = [e for e in state.experiments if _matches(e, query.get("filter"))
                     and _same_namespace(e, query)]
            return self._page(found, "experiments", request)
        if path == "/pipelines":
            if method == "POST":
                return self._create(state.pipelines, request, "pipeline_id", "pipeline")
            found = [p for p in state.pipelines if _matches(p, query.get("filter"))
                     and _same_namespace(p, query)]
            return self._page(found, "pipelines", request)
        if path == "/pipelines/upload_version" and method == "POST":
            if not any(p["pipeline_id"] == query.get("pipelineid") for p in state.pipelines):
                return self._not_found(f"pipeline {query.get('pipelineid')}")
            version = self._add_version(query["pipelineid"], query["name"], request.upload)
            return self._reply(200, version)
        match = re.fullmatch(r"/pipelines/([^/]+)/versions", path)
        if match and method == "GET":
            found = [v for v in state.versions if v["pipeline_id"] == match.group(1)
                     and _matches(v, query.get("filter"))]
            return self._page(found, "pipeline_versions", request)
        if path == "/recurringruns":
            if method == "POST":
                return self._create(state.recurring_runs, request, "recurring_run_id", "recurring",
                                    status="ENABLED")
            found = [r for r in state.recurring_runs if _matches(r, query.get("filter"))
                     and ("experiment_id" not in query
                          or r.get("experiment_id") == query["experiment_id"])]
            return self._page(found, "recurringRuns", request)
        match = re.fullmatch(r"/recurringruns/([^/:]+)(:enable|:disable)?", path)
        if match:
            runs = [r for r in state.recurring_runs if r["recurring_run_id"] == match.group(1)]
            if not runs:
                return self._not_found(f"recurring run {match.group(1)}")
            if method == "POST" and match.group(2):
                enable = match.group(2) == ":enable"
                runs[0].update(mode="ENABLE" if enable else "DISABLE",
                               status="ENABLED" if enable else "DISABLED")
                return self._reply(200, {})
            if method == "DELETE" and not match.group(2):
                state.recurring_runs.remove(runs[0])
                return self._reply(200, {})
            if method == "GET" and not match.group(2):
                return self._reply(200, runs[0])
        if path == "/runs" and method == "POST":
            return self._create(state.runs, request, "run_id", "run", state="PENDING")
        return self._not_found(f"{method} {request.path}")

    def _create(self, items: List[Dict[str, Any]], request: Request, id_key: str, kind: str,
                **fields: Any) -> None:
        """A POST that creates a resource: the body plus a new `<kind>-N` id under `id_key`,
        CREATED_AT and the resource's initial `fields`, stored in `items` and echoed back."""
        item = dict(request.body, **{id_key: self.state.new_id(kind)}, created_at=CREATED_AT,
                    **fields)
        items.append(item)
        self._reply(200, item)

    def _add_version(self, pipeline_id: str, name: str, upload: Optional[bytes]) -> Dict[str, Any]:
        version = {"pipeline_id": pipeline_id, "display_name": name, "created_at": CREATED_AT,
                   "pipeline_version_id": self.state.new_id("version")}
        self.state.versions.append(version)
        self.state.uploads[version["pipeline_version_id"]] = upload or b""
        return version
