"""The data section's facts: drift and skew distances as TFDV measures them."""
import tensorflow_data_validation as tfdv

from pipelines.report import data_facts


def _statistics(values):
    import pandas as pd

    return tfdv.generate_statistics_from_dataframe(pd.DataFrame({"sex": values})).datasets[0]


def _statistics_list(dataset):
    from tensorflow_metadata.proto.v0 import statistics_pb2

    return statistics_pb2.DatasetFeatureStatisticsList(datasets=[dataset])


def test_identical_splits_are_no_skew_and_different_ones_are_measured():
    train = _statistics(["Male"] * 60 + ["Female"] * 40)
    schema = tfdv.infer_schema(_statistics_list(train))
    same = data_facts.distances(schema, train, eval_stats=train)
    assert [(d.feature, d.comparison, d.value, d.exceeded) for d in same] == [
        ("sex", "skew", 0.0, False)]
    shifted = data_facts.distances(schema, train, eval_stats=_statistics(["Male"] * 100))
    assert [(d.feature, d.comparison, round(d.value, 2), d.exceeded) for d in shifted] == [
        ("sex", "skew", 0.4, True)]


def test_no_skew_result_saved_means_no_serving_skew_section(tmp_path):
    assert data_facts.gather_serving_skew(tmp_path) is None
