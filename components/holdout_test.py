"""The holdout's eval config keeps only change thresholds; JointBlessing names where it lost."""
import pathlib

from tfx.types import standard_artifacts

from components import holdout


def _gated_config():
    import tensorflow_model_analysis as tfma

    threshold = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": 0.8}),
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER, absolute={"value": -0.01}))
    return tfma.EvalConfig(metrics_specs=[tfma.MetricsSpec(
        metrics=[tfma.MetricConfig(class_name="AUC", threshold=threshold),
                 tfma.MetricConfig(class_name="BinaryAccuracy", per_slice_thresholds=[
                     tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()],
                                                  threshold=threshold)])],
        thresholds={"loss": threshold})])


def test_holdout_config_keeps_change_thresholds_and_drops_floors():
    original = _gated_config()
    config = holdout.change_thresholds_only(original)
    metrics = config.metrics_specs[0].metrics
    thresholds = [metrics[0].threshold, metrics[1].per_slice_thresholds[0].threshold,
                  config.metrics_specs[0].thresholds["loss"]]
    assert all(t.HasField("change_threshold") and not t.HasField("value_threshold")
               for t in thresholds)
    assert original.metrics_specs[0].metrics[0].threshold.HasField("value_threshold"), \
        "the eval split keeps its floors"


def _blessing(tmp_path: pathlib.Path, name: str, blessed: int):
    artifact = standard_artifacts.ModelBlessing()
    artifact.uri = str(tmp_path / name)
    pathlib.Path(artifact.uri).mkdir()
    artifact.set_int_custom_property("blessed", blessed)
    return artifact


def _joint(tmp_path, evaluation: int, golden: int):
    output = _blessing(tmp_path, f"joint-{evaluation}{golden}", 0)
    holdout.JointBlessing.EXECUTOR_SPEC.executor_class().Do(
        {"evaluation_blessing": [_blessing(tmp_path, f"e{evaluation}{golden}", evaluation)],
         "holdout_blessing": [_blessing(tmp_path, f"h{evaluation}{golden}", golden)]},
        {"blessing": [output]}, {})
    return output


def test_joint_blessing_needs_both_sets_and_names_the_one_lost(tmp_path):
    verdicts = {(e, h): _joint(tmp_path, e, h) for e in (0, 1) for h in (0, 1)}
    assert verdicts[1, 1].get_int_custom_property("blessed") == 1
    assert (pathlib.Path(verdicts[1, 1].uri) / "BLESSED").exists()
    assert {key: v.get_string_custom_property(holdout.LOST_ON_KEY)
            for key, v in verdicts.items()} == {
        (1, 1): "", (1, 0): "holdout", (0, 1): "eval", (0, 0): "eval and holdout"}
    assert all(v.get_int_custom_property("blessed") == 0 and
               (pathlib.Path(v.uri) / "NOT_BLESSED").exists()
               for key, v in verdicts.items() if key != (1, 1))
