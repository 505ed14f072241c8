"""Clients for a TF Serving API (the real server or the local one), REST and gRPC, plus canary split.

Rows (dicts of feature -> value, from JSON or CSV) are shaped for the chosen signature using the
server's own metadata: named raw inputs become one column per input, and a signature taking one
string tensor of serialized tf.Examples (the census `serving_default`) gets one Example per row.
"""
import base64
import csv
import json
import pathlib
import random
import time
import urllib.error
import urllib.request
from typing import Dict, List, Optional, Sequence

import numpy as np

from serving.config.configs import CANARY, GROUP_HEADER, STABLE

DTYPES = {"DT_FLOAT": np.float32, "DT_DOUBLE": np.float64, "DT_INT32": np.int32,
          "DT_INT64": np.int64, "DT_STRING": object, "DT_BOOL": np.bool_, "DT_HALF": np.float16}


class ServingClientError(RuntimeError):
    """The server answered with an error (message as the server wrote it) or could not be reached."""

    def __init__(self, message: str, status=None):
        super().__init__(message)
        self.status = status


# What TensorFlow's example parser says when a feature's list type is not the model's.
TYPE_MISMATCH = "Data types don't match"
SCHEMA_HINT = ("CSV cells and JSON numbers without a decimal point are sent as int64: pass "
               "--schema with the model's schema.pbtxt (a pushed version carries it in "
               "assets.extra/training_data/schema.pbtxt) so each feature gets its schema's type")


def load_rows(json_file: Optional[str] = None, csv_file: Optional[str] = None,
              schema_file: Optional[str] = None) -> List[dict]:
    """JSON: a list of rows or {"instances": [...]}; CSV: a header line, numbers parsed. With a
    schema, each feature the schema names gets the schema's type (a FLOAT feature's "59" is sent
    as 59.0, a BYTES feature's "02139" stays text)."""
    types = feature_types(schema_file) if schema_file else {}
    if json_file:
        doc = json.loads(pathlib.Path(json_file).read_text())
        rows = doc.get("instances") if isinstance(doc, dict) else doc
        if not isinstance(rows, list) or not rows:
            raise ValueError(f"{json_file}: expected a non-empty list of rows or "
                             '{"instances": [...]}')
        return [_typed_row(row, types, f"{json_file} row {i + 1}") if isinstance(row, dict)
                else row for i, row in enumerate(rows)]
    with open(csv_file, newline="") as f:
        rows = [_typed_row({k.strip(): (v or "").strip() for k, v in row.items() if k is not None},
                           types, f"{csv_file} line {i + 2}", from_text=True)
                for i, row in enumerate(csv.DictReader(f, skipinitialspace=True))]
    if not rows:
        raise ValueError(f"{csv_file}: no data rows under the header")
    return rows


