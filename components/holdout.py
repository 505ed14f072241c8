"""The golden holdout: an evaluation set pinned to the model that new data cannot change.

Every pushed version carries its holdout in `assets.extra/golden_holdout/` (gzipped TFRecords of
serialized tf.Examples; TF Serving ignores assets.extra). The first version records the eval
split it was judged on (or the file the user named with `tfxp run --holdout`); every later
version records the holdout it was judged on, so the set stays pinned across pushes until a user
names another file.

Wiring (pipelines/pipeline.py), with a stable baseline:

    StableBaseline --holdout--> HoldoutEvaluator (TFX's Evaluator on split "holdout", change
                                                  thresholds only)
    Evaluator + HoldoutEvaluator --> JointBlessing --> Pusher
    StableBaseline.holdout --> TrainingDataStamp (records it in the pushed copy)

A candidate that scores well on its own eval split (say, one trained and judged on data whose
labels were all flipped) but loses on the holdout beyond the change threshold is not blessed,
and JointBlessing records on which set it lost (`lost_on`).
"""
import os
import pathlib
from typing import Any, Dict, List

from tfx import types
from tfx.components.evaluator import constants as evaluator_constants
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact
from tfx.dsl.component.experimental.decorators import component
from tfx.dsl.components.base import executor_spec
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs
from tfx.utils import io_utils

from components.stable_baseline import BaselineAwareExecutor, Evaluator, holds_model

HOLDOUT_DIR = os.path.join("assets.extra", "golden_holdout")
HOLDOUT_SPLIT = "holdout"
LOST_ON_KEY = "lost_on"
SKIPPED_KEY = "holdout_skipped"
BLESSED_KEY = evaluator_constants.ARTIFACT_PROPERTY_BLESSED_KEY


def recorded_files(model_dir: str) -> List[str]:
    """The holdout files a SavedModel folder carries (empty when it carries none)."""
    folder = pathlib.Path(model_dir) / HOLDOUT_DIR
    return sorted(str(p) for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []


def split_files(examples: types.Artifact, split: str) -> List[str]:
    """The files of one split of an Examples artifact (empty when it has no such split)."""
    if split not in artifact_utils.decode_split_names(examples.split_names or "[]"):
        return []
    folder = pathlib.Path(artifact_utils.get_split_uri([examples], split))
    return sorted(str(p) for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []


def _check_tf_examples(path: str) -> None:
    """Raises ValueError unless `path` is a (gzipped) TFRecord file of serialized tf.Examples."""
    import tensorflow as tf

    compression = "GZIP" if path.endswith(".gz") else ""
    try:
        first = next(iter(tf.data.TFRecordDataset([path], compression_type=compression)), None)
        if first is None:
            raise ValueError("it holds no records")
        tf.train.Example.FromString(first.numpy())
    except (tf.errors.OpError, ValueError, Exception) as error:  # any unreadable record
        raise ValueError(
            f"holdout file {path} is not a TFRecord file of serialized tf.Examples "
            f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}); "
            "name a TFRecord file (gzipped when it ends in .gz) such as ExampleGen writes, "
            "or a folder of them") from None


def user_files(path: str) -> List[str]:
    """The TFRecord files of a user-named holdout (a file or a folder of files), checked."""
    target = pathlib.Path(path)
    if target.is_dir():
        files = sorted(str(p) for p in target.glob("*") if p.is_file())
    elif target.is_file():
        files = [str(target)]
    else:
        raise ValueError(f"holdout {path} does not exist; name a TFRecord file of tf.Examples "
                         "or a folder of them")
    if not files:
        raise ValueError(f"holdout folder {path} holds no files")
    for file in files:
        _check_tf_examples(file)
    return files


def write_split(files: List[str], examples: types.Artifact) -> None:
    """Copies holdout files into `examples` as its one split "holdout" (gzipped names kept)."""
    target = pathlib.Path(examples.uri) / f"Split-{HOLDOUT_SPLIT}"
    for index, source in enumerate(files):
        suffix = ".gz" if source.endswith(".gz") else ""
        io_utils.copy_file(source, str(target / f"holdout-{index:05d}{suffix}"), overwrite=True)
    examples.split_names = artifact_utils.encode_split_names([HOLDOUT_SPLIT])


