"""LocalInfraValidator: TFX's InfraValidator contract, served by the local TF-Serving stand-in.

TFX's InfraValidator needs Docker or Kubernetes; this component starts `python -m serving` (a
subprocess that never imports TFX) on the candidate model on free loopback ports, sends a few eval
examples as serialized tf.Examples to `serving_default` over gRPC, and on success writes exactly
what InfraValidator writes with `request_spec.make_warmup=True`: an `INFRA_BLESSED` marker, the
model copied to `<blessing.uri>/stamped_model` with `assets.extra/tf_servingpredict_requests` (a
TFRecord of PredictionLog), and custom properties blessed=1, has_model=1. An unservable model gets
`INFRA_NOT_BLESSED`, blessed=0 and no model, so Pusher never pushes it.

Wiring (pipelines/pipeline.py), between Trainer and Pusher:

    infra = LocalInfraValidator(model=trainer.outputs["model"],
                                examples=example_gen.outputs["examples"])
    pusher = Pusher(model_blessing=evaluator.outputs["blessing"],
                    infra_blessing=infra.outputs["blessing"],
                    push_destination=...)

Pass Pusher no `model=`: given only infra_blessing it pushes the stamped model (with the warmup
file) and refuses a blessing without has_model (TFX pusher/executor.py GetModelPath).
"""
import contextlib
import dataclasses
import json
import logging
import os
import pathlib
import shutil
import tempfile
import time
from typing import Iterator, List, Optional, Tuple

from tfx import types
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts
from tfx.utils import io_utils, path_utils

from components import latency_gate as latency_gate_module
from serving.server.process import ServerProcess, ServerProcessError

log = logging.getLogger("tfxp.infra_validator")

BLESSED_KEY, MODEL_FLAG_KEY = "blessed", "has_model"
BLESSED_FILE, NOT_BLESSED_FILE = "INFRA_BLESSED", "INFRA_NOT_BLESSED"
MODEL_NAME = "infra-validation-model"


def eval_examples(examples: types.Artifact, limit: int, split: str = "eval") -> List[bytes]:
    """The first `limit` serialized tf.Examples of a split (ExampleGen writes gzipped TFRecords)."""
    import tensorflow as tf
    uri = artifact_utils.get_split_uri([examples], split)
    files = sorted(str(p) for p in pathlib.Path(uri).glob("*") if p.is_file())
    if not files:
        raise ValueError(f"no example files under {uri}")
    compression = "GZIP" if files[0].endswith(".gz") else ""
    dataset = tf.data.TFRecordDataset(files, compression_type=compression).take(limit)
    return [record.numpy() for record in dataset]


def predict_requests(model_path: str, serialized: List[bytes], signature: str):
    """PredictRequests for `signature`, whose one string input takes serialized tf.Examples."""
    import numpy as np
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2
    from serving.server.signature import read_signature_defs

    sig_defs = read_signature_defs(pathlib.Path(model_path))
    if signature not in sig_defs:
        raise ValueError(f"model has no {signature!r} signature (has {sorted(sig_defs)})")
    inputs = sig_defs[signature].inputs
    if len(inputs) != 1 or next(iter(inputs.values())).dtype != tf.string.as_datatype_enum:
        raise ValueError(f"{signature!r} must take one string tensor of serialized tf.Examples")
    key = next(iter(inputs))
    requests = []
    for record in serialized:
        request = predict_pb2.PredictRequest()
        request.model_spec.name = MODEL_NAME
        request.model_spec.signature_name = signature
        request.inputs[key].CopyFrom(tf.make_tensor_proto(np.array([record], dtype=object)))
        requests.append(request)
    return requests


@contextlib.contextmanager
def model_server(model_path: str, workdir: pathlib.Path, timeout: float = 300.0,
                 model_name: str = MODEL_NAME) -> Iterator[str]:
    """Serves `model_path` as `model_name` with `python -m serving` (serving.server.process) on
    free loopback ports until the block ends; yields its gRPC address. The one place this
    component starts a model server: every server the validator or its latency gate uses is
    configured the same way. A server that dies, fails to load or fails a request raises
    RuntimeError with its log's tail."""
    import grpc

    version_dir = workdir / model_name / "1"
    shutil.copytree(model_path, version_dir)
    with ServerProcess([f"--model_name={model_name}", f"--model_base_path={version_dir.parent}",
                        "--file_system_poll_wait_seconds=0"],
                       log_path=workdir / "server.log") as server:
        try:
            server.wait_ready([model_name], timeout)
            yield server.grpc
        except ServerProcessError as e:
            raise RuntimeError(str(e)) from None
        except grpc.RpcError as e:
            tail = "".join(server.log().splitlines(keepends=True)[-5:])
            raise RuntimeError(f"{e.details()}\n--- server log tail ---\n{tail}") from None


