"""Threshold failures explained in words, from TFMA's own ValidationFailure protos."""
from tensorflow_model_analysis.proto import config_pb2, metrics_for_slice_pb2, validation_result_pb2

from pipelines import run_info


def _failure(name, value, is_diff=False, **threshold):
    failure = validation_result_pb2.ValidationFailure()
    failure.metric_key.name = name
    failure.metric_key.is_diff = is_diff
    failure.metric_value.double_value.value = value
    failure.metric_threshold.CopyFrom(config_pb2.MetricThreshold(**threshold))
    return failure


def test_value_threshold_failure_names_metric_value_and_minimum():
    failure = _failure("auc", 0.71, value_threshold=config_pb2.GenericValueThreshold(
        lower_bound={"value": 0.88}))
    assert run_info.describe_threshold_failure(failure) == \
        "auc = 0.7100 is below the required minimum 0.88"


def test_change_threshold_failure_says_it_is_against_the_baseline():
    failure = _failure("binary_accuracy", -0.05, is_diff=True,
                       change_threshold=config_pb2.GenericChangeThreshold(
                           absolute={"value": -0.01},
                           direction=config_pb2.MetricDirection.HIGHER_IS_BETTER))
    text = run_info.describe_threshold_failure(failure)
    assert text.startswith("the change from the baseline in binary_accuracy = -0.0500")
    assert "absolute change threshold -0.01 against the last blessed model" in text


def test_slice_labels():
    key = metrics_for_slice_pb2.SliceKey()
    assert run_info.slice_label(key) == "Overall"
    key.single_slice_keys.add(column="sex", bytes_value=b"Female")
    assert run_info.slice_label(key) == "sex=Female"


def test_binarized_metrics_keep_their_class_in_the_label():
    key = metrics_for_slice_pb2.MetricKey(name="recall")
    assert run_info.metric_label(key) == "recall"
    key.sub_key.class_id.value = 2
    assert run_info.metric_label(key) == "recall@class_id=2"
