"""The data gate's checks on real TFDV statistics of the committed census sample."""
import json
import random

import pytest
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.types import artifact_utils, standard_artifacts

from components import data_gate
from data import settings, validation

SCHEMA = tfdv.load_schema_text(str(settings.SCHEMAS_ROOT / "census.pbtxt"))
MINIMUM = {"train": 100, "eval": 20}


def _lines(split):
    return (settings.SAMPLES_ROOT / "census" / split / f"census_{split}.csv").read_text().splitlines()


def _stats(lines):
    return validation.statistics_from_examples(validation.csv_examples(lines))


def _without(lines, column, value):
    index = lines[0].split(",").index(column)
    return [lines[0]] + [line for line in lines[1:] if line.split(",")[index] != value]


@pytest.fixture(scope="module")
def sample():
    return {split: _stats(_lines(split)) for split in ("train", "eval")}


@pytest.fixture(scope="module")
def no_white_rows():
    """The training sample resampled so that it holds no race=White rows (issue 12's case)."""
    return _stats(_without(_lines("train"), "race", "White"))


def test_clean_sample_passes_and_records_skew_with_no_drift_on_a_first_run(sample):
    report = data_gate.check({}, sample, SCHEMA, MINIMUM)
    assert report.rows == {"train": 2000, "eval": 1000}
    assert {d.feature for d in report.skew} >= {"age", "race", "sex"}
    assert not any(d.exceeded for d in report.skew)
    assert report.drift == [] and not report.drift_accepted


def test_the_same_data_shuffled_is_no_drift_against_the_stable_statistics(sample):
    lines = _lines("train")
    body = lines[1:]
    random.Random(7).shuffle(body)
    shuffled = _stats([lines[0]] + body)
    report = data_gate.check({}, dict(sample, train=shuffled), SCHEMA, MINIMUM,
                             stable_statistics=sample["train"], stable_version_dir="v1")
    assert report.drift and max(d.value for d in report.drift) < 1e-6


def test_empty_train_split_is_stopped_naming_the_split_and_row_count(sample):
    empty = _stats([_lines("train")[0]])
    with pytest.raises(data_gate.DataGateError) as raised:
        data_gate.check({}, dict(sample, train=empty), SCHEMA, MINIMUM)
    assert raised.value.kinds == [data_gate.TOO_FEW_ROWS]
    assert "split 'train' has 0 rows; the model needs at least 100" in str(raised.value)


def test_training_data_without_white_rows_drifts_from_the_stable_version(sample, no_white_rows):
    drifted = no_white_rows
    with pytest.raises(data_gate.DataGateError) as raised:
        data_gate.check({}, dict(sample, train=drifted), SCHEMA, MINIMUM,
                        stable_statistics=sample["train"], stable_version_dir="models/census/1")
    error = raised.value
    assert isinstance(error, RuntimeError) and data_gate.DRIFT in error.kinds
    drift_lines = [p for p in error.problems if p.startswith("drift")]
    race = next(p for p in drift_lines if "'race'" in p)
    assert "against the stable version (models/census/1)" in race
    assert "L-infinity distance 0.8" in race and "> threshold 0.05" in race
    assert "--accept-drift" in str(error)


def test_accept_drift_lets_the_data_through_and_records_it(sample, no_white_rows):
    drifted = no_white_rows
    report = data_gate.check({}, dict(sample, train=drifted), SCHEMA, MINIMUM,
                             stable_statistics=sample["train"], stable_version_dir="v1",
                             accept_drift=True)
    assert report.drift_accepted and "race" in {d.feature for d in report.drifted}
    again = data_gate.GateReport.from_json(report.to_json())
    assert again == report
    assert any("'race'" in line for line in data_gate.summary_lines(again))


def test_an_eval_split_unlike_train_is_train_eval_skew(sample):
    males = _stats(_without(_lines("eval"), "sex", "Female"))
    with pytest.raises(data_gate.DataGateError) as raised:
        data_gate.check({}, dict(sample, eval=males), SCHEMA, MINIMUM)
    assert raised.value.kinds == [data_gate.SKEW]
    assert "train/eval skew, feature 'sex': L-infinity distance" in str(raised.value)


def _artifact(artifact_class, uri, splits=None):
    artifact = artifact_class()
    artifact.uri = str(uri)
    if splits:
        artifact.split_names = artifact_utils.encode_split_names(list(splits))
    return artifact


def test_component_reads_example_validator_output_and_writes_its_result(sample, tmp_path):
    anomalies = anomalies_pb2.Anomalies()
    anomalies.anomaly_info["age"].reason.add(description="Unexpectedly large value: 450.")
    for split, dataset in sample.items():
        (tmp_path / "anomalies" / f"Split-{split}").mkdir(parents=True)
        (tmp_path / "anomalies" / f"Split-{split}" / validation.ANOMALIES_FILE).write_bytes(
            (anomalies if split == "train" else anomalies_pb2.Anomalies()).SerializeToString())
        (tmp_path / "stats" / f"Split-{split}").mkdir(parents=True)
        (tmp_path / "stats" / f"Split-{split}" / validation.STATISTICS_FILE).write_bytes(
            validation.as_list(dataset).SerializeToString())
    (tmp_path / "schema").mkdir()
    tfdv.write_schema_text(SCHEMA, str(tmp_path / "schema" / "schema.pbtxt"))
    inputs = {"anomalies": [_artifact(standard_artifacts.ExampleAnomalies, tmp_path / "anomalies",
                                      sample)],
              "statistics": [_artifact(standard_artifacts.ExampleStatistics, tmp_path / "stats",
                                       sample)],
              "schema": [_artifact(standard_artifacts.Schema, tmp_path / "schema")]}
    result = _artifact(data_gate.DataGateResult, tmp_path / "result")
    properties = {"min_split_examples": json.dumps(MINIMUM), "models_root": str(tmp_path),
                  "model_name": "census", "accept_drift": False, "train_split": "train",
                  "eval_split": "eval"}
    executor = data_gate.DataGate.EXECUTOR_SPEC.executor_class()
    with pytest.raises(data_gate.DataGateError, match="split 'train', feature 'age': "
                                                      "Unexpectedly large value: 450."):
        executor.Do(inputs, {"result": [result]}, properties)

    clean = anomalies_pb2.Anomalies().SerializeToString()
    (tmp_path / "anomalies" / "Split-train" / validation.ANOMALIES_FILE).write_bytes(clean)
    executor.Do(inputs, {"result": [result]}, properties)
    report = data_gate.read_result(result.uri)
    assert report.rows == {"train": 2000, "eval": 1000}
    assert "first run" in report.note


@pytest.mark.requires("prepared-data")
def test_the_committed_census_sample_does_not_drift_from_the_full_data(sample):
    """A sample run against a stable version trained on the full prepared data."""
    full = settings.PREPARED_ROOT / "census" / "train" / "census_train.csv"
    full_statistics = _stats(full.read_text().splitlines())
    report = data_gate.check({}, sample, SCHEMA, MINIMUM, stable_statistics=full_statistics,
                             stable_version_dir="full")
    assert report.drift and not report.drifted
