"""ML Metadata's gRPC service (`ml_metadata.MetadataStoreService`) on loopback, over ml-metadata's
own store on SQLite: the server KFP's driver and launcher talk to on a cluster.

The ml-metadata wheel ships no `metadata_store_server` binary, but its Python extension holds the
C++ MetadataStore and exposes each RPC as a function over serialized request and response bytes
(what `MetadataStore` itself calls when given a database connection). This servicer forwards
every RPC's bytes to that function unchanged, so answers and errors are the store's own. RPCs
the extension lacks (GetLineageGraph, Get{Parent,Children}ContextsByContexts) answer
UNIMPLEMENTED naming themselves.

`python -m kubeflow.mlmd_server --sqlite PATH [--port N]` serves until interrupted.
"""
import argparse
import concurrent.futures
import pathlib
import sys
import threading
from typing import List, Optional

import grpc
from ml_metadata.metadata_store.pywrap.metadata_store_extension import metadata_store as store_cc
from ml_metadata.proto import metadata_store_pb2, metadata_store_service_pb2

SERVICE = metadata_store_service_pb2.DESCRIPTOR.services_by_name["MetadataStoreService"]


class MetadataStoreServer:
    """A gRPC server on 127.0.0.1 whose every MetadataStoreService RPC runs on one SQLite store.
    `start()` returns the port; `stop()` shuts it down."""

    def __init__(self, sqlite_path: pathlib.Path, port: int = 0):
        config = metadata_store_pb2.ConnectionConfig()
        config.sqlite.filename_uri = str(sqlite_path)
        config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
        migration = metadata_store_pb2.MigrationOptions(enable_upgrade_migration=True)
        self._store = store_cc.CreateMetadataStore(config.SerializeToString(),
                                                   migration.SerializeToString())
        # The SQLite store is one connection: RPCs run one at a time, as on a single-writer DB.
        self._lock = threading.Lock()
        self._server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=4))
        self._server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
            SERVICE.full_name, {method.name: grpc.unary_unary_rpc_method_handler(
                self._handler(method.name)) for method in SERVICE.methods})])
        self._requested_port = port
        self.port: Optional[int] = None

    def _handler(self, name: str):
        function = getattr(store_cc, name, None)

        def call(request: bytes, context: grpc.ServicerContext) -> bytes:
            if function is None:
                context.abort(grpc.StatusCode.UNIMPLEMENTED,
                              f"{name} is not in ml-metadata's Python store extension")
            with self._lock:
                response, message, code = function(self._store, request)
            if code != 0:  # absl status codes are gRPC's codes
                context.abort(_status(code), message.decode("utf-8", "replace"))
            return response

        return call

    def implemented(self) -> List[str]:
        """The RPC names this server answers (all of the service's but those listed above)."""
        return [m.name for m in SERVICE.methods if hasattr(store_cc, m.name)]

    def start(self) -> int:
        """Binds 127.0.0.1 (the given port, or a free one) and starts serving; returns the port."""
        self.port = self._server.add_insecure_port(f"127.0.0.1:{self._requested_port}")
        if not self.port:
            raise OSError(f"cannot bind 127.0.0.1:{self._requested_port}")
        self._server.start()
        return self.port

    def wait(self) -> None:
        """Blocks until the server stops."""
        self._server.wait_for_termination()

    def stop(self, grace: float = 1.0) -> None:
        """Stops serving; in-flight RPCs get `grace` seconds."""
        self._server.stop(grace).wait()


def _status(code: int) -> grpc.StatusCode:
    return next((s for s in grpc.StatusCode if s.value[0] == code), grpc.StatusCode.UNKNOWN)


def main(argv: Optional[List[str]] = None) -> int:
    """Serves ML Metadata on 127.0.0.1 until interrupted (SIGINT/SIGTERM)."""
    parser = argparse.ArgumentParser(prog="python -m kubeflow.mlmd_server", description=__doc__)
    parser.add_argument("--sqlite", required=True, type=pathlib.Path,
                        help="the SQLite database (created when missing)")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args(argv)
    server = MetadataStoreServer(args.sqlite, args.port)
    port = server.start()
    print(f"ML Metadata gRPC on 127.0.0.1:{port} (SQLite {args.sqlite})", flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
