"""The data gate's reading of ExampleValidator output and its error message."""
import pytest
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.types import artifact_utils, standard_artifacts

from components import data_gate


def _anomalies_artifact(tmp_path, per_split):
    artifact = standard_artifacts.ExampleAnomalies()
    artifact.uri = str(tmp_path)
    artifact.split_names = artifact_utils.encode_split_names(list(per_split))
    for split, infos in per_split.items():
        anomalies = anomalies_pb2.Anomalies()
        for feature, description in infos.items():
            info = anomalies.anomaly_info[feature]
            info.reason.add(description=description, short_description="short")
        (tmp_path / f"Split-{split}").mkdir()
        (tmp_path / f"Split-{split}" / data_gate.ANOMALIES_FILE).write_bytes(
            anomalies.SerializeToString())
    return artifact


def test_describe_anomalies_names_split_feature_and_reason(tmp_path):
    artifact = _anomalies_artifact(tmp_path, {
        "train": {"age": "Unexpectedly large value: 450."},
        "eval": {}})
    assert data_gate.describe_anomalies(artifact) == [
        "split 'train', feature 'age': Unexpectedly large value: 450."]


def test_clean_data_passes_the_gate_component(tmp_path):
    artifact = _anomalies_artifact(tmp_path, {"train": {}, "eval": {}})
    executor = data_gate.DataGate.EXECUTOR_SPEC.executor_class()
    executor.Do({"anomalies": [artifact]}, {}, {})


def test_gate_raises_with_every_problem(tmp_path):
    artifact = _anomalies_artifact(tmp_path, {
        "train": {"sex": "Unexpected string values: Unknown", "age": "Out of range"}})
    with pytest.raises(data_gate.DataGateError) as raised:
        data_gate.DataGate.EXECUTOR_SPEC.executor_class().Do({"anomalies": [artifact]}, {}, {})
    message = str(raised.value)
    assert "2 anomalies" in message
    assert "feature 'age': Out of range" in message
    assert "feature 'sex': Unexpected string values: Unknown" in message
    assert "update the model's schema" in message
