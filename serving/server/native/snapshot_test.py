"""What the native front end is told about a version's warmup: the predict records of its file,
and nothing (never an error) when the file cannot be read, because the snapshot is taken inside
every load and unload of the repository."""
import pathlib
from types import SimpleNamespace

from tensorflow_serving.apis import predict_pb2

from serving.server import native, warmup
from serving.server.repository import WARMUP_FILE


def _version_with_warmup(path: pathlib.Path, names) -> SimpleNamespace:
    logs = []
    for name in names:
        request = predict_pb2.PredictRequest()
        request.model_spec.name = name
        logs.append(warmup.predict_log(request))
    warmup.write_warmup_file(path, logs)
    return SimpleNamespace(path=path)


def test_the_predict_records_are_passed_with_the_iteration_count(tmp_path):
    import base64
    model = _version_with_warmup(tmp_path / "1", ["a", "b"])
    passed = native.warmup_of(model, 3)
    names = [predict_pb2.PredictRequest.FromString(base64.b64decode(r)).model_spec.name
             for r in passed["warmup"]]
    assert (names, passed["warmup_iterations"]) == (["a", "b"], 3)
    assert native.warmup_of(model, 0) == {"warmup": [], "warmup_iterations": 0}


def test_a_warmup_file_corrupted_after_the_load_is_skipped_not_raised(tmp_path):
    model = _version_with_warmup(tmp_path / "1", ["a"])
    (model.path / WARMUP_FILE).write_bytes(b"\x05not a TFRecord file at all")
    assert native.warmup_of(model, 1) == {"warmup": [], "warmup_iterations": 0}
