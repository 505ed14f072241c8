"""What `tfxp run` was asked for, in one frozen object: the CLI builds it, the workflow, the run
paths, the guard and the pipeline's builder read it, so no function re-lists the options."""
import dataclasses
from typing import Mapping, Optional, Tuple

RUNNERS = ("local", "beam", "flink", "spark")
ROLLOUTS = ("canary", "stable", "none")


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """One `tfxp run` invocation's choices (the defaults are the CLI's)."""

    data_dir: Optional[str] = None  # --data; None: the prepared data or the committed sample
    sample: bool = False
    runner: str = "local"
    pipeline_root: Optional[str] = None  # --pipeline-root: the pipeline's home folder
    serving_dir: Optional[str] = None  # --serving-dir: this model's push destination
    beam_args: Tuple[str, ...] = ()
    hyperparameters: Mapping[str, object] = dataclasses.field(default_factory=dict)
    tune: bool = False
    enable_cache: bool = True
    infra_validation: bool = True
    baseline: str = "stable"
    rollout: str = "canary"
    verbose: bool = False
    wait: bool = True
    accept_drift: bool = False
    holdout_file: str = ""
    skip_latency_gate: bool = False

    def __post_init__(self):
        if self.runner not in RUNNERS:
            raise ValueError(f"runner must be one of {RUNNERS}, got {self.runner!r}")
        if self.rollout not in ROLLOUTS:
            raise ValueError(f"rollout must be one of {ROLLOUTS}, got {self.rollout!r}")
        object.__setattr__(self, "beam_args", tuple(self.beam_args))
        object.__setattr__(self, "hyperparameters", dict(self.hyperparameters or {}))
