"""TrainingDataStamp: a copy of the trained model that carries the data it was trained on.

Writes the StatisticsGen statistics of the training split and the schema into the SavedModel's
`assets.extra/training_data/` (TF Serving ignores assets.extra), so every pushed version can be
compared with what it learned from: the data gate measures drift of new training data against
the `stable` version's statistics, and `tfxp skew` compares serving requests with them.

Wiring (pipelines/pipeline.py): Trainer -> TrainingDataStamp -> LocalInfraValidator (which copies
the stamped model and adds the warmup requests) -> Pusher, or straight to the Pusher's `model`
without infra validation. The Evaluator keeps reading the Trainer's model.
"""
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts
from tfx.utils import io_utils, path_utils

from data import validation


def stamp(model, statistics, schema, stamped_model, train_split: str = "train",
          examples=None, holdout=None, eval_split: str = "eval") -> str:
    """Copies `model`'s serving model into `stamped_model` and adds the training data's
    statistics and schema, and the golden holdout it was judged on: `holdout`'s files when it
    has any (the pinned set), else the `eval_split` of `examples`. Returns the stamped serving
    model folder."""
    import os

    from components import holdout as golden

    source = path_utils.serving_model_path(model.uri, path_utils.is_old_model_artifact(model))
    target = path_utils.serving_model_dir(stamped_model.uri)
    io_utils.copy_dir(source, target)
    statistics_file = validation.statistics_path(statistics.uri, train_split)
    if not os.path.exists(statistics_file):
        raise FileNotFoundError(f"no statistics for split {train_split!r}: {statistics_file}")
    validation.write_training_data(target, statistics_file,
                                   os.path.join(schema.uri, "schema.pbtxt"))
    pinned = golden.split_files(holdout, golden.HOLDOUT_SPLIT) if holdout is not None else []
    golden.record(pinned or (golden.split_files(examples, eval_split) if examples else []),
                  target)
    return target


@component
def TrainingDataStamp(  # noqa: N802  (TFX component names are classes)
        model: InputArtifact[standard_artifacts.Model],
        statistics: InputArtifact[standard_artifacts.ExampleStatistics],
        schema: InputArtifact[standard_artifacts.Schema],
        stamped_model: OutputArtifact[standard_artifacts.Model],
        examples: InputArtifact[standard_artifacts.Examples] = None,
        holdout: InputArtifact[standard_artifacts.Examples] = None,
        train_split: Parameter[str] = "train",
        eval_split: Parameter[str] = "eval"):
    """The trained model plus its training split's statistics and schema and its golden
    holdout in assets.extra."""
    stamp(model, statistics, schema, stamped_model, train_split, examples, holdout, eval_split)