def validate(model_path: str, serialized_examples: List[bytes], signature: str = "serving_default",
             timeout: float = 300.0):
    """Serve `model_path` in a subprocess and send one request per example. Returns the requests
    (for the warmup file) or raises with the reason the model is not servable."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    requests = predict_requests(model_path, serialized_examples, signature)
    with tempfile.TemporaryDirectory(prefix="infra-validation-") as tmp, \
            model_server(model_path, pathlib.Path(tmp), timeout) as address:
        with grpc.insecure_channel(address) as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            for request in requests:
                stub.Predict(request, timeout=60)
    return requests


def latency_gate(model_path: str, stable_path: str, serialized: List[bytes],
                 settings: "latency_gate_module.GateSettings", request_source: str,
                 stable_version: Optional[int], signature: str = "serving_default",
                 timeout: float = 300.0) -> "latency_gate_module.GateResult":
    """Serves candidate and stable side by side (same server configuration) and replays the
    same requests against both in alternating rounds (components.latency_gate)."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    started = time.monotonic()
    requests = {name: predict_requests(path, serialized, signature)
                for name, path in (("candidate", model_path), ("stable", stable_path))}
    with tempfile.TemporaryDirectory(prefix="latency-gate-") as tmp, \
            contextlib.ExitStack() as stack:
        senders = {}
        for name, path in (("candidate", model_path), ("stable", stable_path)):
            folder = pathlib.Path(tmp) / name
            folder.mkdir()
            address = stack.enter_context(model_server(path, folder, timeout))
            channel = stack.enter_context(grpc.insecure_channel(address))
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            senders[name] = (lambda stub, batch: lambda i: stub.Predict(batch[i], timeout=30))(
                stub, requests[name])
        verdict = latency_gate_module.measure_and_decide(
            lambda: latency_gate_module.measure(senders["candidate"], senders["stable"],
                                                len(serialized), settings), settings.ratio)
    candidate, stable = verdict.measurements[-1]
    return latency_gate_module.GateResult(verdict.passed, verdict.reason, settings, candidate,
                                          stable, stable_version, request_source,
                                          time.monotonic() - started,
                                          measurements=len(verdict.measurements))


GATE_KEY, GATE_REASON_KEY, GATE_FILE = "latency_gate", "latency_gate_reason", "latency_gate.json"
GATE_REQUEST_LIMIT = 200


@dataclasses.dataclass(frozen=True)
class GateRequest:
    """What the latency gate needs beyond the candidate: where the stable version is served
    from, the ModelSpec's p95 ratio, and whether the user skipped the gate."""

    serving_model_dir: str = ""
    settings: latency_gate_module.GateSettings = latency_gate_module.GateSettings()
    skip: bool = False


def gate_requests(stable: pathlib.Path, examples: types.Artifact) -> Tuple[List[bytes], str]:
    """(serialized tf.Examples, where they came from): the stable version's logged requests
    when its models.config logs any, else rows of the eval split."""
    from serving.server import request_log

    model_dir = stable.parent
    prefix = request_log.configured_prefix(model_dir.parent, model_dir.name)
    if prefix is not None and request_log.log_files(prefix):
        logs = [log for log in request_log.read_prediction_logs(prefix)
                if _logged_version(log) in (None, int(stable.name))]
        logged = latency_gate_module.serialized_examples_from_logs(logs)[:GATE_REQUEST_LIMIT]
        if logged:
            return logged, f"{len(logged)} logged requests of version {stable.name}"
    rows = eval_examples(examples, GATE_REQUEST_LIMIT)
    return rows, f"{len(rows)} eval rows"


def _logged_version(log) -> Optional[int]:
    kind = log.WhichOneof("log_type")
    spec = getattr(log, kind).request.model_spec if kind else None
    return spec.version.value if spec is not None and spec.HasField("version") else None


