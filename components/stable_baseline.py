"""The Evaluator's baseline: the version labelled `stable` in the push destination's serving
config, read by a component instead of resolved from ML Metadata.

TFX resolves a baseline with a Resolver (an ML Metadata query), which Vertex AI runs and the
open-source KFP v2 backend rejects. `StableBaseline` needs neither: it reads `models.config`
beside the push destination and copies the `stable` version into its `baseline` output, so every
runner (local, Beam, OSS KFP, Vertex AI) compares a candidate with what actually serves, also
after `tfxp canary rollback`. On a first run there is no stable version: the output then holds no
model and this module's `Evaluator` judges the candidate on value thresholds only.

Caching: the component takes the candidate model as its input. An unchanged re-run hands it the
same (cached) candidate, so its own result and the Evaluator's inputs come from the cache, from
ExampleGen to the Pusher, even though the stable version is now the very model the previous run
pushed. A new candidate re-reads the serving config.
"""
import pathlib
from typing import Any, Dict, List, Optional

from tfx import types
from tfx.components import Evaluator as TfxEvaluator
from tfx.components.evaluator import executor as evaluator_executor
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.dsl.components.base import executor_spec
from tfx.types import standard_artifacts, standard_component_specs
from tfx.utils import io_utils, path_utils

from components import mounts
from serving.config import configs

STABLE_VERSION_PROPERTY = "stable_version"


def stable_model_dir(serving_model_dir: str) -> Optional[pathlib.Path]:
    """The folder of the `stable` version of the model pushed to `serving_model_dir`
    (`<models root>/<model>`), or None when nothing is labelled stable yet."""
    model_dir = pathlib.Path(mounts.local_path(serving_model_dir))
    return configs.labelled_version_dir(model_dir.parent, model_dir.name, configs.STABLE)


def holds_model(model: types.Artifact) -> bool:
    """Whether a Model artifact has a SavedModel where the Evaluator loads it from."""
    return configs.is_saved_model_dir(pathlib.Path(path_utils.serving_model_path(model.uri)))


@component
def StableBaseline(candidate: InputArtifact[standard_artifacts.Model],
                   serving_model_dir: Parameter[str],
                   baseline: OutputArtifact[standard_artifacts.Model],
                   holdout: OutputArtifact[standard_artifacts.Examples],
                   holdout_file: Parameter[str] = "") -> None:
    """Copies the stable version of the served model into `baseline` (empty when there is none)
    and the golden holdout into `holdout`: the file(s) the user named in `holdout_file`, else
    the holdout the stable version carries (components.holdout). `candidate` only orders the
    task after the Trainer and keys its cache (module docstring)."""
    from components import holdout as golden

    del candidate
    stable = stable_model_dir(serving_model_dir)
    files = golden.user_files(holdout_file) if holdout_file else \
        golden.recorded_files(str(stable)) if stable else []
    golden.write_split(files, holdout)
    if stable is None:
        return
    io_utils.copy_dir(str(stable), path_utils.serving_model_path(baseline.uri))
    baseline.set_int_custom_property(STABLE_VERSION_PROPERTY, int(stable.name))


class BaselineAwareExecutor(evaluator_executor.Executor):
    """TFX's Evaluator executor that leaves out a baseline holding no model (a first run)."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        """TFX executor override: drops baseline inputs that hold no model, so the first run is
        evaluated on value thresholds alone."""
        key = standard_component_specs.BASELINE_MODEL_KEY
        baselines = [model for model in input_dict.get(key, []) if holds_model(model)]
        input_dict = {**input_dict, key: baselines}
        if not baselines:
            del input_dict[key]
        super().Do(input_dict, output_dict, exec_properties)


class Evaluator(TfxEvaluator):
    """TFX's Evaluator; an empty baseline (no stable version yet) means value thresholds only."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(BaselineAwareExecutor)