def record(files: List[str], model_dir: str) -> None:
    """Writes the holdout files into a SavedModel folder's assets.extra (the pinned set)."""
    for index, source in enumerate(files):
        suffix = ".gz" if source.endswith(".gz") else ""
        io_utils.copy_file(source, os.path.join(model_dir, HOLDOUT_DIR,
                                                f"holdout-{index:05d}{suffix}"), overwrite=True)


def change_thresholds_only(eval_config):
    """A copy of a TFMA EvalConfig whose thresholds keep only their change part: on the
    holdout a candidate must not lose against the baseline, the absolute floors belong to the
    eval split."""
    holdout_config = type(eval_config)()
    holdout_config.CopyFrom(eval_config)
    for metrics_spec in holdout_config.metrics_specs:
        for metric in metrics_spec.metrics:
            metric.threshold.ClearField("value_threshold")
            for per_slice in metric.per_slice_thresholds:
                per_slice.threshold.ClearField("value_threshold")
            for cross_slice in metric.cross_slice_thresholds:
                cross_slice.threshold.ClearField("value_threshold")
        for threshold in metrics_spec.thresholds.values():
            threshold.ClearField("value_threshold")
    return holdout_config


def _bless_skipped(blessing: types.Artifact, reason: str) -> None:
    io_utils.write_string_file(os.path.join(blessing.uri, evaluator_constants.BLESSED_FILE_NAME),
                               "")
    blessing.set_int_custom_property(BLESSED_KEY, evaluator_constants.BLESSED_VALUE)
    blessing.set_string_custom_property(SKIPPED_KEY, reason)


class HoldoutExecutor(BaselineAwareExecutor):
    """TFX's Evaluator on the holdout; without a holdout or a baseline there is nothing to
    compare, and the blessing says so (`holdout_skipped`)."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        """TFX executor override: evaluates candidate and baseline on the holdout split, or
        blesses with the reason it could not (first run, no holdout recorded)."""
        examples = input_dict[standard_component_specs.EXAMPLES_KEY]
        baselines = [m for m in input_dict.get(standard_component_specs.BASELINE_MODEL_KEY, [])
                     if holds_model(m)]
        blessing = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.BLESSING_KEY])
        if not baselines:
            _bless_skipped(blessing, "no stable version to compare with")
        elif not examples or not split_files(examples[0], HOLDOUT_SPLIT):
            _bless_skipped(blessing, "no holdout recorded with the stable version")
        else:
            super().Do(input_dict, output_dict, exec_properties)


class HoldoutEvaluator(Evaluator):
    """TFX's Evaluator judging candidate and baseline on the pinned holdout."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(HoldoutExecutor)


def joint_verdict(evaluation_blessed: bool, holdout_blessed: bool) -> str:
    """Where a candidate lost: "" (nowhere), "eval", "holdout" or "eval and holdout"."""
    lost = [name for name, ok in (("eval", evaluation_blessed), ("holdout", holdout_blessed))
            if not ok]
    return " and ".join(lost)


@component
def JointBlessing(  # noqa: N802  (TFX component names are classes)
        evaluation_blessing: InputArtifact[standard_artifacts.ModelBlessing],
        holdout_blessing: InputArtifact[standard_artifacts.ModelBlessing],
        blessing: OutputArtifact[standard_artifacts.ModelBlessing]):
    """Blessed only when the candidate passed on the new eval split and on the holdout;
    `lost_on` names the set(s) it lost on."""
    lost_on = joint_verdict(
        bool(evaluation_blessing.get_int_custom_property(BLESSED_KEY)),
        bool(holdout_blessing.get_int_custom_property(BLESSED_KEY)))
    for key in (evaluator_constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY,
                evaluator_constants.ARTIFACT_PROPERTY_BASELINE_MODEL_URI_KEY):
        if evaluation_blessing.has_custom_property(key):
            blessing.set_string_custom_property(
                key, evaluation_blessing.get_string_custom_property(key))
    blessing.set_string_custom_property(LOST_ON_KEY, lost_on)
    name = evaluator_constants.NOT_BLESSED_FILE_NAME if lost_on else \
        evaluator_constants.BLESSED_FILE_NAME
    io_utils.write_string_file(os.path.join(blessing.uri, name), "")
    blessing.set_int_custom_property(BLESSED_KEY, 0 if lost_on else 1)
