"""Fakes of a models root for tests of config/ and the layers above: version folders that count
as SavedModels without a TensorFlow export and models.config read back with TF Serving's proto."""
import pathlib

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2


def saved_model_folder(path: pathlib.Path) -> pathlib.Path:
    """A folder that counts as a SavedModel for the config writers: they look for saved_model.pb
    only, so tests need no TensorFlow export."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "saved_model.pb").write_bytes(b"")
    return path


def fake_versions(root: pathlib.Path, model: str, *versions: int) -> None:
    """Pushed versions of `model` under `root`, as saved_model_folder."""
    for v in versions:
        saved_model_folder(root / model / str(v))


def parse_written_config(root: pathlib.Path):
    """models.config parsed by TF Serving's proto directly, not by the module under test."""
    return text_format.Parse((root / "models.config").read_text(),
                             model_server_config_pb2.ModelServerConfig())

