"""The interface every documented model implements (see the package docstring)."""
import dataclasses
import hashlib
import importlib.util
import pathlib
from typing import Any, Callable, Mapping, Optional, Tuple

EXAMPLE_FORMATS = ("csv", "tfrecord")


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What the pipeline factory, the runners and the reports need to know about one model."""

    name: str
    example_format: str
    prepare_data: Callable[[pathlib.Path], Mapping[str, Any]]
    sample_dir: pathlib.Path
    schema_path: Optional[pathlib.Path]
    preprocessing_fn: str
    run_fn: str
    eval_config: Callable[[Mapping[str, float]], Any]
    thresholds: Mapping[str, float]
    sample_thresholds: Mapping[str, float]
    key_metric: str
    train_steps: int
    eval_steps: int
    sample_train_steps: int
    sample_eval_steps: int
    serving_signatures: Tuple[str, ...] = ("serving_default",)
    tuner_fn: Optional[str] = None
    splits: Tuple[str, ...] = ("train", "eval")
    # The data gate stops a run whose split holds fewer rows (an empty or near-empty file).
    min_split_examples: Mapping[str, int] = dataclasses.field(
        default_factory=lambda: {"train": 100, "eval": 20})
    # The infra validator's latency gate: the candidate's p95 may be at most this many times the
    # stable version's, measured side by side (components/latency_gate.py, docs/latency_gate.md).
    latency_p95_ratio: float = 1.25

    def __post_init__(self):
        if self.example_format not in EXAMPLE_FORMATS:
            raise ValueError(f"{self.name}: example_format must be one of {EXAMPLE_FORMATS}, "
                             f"got {self.example_format!r}")

    def source_fingerprint(self) -> str:
        """A hash of the code Transform and Trainer import (the model's package and
        models/common). TFX's cache cannot see code behind a function path, so the pipeline puts
        this hash in their custom_config: editing the code re-runs them."""
        digest = hashlib.sha256()
        packages = {self.preprocessing_fn.rsplit(".", 2)[0], self.run_fn.rsplit(".", 2)[0],
                    "models.common"}
        for package in sorted(packages):
            origin = importlib.util.find_spec(package).origin
            for path in sorted(pathlib.Path(origin).parent.glob("*.py")):
                if not path.name.endswith("_test.py"):
                    digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()[:16]
