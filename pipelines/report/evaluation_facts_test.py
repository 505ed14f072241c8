"""The evaluation section's words: which way a metric is better, thresholds as sentences."""
import types

import pytest
from tensorflow_model_analysis.proto import config_pb2

from pipelines.report import evaluation_facts


@pytest.mark.parametrize("name, direction", [
    ("auc", 1), ("binary_accuracy", 1), ("loss", -1), ("binary_crossentropy", -1),
    ("false_positives", -1), ("example_count", 0), ("mean_label", 0)])
def test_metric_direction(name, direction):
    assert evaluation_facts.metric_direction(name) == direction


def test_thresholds_read_as_sentences():
    threshold = config_pb2.MetricThreshold()
    threshold.value_threshold.lower_bound.value = 0.85
    threshold.change_threshold.direction = config_pb2.MetricDirection.HIGHER_IS_BETTER
    threshold.change_threshold.absolute.value = -0.01
    assert evaluation_facts._describe_threshold("auc", "every slice", threshold) == (
        "auc on every slice: at least 0.85; fall by no more than 0.01 (absolute) against the "
        "baseline")
    assert evaluation_facts._describe_threshold("loss", "sex=Male", config_pb2.MetricThreshold()
                                                ) == "loss on sex=Male: a threshold with no bounds"


def test_rates_of_a_confusion_matrix_and_of_an_empty_one():
    matrix = types.SimpleNamespace(true_positives=8, false_positives=2, false_negatives=2,
                                   true_negatives=8)
    assert evaluation_facts._rates(matrix) == (0.2, 0.8, 0.8)
    empty = types.SimpleNamespace(true_positives=0, false_positives=0, false_negatives=0,
                                  true_negatives=0)
    assert evaluation_facts._rates(empty) == (0.0, 0.0, 1.0)


def test_an_evaluation_folder_without_its_config_has_no_thresholds(tmp_path):
    assert evaluation_facts.eval_thresholds(str(tmp_path)) == []
