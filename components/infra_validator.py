"""LocalInfraValidator: TFX's InfraValidator contract, served by the local TF-Serving stand-in.

TFX's InfraValidator needs Docker or Kubernetes; this component starts `python -m serving` (a
subprocess that never imports TFX) on the candidate model on free loopback ports, sends a few eval
examples as serialized tf.Examples to `serving_default` over gRPC, and on success writes exactly
what InfraValidator writes with `request_spec.make_warmup=True`: an `INFRA_BLESSED` marker, the
model copied to `<blessing.uri>/stamped_model` with `assets.extra/tf_serving_warmup_requests` (a
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
import logging
import os
import pathlib
import shutil
import tempfile
import time
from typing import List

from tfx import types
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts
from tfx.utils import io_utils, path_utils

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


def _warmup_requests(model_path: str, serialized: List[bytes], signature: str):
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


def validate(model_path: str, serialized_examples: List[bytes], signature: str = "serving_default",
             timeout: float = 300.0):
    """Serve `model_path` in a subprocess and send one request per example. Returns the requests
    (for the warmup file) or raises with the reason the model is not servable."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    requests = _warmup_requests(model_path, serialized_examples, signature)
    with tempfile.TemporaryDirectory(prefix="infra-validation-") as tmp:
        version_dir = pathlib.Path(tmp) / MODEL_NAME / str(int(time.time()))
        shutil.copytree(model_path, version_dir)
        with ServerProcess([f"--model_name={MODEL_NAME}",
                            f"--model_base_path={version_dir.parent}",
                            "--file_system_poll_wait_seconds=0"]) as server:
            try:
                server.wait_ready([MODEL_NAME], timeout)
                with grpc.insecure_channel(server.grpc) as channel:
                    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
                    for request in requests:
                        stub.Predict(request, timeout=60)
            except ServerProcessError as e:
                raise RuntimeError(str(e)) from None
            except grpc.RpcError as e:
                tail = "".join(server.log().splitlines(keepends=True)[-5:])
                raise RuntimeError(f"{e.details()}\n--- server log tail ---\n{tail}") from None
    return requests


def run_validation(model: types.Artifact, examples: types.Artifact, blessing: types.Artifact,
                   num_examples: int = 5, signature: str = "serving_default") -> bool:
    """Everything the component does, callable without a pipeline (tests)."""
    from tensorflow_serving.apis import prediction_log_pb2

    model_path = path_utils.serving_model_path(model.uri, path_utils.is_old_model_artifact(model))
    try:
        requests = validate(model_path, eval_examples(examples, num_examples), signature)
    except Exception as e:  # any reason a model cannot be served means "not blessed"
        log.error("Model failed infra validation: %s", e)
        io_utils.write_string_file(os.path.join(blessing.uri, NOT_BLESSED_FILE), "")
        blessing.set_int_custom_property(BLESSED_KEY, 0)
        return False
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
        signature_name: Parameter[str] = "serving_default"):
    """Serve the candidate locally, send eval examples, bless it and stamp warmup requests."""
    run_validation(model, examples, blessing, num_examples, signature_name)
