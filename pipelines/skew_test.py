"""Request logs -> raw rows -> serving skew, on PredictionLog files written with TF Serving's
own protos from the committed census sample."""
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from data import settings, validation
from pipelines import skew
from pipelines.testing import CENSUS_NUMERIC, census_sample_rows


def _example(row) -> tf.train.Example:
    example = tf.train.Example()
    for key, value in row.items():
        if key == "income" or value == "":
            continue
        if key in CENSUS_NUMERIC:
            example.features.feature[key].int64_list.value.append(int(value))
        else:
            example.features.feature[key].bytes_list.value.append(value.encode())
    return example


def classify_log(rows) -> prediction_log_pb2.PredictionLog:
    log = prediction_log_pb2.PredictionLog()
    log.classify_log.request.model_spec.name = "census"
    log.classify_log.request.input.example_list.examples.extend(_example(r) for r in rows)
    return log


def raw_predict_log(rows) -> prediction_log_pb2.PredictionLog:
    """A Predict request to census's `serving_raw` signature: one named tensor per raw feature."""
    log = prediction_log_pb2.PredictionLog()
    request = log.predict_log.request
    request.model_spec.name, request.model_spec.signature_name = "census", "serving_raw"
    for key in rows[0]:
        if key == "income":
            continue
        values = [int(r[key]) if key in CENSUS_NUMERIC else r[key].encode() for r in rows]
        array = np.array(values, dtype=np.int64 if key in CENSUS_NUMERIC else object)
        request.inputs[key].CopyFrom(tf.make_tensor_proto(array))
    return log


def write_logs(path, logs):
    with tf.io.TFRecordWriter(str(path)) as writer:
        for log in logs:
            writer.write(log.SerializeToString())
    return path


@pytest.fixture(scope="module")
def version_dir(tmp_path_factory):
    """A version folder carrying the census sample's training statistics and schema."""
    folder = tmp_path_factory.mktemp("census") / "1"
    statistics = validation.statistics_from_examples(
        validation.read_examples(str(settings.SAMPLES_ROOT / "census" / "train" /
                                     "census_train.csv")))
    stats_file = folder.parent / "train_stats.pb"
    stats_file.write_bytes(validation.as_list(statistics).SerializeToString())
    validation.write_training_data(str(folder), str(stats_file),
                                   str(settings.SCHEMAS_ROOT / "census.pbtxt"))
    return folder


def test_rows_are_rebuilt_from_classify_regress_and_predict_logs(tmp_path):
    rows = census_sample_rows("eval")[:3]
    regress = prediction_log_pb2.PredictionLog()
    with_context = regress.regress_log.request.input.example_list_with_context
    with_context.context.CopyFrom(_example({"race": "White"}))
    with_context.examples.add().CopyFrom(_example({"age": "40"}))
    serialized = prediction_log_pb2.PredictionLog()
    serialized.predict_log.request.inputs["examples"].CopyFrom(tf.make_tensor_proto(
        np.array([_example(rows[0]).SerializeToString()], dtype=object)))
    write_logs(tmp_path / "log-0.tfrecord", [classify_log(rows), regress])
    write_logs(tmp_path / "log-1.tfrecord", [raw_predict_log(rows[:2]), serialized])

    rebuilt = [tf.train.Example.FromString(r) for r in skew.read_request_examples(tmp_path)]
    assert len(rebuilt) == 3 + 1 + 2 + 1
    assert rebuilt[0] == _example(rows[0])
    assert rebuilt[3] == _example({"race": "White", "age": "40"})
    assert rebuilt[4] == _example(rows[0]) and rebuilt[5] == _example(rows[1])
    assert rebuilt[6] == _example(rows[0])


def test_requests_drawn_from_the_eval_split_show_no_skew(version_dir, tmp_path):
    rows = census_sample_rows("eval")
    logs = write_logs(tmp_path / "requests.tfrecord", [classify_log(rows[i:i + 50])
                                              for i in range(0, len(rows), 50)])
    result, _, _ = skew.measure("census", version_dir, skew.read_request_examples(logs))
    assert result.requests == len(rows)
    assert {d.feature for d in result.distances} >= {"age", "race", "sex", "occupation"}
    assert "income" not in {d.feature for d in result.distances}
    assert result.skewed == []


def test_requests_with_only_one_race_are_skewed(version_dir, tmp_path):
    rows = [dict(r, race="Black") for r in census_sample_rows("eval")]
    logs = write_logs(tmp_path / "requests.tfrecord", [raw_predict_log(rows[i:i + 100])
                                              for i in range(0, len(rows), 100)])
    result, training, serving = skew.measure("census", version_dir,
                                             skew.read_request_examples(logs))
    assert [d.feature for d in result.skewed] == ["race"]
    race = result.skewed[0]
    assert race.measure == "L-infinity" and race.value > 0.8 and race.threshold == 0.05
    assert result.serving_summary["race"] == "Black: 100%"
    table = skew.format_table(result)
    assert table.splitlines()[1].split()[:5] == ["race", "L-infinity", f"{race.value:.4f}",
                                                 "0.05", "SKEW"]
    home = tmp_path / "home"
    skew.save(result, training, serving, home)
    again, _, saved_serving = skew.load_saved(home)
    assert again == result and saved_serving.num_examples == len(rows)


def test_a_version_without_training_statistics_is_a_clear_error(tmp_path):
    with pytest.raises(skew.SkewInputError, match="carries no training statistics"):
        skew.measure("census", tmp_path, [b""])