def run_gate(model_path: str, examples: types.Artifact, blessing: types.Artifact,
             gate: GateRequest, signature: str) -> bool:
    """Runs (or skips, saying why) the latency gate and records it on the blessing: its verdict,
    reason and figures as custom properties and `latency_gate.json`. True unless it failed."""
    from components.stable_baseline import stable_model_dir

    stable = stable_model_dir(gate.serving_model_dir) if gate.serving_model_dir else None
    if gate.skip or stable is None:
        reason = "--skip-latency-gate" if gate.skip else "no stable version yet (first run)"
        blessing.set_string_custom_property(GATE_KEY, "skipped")
        blessing.set_string_custom_property(GATE_REASON_KEY, reason)
        log.info("Latency gate skipped: %s", reason)
        return True
    try:
        serialized, source = gate_requests(stable, examples)
        result = latency_gate(model_path, str(stable), serialized, gate.settings, source,
                              int(stable.name), signature)
        figures, passed, reason = result.figures(), result.passed, result.reason
    except Exception as e:  # a gate that cannot measure must not pass the candidate
        figures, passed, reason = {}, False, f"the gate could not measure: {e}"
    blessing.set_string_custom_property(GATE_KEY, "passed" if passed else "failed")
    blessing.set_string_custom_property(GATE_REASON_KEY, reason)
    for key, value in figures.items():
        if isinstance(value, str):
            blessing.set_string_custom_property(f"{GATE_KEY}_{key}", value)
        elif isinstance(value, int):
            blessing.set_int_custom_property(f"{GATE_KEY}_{key}", value)
        else:
            blessing.set_float_custom_property(f"{GATE_KEY}_{key}", float(value))
    io_utils.write_string_file(os.path.join(blessing.uri, GATE_FILE),
                               json.dumps(dict(figures, passed=int(passed), reason=reason),
                                          indent=1, sort_keys=True))
    (log.info if passed else log.error)("Latency gate %s: %s", "passed" if passed else "FAILED",
                                        reason)
    return passed


def _not_blessed(blessing: types.Artifact) -> bool:
    io_utils.write_string_file(os.path.join(blessing.uri, NOT_BLESSED_FILE), "")
    blessing.set_int_custom_property(BLESSED_KEY, 0)
    return False


def run_validation(model: types.Artifact, examples: types.Artifact, blessing: types.Artifact,
                   num_examples: int = 5, signature: str = "serving_default",
                   gate: GateRequest = GateRequest(skip=True)) -> bool:
    """Everything the component does, callable without a pipeline (tests): serve the candidate,
    then the latency gate against the stable version (`gate`)."""
    from tensorflow_serving.apis import prediction_log_pb2

    model_path = path_utils.serving_model_path(model.uri, path_utils.is_old_model_artifact(model))
    try:
        requests = validate(model_path, eval_examples(examples, num_examples), signature)
    except Exception as e:  # any reason a model cannot be served means "not blessed"
        log.error("Model failed infra validation: %s", e)
        return _not_blessed(blessing)
    if not run_gate(model_path, examples, blessing, gate, signature):
        return _not_blessed(blessing)
    io_utils.write_string_file(os.path.join(blessing.uri, BLESSED_FILE), "")
    blessing.set_int_custom_property(BLESSED_KEY, 1)
    stamped = path_utils.stamped_model_path(blessing.uri)
    io_utils.copy_dir(src=model_path, dst=stamped)
    io_utils.write_tfrecord_file(
        path_utils.warmup_file_path(stamped),
        *[prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=r))
          for r in requests])
    blessing.set_int_custom_property(MODEL_FLAG_KEY, 1)
    log.info("Model passed infra validation; warmup requests: %d", len(requests))
    return True


@component
def LocalInfraValidator(  # noqa: N802  (TFX component names are classes)
        model: InputArtifact[standard_artifacts.Model],
        examples: InputArtifact[standard_artifacts.Examples],
        blessing: OutputArtifact[standard_artifacts.InfraBlessing],
        num_examples: Parameter[int] = 5,
        signature_name: Parameter[str] = "serving_default",
        serving_model_dir: Parameter[str] = "",
        latency_ratio: Parameter[float] = latency_gate_module.DEFAULT_RATIO,
        latency_rounds: Parameter[int] = latency_gate_module.DEFAULT_ROUNDS,
        skip_latency_gate: Parameter[bool] = False):
    """Serve the candidate locally, send eval examples, gate its latency against the stable
    version of `serving_model_dir`, bless it and stamp warmup requests."""
    settings = latency_gate_module.GateSettings(ratio=latency_ratio, rounds=latency_rounds)
    run_validation(model, examples, blessing, num_examples, signature_name,
                   GateRequest(serving_model_dir, settings, skip_latency_gate))
