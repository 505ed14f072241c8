"""The local model server: tensorflow_model_server's flags, one repository, REST + gRPC.

Must not import TFX (tests/serving asserts it): it is what production's TF Serving container stands
in for on machines without Docker, and the infra validator starts it in a subprocess.
"""
import argparse
import asyncio
import logging
import pathlib
import shutil
import signal
import sys
import threading
import time
from typing import List, Tuple

from data import settings
from serving.config import configs
from serving.config.flag_spellings import add_flag
from serving.server import errors

log = logging.getLogger("tfxp.serving")

DEFAULT_MAX_BODY_BYTES = 64 << 20

# tensorflow_model_server flags the local server accepts but does not implement (GPU, TPU, TFRT,
# TFLite, tuning knobs): each is accepted in the same --flag=value form and ignored with a
# one-line warning, so existing start-up scripts run unchanged. None of them narrows who may
# connect or what is trusted: such a flag is implemented (--ssl_config_file) or refused at
# start-up (--use_alts_credentials), never ignored.
IGNORED_FLAGS = (
    "rest_api_enable_cors_support", "enable_per_model_batching_parameters",
    "max_num_load_retries", "load_retry_interval_micros", "flush_filesystem_caches",
    "tensorflow_session_config_file",
    "platform_config_file", "per_process_gpu_memory_fraction",
    "saved_model_tags", "remove_unused_fields_from_bundle_metagraph",
    "prefer_tflite_model", "num_tflite_pools", "num_tflite_interpreters_per_pool",
    "num_tflite_interpreters", "use_tflite_model", "xla_cpu_compilation_enabled",
    "xla_gpu_compilation_enabled", "enable_profiler", "thread_pool_factory_config_file",
    "mixed_precision", "skip_initialize_tpu", "enable_grpc_healthcheck_service",
    "num_load_threads", "num_unload_threads", "use_tfrt", "enable_model_single_op_warmup",
    "tfrt_enable_graph_partition", "enable_fast_path", "gpu_memory_fraction",
    "enable_session_metadata", "response_tensor_pool", "model_warmup_timeout_seconds",
)


