"""Where one pipeline's run reads its data and keeps its artifacts, metadata, logs and pushes."""
import dataclasses
import hashlib
import pathlib
import time
from typing import Optional

from data import settings
from models.spec import ModelSpec


@dataclasses.dataclass
class RunPaths:
    """Where one pipeline keeps its artifacts, metadata, logs and pushed models."""

    pipeline_name: str
    home: pathlib.Path
    serving_model_dir: pathlib.Path

    @property
    def pipeline_root(self) -> pathlib.Path:
        """TFX's pipeline root: the artifacts of every run."""
        return self.home / "pipeline"

    @property
    def metadata_path(self) -> pathlib.Path:
        """The SQLite ML Metadata database that records every run."""
        return self.home / "metadata.sqlite"

    def new_log_path(self) -> pathlib.Path:
        """A log file named by the start time, so each run keeps its own log."""
        return self.home / "logs" / time.strftime("run-%Y%m%d-%H%M%S.log")


def pipeline_name(model: str, sample: bool) -> str:
    """Sample runs are a separate pipeline, so their cache and history never mix with full runs."""
    return f"{model}-sample" if sample else model


def default_paths(spec: ModelSpec, sample: bool = False, home: Optional[str] = None,
                  serving_dir: Optional[str] = None) -> RunPaths:
    """Full-data runs push into serving/models/<model>; sample runs stay under their home."""
    name = pipeline_name(spec.name, sample)
    home_path = pathlib.Path(home) if home else settings.TFX_HOME / name
    if serving_dir:
        serving = pathlib.Path(serving_dir)
    elif sample:
        serving = home_path / "serving_models" / spec.name
    else:
        serving = settings.SERVING_ROOT / spec.name
    return RunPaths(name, home_path.resolve(), serving.resolve())


def resolve_data(spec: ModelSpec, data_dir: Optional[str], sample: bool):
    """(data root, split folder names or None for a hash split). Prepares full data if needed."""
    if data_dir:
        root = pathlib.Path(data_dir).resolve()
        if not root.is_dir():
            raise FileNotFoundError(f"--data {data_dir}: no such directory")
        present = [s for s in spec.splits if (root / s).is_dir()]
        if present and present[:2] != list(spec.splits[:2]):
            raise ValueError(f"--data {data_dir}: found split folder(s) {present} but need "
                             f"{list(spec.splits[:2])}, or put all files directly in the folder")
        return root, (present or None)
    if sample:
        return spec.sample_dir, list(spec.splits)
    prepared = settings.PREPARED_ROOT / spec.name
    spec.prepare_data(prepared)
    return prepared, list(spec.splits)


def stage_schema(schema_path: pathlib.Path, paths: RunPaths) -> str:
    """A content-addressed copy of the curated schema. ImportSchemaGen's cache key is the file
    path, so an edited schema at the same path would be ignored; a new path per content is not."""
    content = pathlib.Path(schema_path).read_bytes()
    staged = paths.home / "schemas" / hashlib.sha256(content).hexdigest()[:16] / "schema.pbtxt"
    if not staged.exists():
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.write_bytes(content)
    return str(staged)
