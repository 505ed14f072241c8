"""LocalInfraValidator: a servable model is blessed with a stamped warmup model, a broken one is not."""
import os
import pathlib

import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2
from tfx.types import Channel, standard_artifacts

from components import infra_validator
from serving.server import testing


def _artifacts(tmp_path: pathlib.Path, model_builder):
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / "model")
    model_builder(pathlib.Path(model.uri) / "Format-Serving")
    examples = standard_artifacts.Examples()
    examples.uri = str(tmp_path / "examples")
    examples.split_names = '["train", "eval"]'
    split = pathlib.Path(examples.uri) / "Split-eval"
    split.mkdir(parents=True)
    with tf.io.TFRecordWriter(str(split / "data_tfrecord-00000-of-00001.gz"),
                              options="GZIP") as writer:
        for age in (25, 40, 61):
            writer.write(testing.example(dict(testing.SAMPLE_ROW, age=age)))
    blessing = standard_artifacts.InfraBlessing()
    blessing.uri = str(tmp_path / "blessing")
    os.makedirs(blessing.uri)
    return model, examples, blessing


def test_servable_model_is_blessed_with_stamped_warmup_model(tmp_path):
    model, examples, blessing = _artifacts(tmp_path, testing.build_census_like)
    assert infra_validator.run_validation(model, examples, blessing, num_examples=2)
    assert blessing.get_int_custom_property("blessed") == 1
    assert blessing.get_int_custom_property("has_model") == 1
    assert (pathlib.Path(blessing.uri) / "INFRA_BLESSED").exists()
    stamped = pathlib.Path(blessing.uri) / "stamped_model"
    assert (stamped / "saved_model.pb").exists()
    records = list(tf.compat.v1.io.tf_record_iterator(
        str(stamped / "assets.extra" / "tf_serving_warmup_requests")))
    assert len(records) == 2
    log = prediction_log_pb2.PredictionLog.FromString(records[0])
    assert log.predict_log.request.model_spec.signature_name == "serving_default"
    assert "examples" in log.predict_log.request.inputs


def test_unservable_model_is_not_blessed_and_has_no_model(tmp_path):
    def broken(path):
        path.mkdir(parents=True)
        (path / "saved_model.pb").write_bytes(b"not a model")
    model, examples, blessing = _artifacts(tmp_path, broken)
    assert not infra_validator.run_validation(model, examples, blessing)
    assert blessing.get_int_custom_property("blessed") == 0
    assert not blessing.has_custom_property("has_model")
    assert (pathlib.Path(blessing.uri) / "INFRA_NOT_BLESSED").exists()
    assert not (pathlib.Path(blessing.uri) / "stamped_model").exists()


def test_component_exposes_blessing_output():
    component = infra_validator.LocalInfraValidator(
        model=Channel(type=standard_artifacts.Model),
        examples=Channel(type=standard_artifacts.Examples))
    assert component.outputs["blessing"].type == standard_artifacts.InfraBlessing