def feature_types(schema_file: str) -> Dict[str, str]:
    """{feature: "INT" | "FLOAT" | "BYTES"} from a TFDV schema in text format."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    path = pathlib.Path(schema_file)
    if not path.is_file():
        raise ValueError(f"--schema {schema_file}: no such file (a pushed version carries its "
                         "schema in assets.extra/training_data/schema.pbtxt)")
    try:
        schema = text_format.Parse(path.read_text(), schema_pb2.Schema())
    except text_format.ParseError as e:
        raise ValueError(f"--schema {schema_file} is not a schema.pbtxt: {e}") from None
    return {f.name: schema_pb2.FeatureType.Name(f.type) for f in schema.feature
            if f.type != schema_pb2.TYPE_UNKNOWN}


def _typed_row(row: dict, types: Dict[str, str], where: str, from_text: bool = False) -> dict:
    """The row with each value in its feature's schema type; untyped text cells as numbers
    when they read as one."""
    typed = {}
    for key, value in row.items():
        kind = types.get(key)
        if isinstance(value, list):
            typed[key] = [_typed_value(v, kind, key, where) for v in value]
        elif kind is None and from_text:
            typed[key] = _parse_cell(value)
        else:
            typed[key] = _typed_value(value, kind, key, where)
    return typed


def _typed_value(value, kind: Optional[str], key: str, where: str):
    if kind is None:
        return value
    if kind == "BYTES":
        return value if isinstance(value, (str, dict)) else str(value)
    if isinstance(value, bool):
        raise ValueError(f"{where}: feature {key!r} is {kind} in the schema, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: feature {key!r} is {kind} in the schema, got "
                         f"{value!r}") from None
    if kind == "FLOAT":
        return number
    if not number.is_integer():
        raise ValueError(f"{where}: feature {key!r} is INT in the schema, got {value!r}")
    return int(number)


def _parse_cell(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def shape_inputs(rows: Sequence, input_dtypes: Dict[str, str]) -> Dict[str, np.ndarray]:
    """Rows -> {input name: array} for a signature described by {name: "DT_..."}."""
    from serving.server.examples import example_bytes
    names = set(input_dtypes)
    if all(isinstance(r, dict) for r in rows) and set(rows[0]) == names:
        return {k: np.array([r[k] if dt != "DT_STRING" else str(r[k]).encode() for r in rows],
                            dtype=DTYPES.get(dt, object)) for k, dt in input_dtypes.items()}
    if len(names) == 1 and next(iter(input_dtypes.values())) == "DT_STRING":
        key = next(iter(names))
        if all(isinstance(r, dict) for r in rows):
            return {key: np.array([example_bytes(r) for r in rows], dtype=object)}
        return {key: np.array([str(r).encode() for r in rows], dtype=object)}
    if len(names) == 1:
        key, dt = next(iter(input_dtypes.items()))
        return {key: np.array(rows, dtype=DTYPES.get(dt, object))}
    missing = sorted(names - set(rows[0])) if isinstance(rows[0], dict) else sorted(names)
    raise ValueError(f"rows do not match the signature inputs {sorted(names)}; missing {missing}")


def _json_value(array: np.ndarray):
    if array.dtype == object:
        return [{"b64": base64.b64encode(v).decode()} if isinstance(v, bytes) else v
                for v in array.tolist()]
    return array.tolist()


class RestClient:
    """TF Serving's REST API; server errors become ServingClientError with the server's message."""

    def __init__(self, host: str = "localhost", port: int = 8501, timeout: float = 30.0):
        self.base = f"http://{host}:{port}/v1/models"
        self.timeout = timeout

    def _url(self, model, version=None, label=None, suffix=""):
        path = f"{self.base}/{model}"
        if version is not None:
            path += f"/versions/{version}"
        elif label:
            path += f"/labels/{label}"
        return path + suffix

    def _call(self, url, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            text = e.read().decode(errors="replace")
            try:
                message = json.loads(text)["error"]
            except (ValueError, KeyError, TypeError):
                message = text
            raise ServingClientError(message, e.code) from None
        except urllib.error.URLError as e:
            raise ServingClientError(f"cannot reach {url}: {e.reason}") from None

    def _signature(self, model, signature, version, label) -> dict:
        meta = self._call(self._url(model, version, label, "/metadata"))
        sigs = meta["metadata"]["signature_def"]["signature_def"]
        if signature not in sigs:
            raise ServingClientError(f"model {model} has no signature {signature!r} "
                                     f"(has {sorted(sigs)})")
        return sigs[signature]

    def input_dtypes(self, model, signature="serving_default", version=None, label=None):
        """{input name: "DT_..."} from the model's metadata, which decides how rows are shaped."""
        return {k: v["dtype"] for k, v in
                self._signature(model, signature, version, label)["inputs"].items()}

    def predict(self, model, rows, signature="serving_default", version=None, label=None,
                input_dtypes=None) -> Dict[str, np.ndarray]:
        """Rows -> {output name: array}; pass `input_dtypes` to skip the metadata call when
        sending many requests."""
        dtypes = input_dtypes or self.input_dtypes(model, signature, version, label)
        inputs = shape_inputs(rows, dtypes)
        body = {"signature_name": signature,
                "inputs": {k: _json_value(v) for k, v in inputs.items()}}
        outputs = self._call(self._url(model, version, label, ":predict"), body)["outputs"]
        if not isinstance(outputs, dict):
            (name,) = self._signature(model, signature, version, label)["outputs"]
            return {name: np.array(outputs)}
        return {k: np.array(v) for k, v in outputs.items()}


