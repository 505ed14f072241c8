"""The local server for the conformance tests, HTTP and gRPC helpers (exact status codes and JSON
bodies), and client threads for the tests that change what is served under live traffic."""
import json
import os
import pathlib
import threading
import urllib.error
import urllib.request
from typing import Optional

from serving.server.process import ServerProcess, free_port

EXTERNAL_REST = os.environ.get("TFXP_SERVING_REST")
EXTERNAL_GRPC = os.environ.get("TFXP_SERVING_GRPC")


def local_server(root: pathlib.Path, *flags: str) -> ServerProcess:
    """`python -m serving` on `root`'s models.config and monitoring.config, ready for requests;
    its log (`.log()`) is kept beside `root`. `.root` is the models root."""
    rest_port = free_port()
    server = ServerProcess([f"--model_config_file={root / 'models.config'}",
                            f"--monitoring_config_file={root / 'monitoring.config'}", *flags],
                           log_path=root.parent / f"server-{rest_port}.log", rest_port=rest_port)
    server.root = root
    return server.wait_ready(timeout=90)


def http(server, method, path, body=None, raw=None):
    """(status, parsed JSON body) for a request to the server's REST port."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(f"http://{server.rest}{path}", data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, {"raw": text.decode(errors="replace")}


def stubs(server):
    import grpc
    from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc
    channel = grpc.insecure_channel(server.grpc)
    return (prediction_service_pb2_grpc.PredictionServiceStub(channel),
            model_service_pb2_grpc.ModelServiceStub(channel))


class ClientThreads:
    """Runs client loops on threads for the length of a `with` block; each loop returns once
    `stopped` is set. Subclasses pass their loops and record what the clients saw."""

    def __init__(self, *loops, daemon: bool = False, join_timeout: Optional[float] = None):
        self.stopped = threading.Event()
        self._join_timeout = join_timeout
        self._threads = [threading.Thread(target=loop, daemon=daemon) for loop in loops]

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        for t in self._threads:
            t.join(self._join_timeout)