def _bool(text) -> bool:
    if isinstance(text, bool):
        return text
    value = str(text).strip().lower()
    if value in ("1", "true", "t", "yes", "y"):
        return True
    if value in ("0", "false", "f", "no", "n"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


class _Ignored(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        shown = option_string if values is None else f"{option_string}={values}"
        namespace.ignored_flags = list(getattr(namespace, "ignored_flags", None) or []) + [shown]


def add_server_flags(parser: argparse.ArgumentParser) -> None:
    """tensorflow_model_server's flags (same names, --flag=value form) plus four local ones."""
    def flag(name, **kw):
        parser.add_argument(f"--{name}", **kw)

    def bool_flag(name, default, help_text):
        flag(name, type=_bool, nargs="?", const=True, default=default, metavar="BOOL",
             help=help_text)

    flag("port", type=int, default=8500, help="gRPC port (default 8500)")
    flag("rest_api_port", type=int, default=8501,
         help="REST port; 0 disables REST (default 8501)")
    flag("rest_api_num_threads", type=int, default=16, help="REST worker threads")
    flag("rest_api_timeout_in_ms", type=int, default=30000,
         help="REST request timeout in ms; <=0 means none (default 30000)")
    flag("grpc_max_threads", type=int, default=16, help="gRPC worker threads")
    flag("grpc_socket_path", default="",
         help="also serve gRPC on this UNIX domain socket (default: none)")
    flag("ssl_config_file", default="",
         help="SSLConfig text proto (server_key, server_cert, custom_ca, client_verify): TLS on "
              "the gRPC port, mutual TLS with client_verify (default: plaintext)")
    bool_flag("use_alts_credentials", False,
              "ALTS credentials on the gRPC port: not available locally, start-up fails when set")
    flag("grpc_channel_arguments", default="",
         help="gRPC server channel arguments, comma-separated key=value (e.g. "
              "grpc.max_concurrent_streams=100)")
    flag("model_config_file", default="",
         help="ModelServerConfig text proto (default: serving/models/models.config)")
    flag("model_config_file_poll_wait_seconds", type=int, default=0,
         help="re-read --model_config_file every N seconds (0: never)")
    flag("model_name", default="default", help="model name when no config file is given")
    flag("model_base_path", default="", help="model base path when no config file is given")
    flag("file_system_poll_wait_seconds", type=int, default=1,
         help="scan for new versions every N seconds (0: only at start)")
    bool_flag("enable_batching", False, "batch concurrent requests on the server")
    flag("batching_parameters_file", default="", help="BatchingParameters text proto")
    flag("monitoring_config_file", default="", help="MonitoringConfig text proto (Prometheus)")
    bool_flag("allow_version_labels", True, "allow version_labels in the model config")
    bool_flag("allow_version_labels_for_unavailable_models", False,
              "let labels point at versions that are not loaded yet")
    bool_flag("enable_model_warmup", True, "replay assets.extra/tf_serving_warmup_requests")
    flag("num_request_iterations_for_warmup", type=int, default=1,
         help="times each warmup record is replayed")
    bool_flag("enable_signature_method_name_check", False,
              "require predict/classify/regress method names on signatures")
    flag("version", action="store_true", help="print the version and exit")
    flag("tensorflow_session_parallelism", type=int, default=0,
         help="threads of each op and between ops (0: TensorFlow picks); not with the two below")
    flag("tensorflow_intra_op_parallelism", type=int, default=0,
         help="threads to parallelize one op (0: TensorFlow picks)")
    flag("tensorflow_inter_op_parallelism", type=int, default=0,
         help="threads to run independent ops (0: TensorFlow picks; negative, with a positive "
              "intra-op count: a session runs its ops in the calling thread)")
    flag("grpc_frontend", choices=("python", "native"), default="python",
         help="[local server only] what answers the gRPC port: this Python server, or the "
              "native front end (Go over TensorFlow's C API, built with `make native`) that "
              "answers Predict itself and hands every other call to this server")
    flag("host", default="127.0.0.1",
         help="[local server only] address to bind both ports to (default 127.0.0.1)")
    flag("rest_api_max_body_bytes", type=int, default=DEFAULT_MAX_BODY_BYTES,
         help="[local server only] larger REST bodies get 413 (default 64 MiB)")
    flag("unrecognized_label_hint", default="",
         help="[local server only] text added to the 'Unrecognized servable version label' "
              "refusal; the canary router names there the group that serves the label")
    add_flag(parser, "--models-root", "--models_root", type=pathlib.Path,
             default=settings.SERVING_ROOT,
             help="[local server only] models root served when no config flags are given")
    for name in IGNORED_FLAGS:
        flag(name, action=_Ignored, nargs="?", default=None, help=argparse.SUPPRESS)
    parser.set_defaults(ignored_flags=[], keeps_unknown_flags=True)


class ModelServer:
    """Owns the repository, the data plane and both front ends; `start()` blocks for the initial load."""

    def __init__(self, args):
        # Flag and config-file mistakes end start-up before TensorFlow is even imported.
        self.channel_arguments = parse_channel_arguments(args.grpc_channel_arguments)
        if args.use_alts_credentials:
            raise configs.ConfigError(
                "--use_alts_credentials: ALTS (Google Cloud's workload credentials) is not "
                "available to the local server; refusing to start without the credentials asked "
                "for (use --ssl_config_file for TLS)")
        if args.grpc_frontend == "native" and self.channel_arguments:
            raise configs.ConfigError(
                "--grpc_channel_arguments: the native gRPC front end cannot apply gRPC core "
                "channel arguments; refusing to start without them (drop the flag, or use "
                "--grpc_frontend=python)")
        self.intra_op, self.inter_op = session_parallelism(args)
        self.ssl_config = (configs.read_ssl_config(args.ssl_config_file)
                           if args.ssl_config_file else None)
        self.config_path, config_dir, self.config = self._initial_config(args)
        from serving.server.batching import BatchScheduler
        from serving.server.dataplane import DataPlane
        from serving.server.metrics import Metrics
        from serving.server.repository import ModelRepository
        from serving.server.request_log import RequestLogs
        from serving.server.warmup import run_warmup

        self.args = args
        _set_tensorflow_threads(self.intra_op, self.inter_op)
        self.metrics = Metrics()
        self.repository = ModelRepository(
            config_dir=config_dir,
            allow_labels=args.allow_version_labels,
            allow_labels_for_unavailable=args.allow_version_labels_for_unavailable_models,
            warmup=args.enable_model_warmup, warmup_iterations=args.num_request_iterations_for_warmup,
            warmup_runner=run_warmup,
            on_change=lambda n, v, s: self.metrics.model_state.labels(n, str(v)).set(s),
            load_observer=self.metrics.tf_serving,
            label_hint=args.unrecognized_label_hint)
        batcher = None
        if args.enable_batching:
            if args.batching_parameters_file:
                path = pathlib.Path(args.batching_parameters_file)
                params = configs.parse_batching_config(path.read_text(), str(path))
            else:
                from serving.config import protos
                params = protos.BatchingParameters()
            batcher = BatchScheduler(params, on_batch=self.metrics.batch_size.observe)
        self.batcher = batcher
        self.request_logs = RequestLogs(config_dir)
        self.request_logs.configure(self.config)
        self.dataplane = DataPlane(self.repository, self.metrics, batcher,
                                   args.enable_signature_method_name_check, self.request_logs)
        self.metrics_path = None
        if args.monitoring_config_file:
            path = pathlib.Path(args.monitoring_config_file)
            monitoring = configs.parse_monitoring_config(path.read_text(), str(path))
            if monitoring.prometheus_config.enable:
                self.metrics_path = monitoring.prometheus_config.path or configs.PROMETHEUS_PATH
        self._stop = threading.Event()
        self._config_text = self.config_path.read_text() if self.config_path else None
        self.grpc_server = None
        self.native = None
        self._backend_dir = None
        self.rest = None
        self._loop = None
        self._threads: List[threading.Thread] = []
        self.grpc_port = args.port
        self.rest_port = args.rest_api_port

    @staticmethod
    def _initial_config(args):
        from tensorflow_serving.config import model_server_config_pb2
        if args.model_config_file:
            path = pathlib.Path(args.model_config_file).resolve()
            return path, path.parent, configs.read_models_config(path)
        if args.model_base_path:
            config = model_server_config_pb2.ModelServerConfig()
            entry = config.model_config_list.config.add()
            entry.name = configs.check_model_name(args.model_name)
            entry.base_path = str(pathlib.Path(args.model_base_path).resolve())
            entry.model_platform = "tensorflow"
            return None, None, config
        root = pathlib.Path(args.models_root).resolve()
        path = root / configs.MODELS_CONFIG
        if not path.exists():
            configs.generate(root)
            log.info("Generated %s from the models under %s", path, root)
        if not args.monitoring_config_file and (root / configs.MONITORING_CONFIG).exists():
            args.monitoring_config_file = str(root / configs.MONITORING_CONFIG)
        return path, root, configs.read_models_config(path)

    def reload_config(self, config, source: str) -> None:
        """Apply a new ModelServerConfig (file poll or HandleReloadConfigRequest; `source` names
        which in the log). Request logging is checked first, so a bad logging config rejects the
        whole config before any model changes."""
        log.info("Reloading model config (%s)", source)
        try:
            self.request_logs.configure(config)
        except configs.ConfigError as e:
            raise errors.invalid_argument(str(e)) from None
        self.repository.apply_config(config)
        self.config = config

    def start(self) -> None:
        """Load the initial config, then open gRPC and REST; returns once both listen. A config
        that fails to apply is logged, not fatal: the server still starts, as TF Serving does."""
        from serving.server.grpc_server import make_server, server_credentials
        from serving.server.rest import RestServer
        try:
            self.repository.apply_config(self.config)
        except errors.ServingError as e:
            log.error("Initial model config: %s", e.message)
        addresses = [f"{self.args.host}:{self.args.port}"]
        if self.args.grpc_socket_path:
            addresses.append(f"unix:{self.args.grpc_socket_path}")
        if self.args.grpc_frontend == "native":
            self._start_native(addresses)
        else:
            credentials = None if self.ssl_config is None else server_credentials(self.ssl_config)
            self.grpc_server = make_server(self.dataplane, self.reload_config, addresses,
                                           self.args.grpc_max_threads, self.channel_arguments,
                                           credentials)
            self.grpc_server.start()
        security = ("" if self.ssl_config is None else " (TLS, client certificates required)"
                    if self.ssl_config.client_verify else " (TLS)")
        frontend = " (native front end)" if self.native is not None else ""
        for address in addresses:
            log.info("Running gRPC ModelServer at %s%s%s ...", address, security, frontend)
        if self.args.rest_api_port:
            self.rest = RestServer(self.dataplane, self.args.host, self.args.rest_api_port,
                                   self.args.rest_api_timeout_in_ms,
                                   self.args.rest_api_max_body_bytes,
                                   self.args.rest_api_num_threads, self.metrics_path)
            ready = threading.Event()
            failure = []
            thread = threading.Thread(target=self._rest_loop, args=(ready, failure),
                                      name="rest-loop", daemon=True)
            thread.start()
            ready.wait()
            if failure:
                raise failure[0]
            log.info("Exporting HTTP/REST API at:%s:%d ...", self.args.host,
                     self.args.rest_api_port)
        poller = threading.Thread(target=self._poll_loop, name="poller", daemon=True)
        poller.start()
        self._threads.append(poller)

    def _start_native(self, addresses: List[str]) -> None:
        """The native front end on the public addresses (TLS there), this server's gRPC front end
        behind it on a UNIX socket in a private folder (mode 0700), so only this process's front
        end reaches it and client verification cannot be bypassed."""
        import tempfile

        from serving.server import native
        from serving.server.grpc_server import default_root_certificates, make_server
        self._backend_dir = pathlib.Path(tempfile.mkdtemp(prefix="tfxp-serving-"))
        backend = f"unix:{self._backend_dir / 'grpc.sock'}"
        self.grpc_server = make_server(self.dataplane, self.reload_config, [backend],
                                       self.args.grpc_max_threads)
        self.grpc_server.start()
        tls = None
        if self.ssl_config is not None:
            roots = self.ssl_config.custom_ca or (
                default_root_certificates().decode() if self.ssl_config.client_verify else "")
            tls = {"server_key": self.ssl_config.server_key,
                   "server_cert": self.ssl_config.server_cert, "roots": roots,
                   "require_client_cert": self.ssl_config.client_verify}
        try:
            frontend = native.NativeFrontend()
            frontend.start(addresses, backend, tls,
                           self.batcher,
                           session_config(self.intra_op, self.inter_op))
        except (native.build.NativeBuildError, native.NativeFrontendError, OSError) as e:
            raise configs.ConfigError(f"--grpc_frontend=native: {e}") from None
        self.native = frontend
        predict_only = self.args.enable_signature_method_name_check
        warmup_iterations = (self.repository.warmup_iterations if self.repository.warmup
                             else 0)

        def publish():
            self.native.set_models(native.snapshot(
                self.repository.served(), predict_only,
                excluded=lambda name: self.request_logs.get(name) is not None,
                warmup_iterations=warmup_iterations))
        self.repository.listeners.append(publish)
        publish()
        self.metrics.add_source(self.native.drain_metrics)

    def _rest_loop(self, ready: threading.Event, failure: list) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            self.rest.start()
        except Exception as e:  # reported to start(), which raises it in the main thread
            failure.append(e)
            ready.set()
            return
        ready.set()
        loop.run_forever()

    def _poll_loop(self) -> None:
        config_every = self.args.model_config_file_poll_wait_seconds if self.config_path else 0
        fs_every = self.args.file_system_poll_wait_seconds
        next_config = time.monotonic() + config_every
        next_fs = time.monotonic() + fs_every
        while not self._stop.wait(0.2):
            now = time.monotonic()
            if config_every > 0 and now >= next_config:
                next_config = now + config_every
                self._poll_config()
            if fs_every > 0 and now >= next_fs:
                next_fs = now + fs_every
                try:
                    self.repository.poll()
                except Exception:  # a poll failure must never stop serving
                    log.exception("File system poll failed")

    def _poll_config(self) -> None:
        try:
            text = self.config_path.read_text()
        except OSError as e:
            log.error("Cannot read %s: %s", self.config_path, e)
            return
        if text == self._config_text:
            return
        self._config_text = text
        try:
            config = configs.parse_models_config(text, str(self.config_path))
            self.reload_config(config, f"poll of {self.config_path}")
        except (configs.ConfigError, errors.ServingError) as e:
            log.error("Model config reload failed: %s", getattr(e, "message", e))

    def wait(self) -> None:
        """Block the main thread until `request_stop()` (a signal), so signals stay deliverable."""
        self._stop.wait()

    def request_stop(self) -> None:
        """Make `wait()` return (signal handlers call this; `stop()` then shuts down)."""
        self._stop.set()

    def stop(self) -> None:
        """Shut down: gRPC gets 2 s to finish calls in flight, then batching and request logs
        close (flushing what was sampled)."""
        self._stop.set()
        if self.native is not None:
            self.repository.listeners.clear()
            self.native.stop()
        if self.grpc_server is not None:
            self.grpc_server.stop(grace=2)
        if self._backend_dir is not None:
            shutil.rmtree(self._backend_dir, ignore_errors=True)
        if self.rest is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self.rest.stop)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self.batcher is not None:
            self.batcher.close()
        self.request_logs.close()


def session_parallelism(args) -> Tuple[int, int]:
    """(intra-op, inter-op) threads as tensorflow_model_server derives them from its three flags
    (model_servers/server.cc): the two specific ones as given when either is positive, else
    session parallelism for both; all three set is refused in its words. 0 lets TensorFlow
    pick; a negative inter-op count runs a session's ops in the calling thread (TensorFlow's
    ConfigProto). A negative intra-op count would abort TensorFlow's thread pool, so start-up
    refuses it here instead."""
    intra, inter = args.tensorflow_intra_op_parallelism, args.tensorflow_inter_op_parallelism
    both = args.tensorflow_session_parallelism
    if intra > 0 and inter > 0 and both > 0:
        raise configs.ConfigError(
            "Either configure server_options.tensorflow_session_parallelism or "
            "(server_options.tensorflow_intra_op_parallelism, "
            "server_options.tensorflow_inter_op_parallelism) separately. You cannot configure "
            "all.")
    if intra > 0 or inter > 0:
        intra_op, inter_op = intra, inter
    else:
        intra_op, inter_op = both, both
        if intra < 0 or inter < 0:
            log.warning("--tensorflow_intra_op_parallelism=%d --tensorflow_inter_op_parallelism"
                        "=%d: neither is positive, so --tensorflow_session_parallelism (%d) "
                        "sizes both, as tensorflow_model_server does; give the other a positive "
                        "count to use them", intra, inter, both)
    if intra_op < 0:
        flag = ("--tensorflow_intra_op_parallelism" if intra > 0 or inter > 0
                else "--tensorflow_session_parallelism")
        raise configs.ConfigError(
            f"{flag}: a negative intra-op thread count ({intra_op}) aborts TensorFlow's thread "
            "pool (\"Check failed: num_threads >= 1\"); use 0 to let TensorFlow pick, or a "
            "positive count (only the inter-op count may be negative: ops then run in the "
            "calling thread)")
    return intra_op, inter_op


def _set_tensorflow_threads(intra: int, inter: int) -> None:
    """Size this process's TensorFlow thread pools (TF2 functions and TF1 sessions both use
    them); TensorFlow allows it only before its runtime starts, which start-up reports."""
    if not intra and not inter:
        return
    import tensorflow as tf
    try:
        if intra:
            tf.config.threading.set_intra_op_parallelism_threads(intra)
        if inter:
            tf.config.threading.set_inter_op_parallelism_threads(inter)
    except RuntimeError as e:
        raise configs.ConfigError(
            f"--tensorflow_*_parallelism: TensorFlow's runtime already started in this process, "
            f"so its thread pools cannot be sized ({e}); start the server in its own process "
            "(python -m serving)") from None


def session_config(intra: int, inter: int) -> bytes:
    """The serialized ConfigProto the native front end's sessions get (empty: defaults)."""
    if not intra and not inter:
        return b""
    from tensorflow.core.protobuf import config_pb2
    return config_pb2.ConfigProto(intra_op_parallelism_threads=intra,
                                  inter_op_parallelism_threads=inter).SerializeToString()


def parse_channel_arguments(text: str) -> List[tuple]:
    """--grpc_channel_arguments `key=value,...` -> gRPC server options; integer values become ints
    (as TF Serving's server.cc does), everything else stays a string."""
    options = []
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise configs.ConfigError(
                f"--grpc_channel_arguments: {item!r} is not key=value (expected e.g. "
                "grpc.max_concurrent_streams=100,grpc.keepalive_time_ms=60000)")
        value = value.strip()
        try:
            options.append((key.strip(), int(value)))
        except ValueError:
            options.append((key.strip(), value))
    return options


def _configure_logging() -> None:
    root = logging.getLogger("tfxp")
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname).1s %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        root.propagate = False
    logging.getLogger("tornado.access").setLevel(logging.ERROR)


def run(args) -> int:
    """Entry point shared by `tfxp serve` and `python -m serving`; returns the exit code."""
    _configure_logging()
    if getattr(args, "version", False):
        import tensorflow as tf
        print(f"TensorFlow ModelServer: tfxp-local (TF Serving 2.16.1 API)\n"
              f"TensorFlow Library: {tf.__version__}")
        return 0
    for flag in getattr(args, "ignored_flags", None) or []:
        log.warning("Ignoring %s: not supported by the local server", flag)
    try:
        server = ModelServer(args)
        server.start()
    except (configs.ConfigError, OSError) as e:
        log.error("Failed to start server: %s", e)
        return 1
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: server.request_stop())
    server.wait()
    log.info("Shutting down")
    server.stop()
    return 0