class GrpcClient:
    """TF Serving's PredictionService over gRPC, with the same methods and errors as RestClient."""

    def __init__(self, host: str = "localhost", port: int = 8500, timeout: float = 30.0):
        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc
        self.channel = grpc.insecure_channel(f"{host}:{port}")
        self.predictions = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)
        self.timeout = timeout

    @staticmethod
    def _spec(spec, model, version, label, signature=""):
        spec.name = model
        if version is not None:
            spec.version.value = int(version)
        elif label:
            spec.version_label = label
        if signature:
            spec.signature_name = signature

    def _rpc(self, method, request):
        """Call with the group header when the request names a rollout label: nginx and the
        Gateway route on it, since they cannot read the label inside the gRPC body."""
        import grpc
        label = request.model_spec.version_label
        metadata = [(GROUP_HEADER, label)] if label in (STABLE, CANARY) else None
        try:
            return method(request, timeout=self.timeout, metadata=metadata)
        except grpc.RpcError as e:
            raise ServingClientError(e.details(), e.code().name) from None

    def input_dtypes(self, model, signature="serving_default", version=None, label=None):
        """{input name: "DT_..."} from GetModelMetadata, as RestClient.input_dtypes."""
        from tensorflow_serving.apis import get_model_metadata_pb2
        from tensorflow.core.framework import types_pb2
        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self._spec(request.model_spec, model, version, label)
        response = self._rpc(self.predictions.GetModelMetadata, request)
        sig_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(sig_map)
        if signature not in sig_map.signature_def:
            raise ServingClientError(f"model {model} has no signature {signature!r}")
        return {k: types_pb2.DataType.Name(v.dtype)
                for k, v in sig_map.signature_def[signature].inputs.items()}

    def predict(self, model, rows, signature="serving_default", version=None, label=None,
                input_dtypes=None) -> Dict[str, np.ndarray]:
        """Rows -> {output name: array}, as RestClient.predict."""
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2
        dtypes = input_dtypes or self.input_dtypes(model, signature, version, label)
        request = predict_pb2.PredictRequest()
        self._spec(request.model_spec, model, version, label, signature)
        for key, value in shape_inputs(rows, dtypes).items():
            request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        response = self._rpc(self.predictions.Predict, request)
        return {k: tf.make_ndarray(v) for k, v in response.outputs.items()}


def make_client(grpc_: bool, host: str, rest_port: int, grpc_port: int):
    """`tfxp predict --grpc` picks the protocol; both clients answer the same calls."""
    return GrpcClient(host, grpc_port) if grpc_ else RestClient(host, rest_port)


def canary_split(client, model: str, rows: Sequence, fraction: float, requests: int = 100,
                 signature: str = "serving_default", seed: int = 0) -> Dict[str, dict]:
    """Send `requests` single-row predictions, a `fraction` of them to label canary and the rest
    to stable; report per label: count, errors, p50/p99 latency (ms) and mean first output."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"canary fraction must be between 0 and 1, got {fraction}")
    rng = random.Random(seed)
    dtypes = {}
    report = {label: {"count": 0, "errors": 0, "latencies_ms": [], "outputs": [],
                      "last_error": None} for label in ("stable", "canary")}
    for i in range(requests):
        label = "canary" if rng.random() < fraction else "stable"
        row = [rows[i % len(rows)]]
        entry = report[label]
        entry["count"] += 1
        started = time.perf_counter()
        try:
            if label not in dtypes:
                dtypes[label] = client.input_dtypes(model, signature, label=label)
            outputs = client.predict(model, row, signature, label=label, input_dtypes=dtypes[label])
            entry["outputs"].append(float(np.asarray(next(iter(outputs.values()))).ravel()[0]))
        except ServingClientError as e:
            entry["errors"] += 1
            entry["last_error"] = str(e)
            continue
        entry["latencies_ms"].append((time.perf_counter() - started) * 1000)
    for entry in report.values():
        lat = entry.pop("latencies_ms")
        outs = entry.pop("outputs")
        entry["p50_ms"] = round(float(np.percentile(lat, 50)), 3) if lat else None
        entry["p99_ms"] = round(float(np.percentile(lat, 99)), 3) if lat else None
        entry["mean_output"] = round(float(np.mean(outs)), 6) if outs else None
    return report
