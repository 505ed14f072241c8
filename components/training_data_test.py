"""TrainingDataStamp: the pushed copy carries the train split's statistics and the schema."""
import tensorflow as tf
from tfx.types import standard_artifacts
from tfx.utils import path_utils

from components import training_data
from data import settings, validation


def _artifact(artifact_class, uri):
    artifact = artifact_class()
    artifact.uri = str(uri)
    return artifact


def test_stamped_copy_holds_the_model_its_statistics_and_schema(tmp_path):
    model = _artifact(standard_artifacts.Model, tmp_path / "model")
    module = tf.Module()
    module.double = tf.function(lambda x: 2 * x, input_signature=[tf.TensorSpec([None])])
    tf.saved_model.save(module, path_utils.serving_model_dir(model.uri))
    statistics = _artifact(standard_artifacts.ExampleStatistics, tmp_path / "stats")
    dataset = validation.statistics_from_examples(validation.read_examples(
        str(settings.SAMPLES_ROOT / "census" / "eval" / "census_eval.csv")))
    (tmp_path / "stats" / "Split-train").mkdir(parents=True)
    (tmp_path / "stats" / "Split-train" / validation.STATISTICS_FILE).write_bytes(
        validation.as_list(dataset).SerializeToString())
    schema = _artifact(standard_artifacts.Schema, tmp_path / "schema")
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "schema.pbtxt").write_text(
        (settings.SCHEMAS_ROOT / "census.pbtxt").read_text())
    stamped = _artifact(standard_artifacts.Model, tmp_path / "stamped")

    training_data.TrainingDataStamp.EXECUTOR_SPEC.executor_class().Do(
        {"model": [model], "statistics": [statistics], "schema": [schema]},
        {"stamped_model": [stamped]}, {"train_split": "train"})

    served = path_utils.serving_model_path(stamped.uri)
    assert float(tf.saved_model.load(served).double(tf.constant([2.0]))[0]) == 4.0
    carried, carried_schema = validation.load_training_data(served)
    assert carried.num_examples == 1000
    assert "race" in {f.name for f in carried_schema.feature}
    assert validation.load_training_data(path_utils.serving_model_path(model.uri)) == (None, None)
