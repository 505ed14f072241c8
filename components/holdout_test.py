"""The holdout's eval config keeps only change thresholds; JointBlessing names where it lost."""
import pathlib

from tfx.types import standard_artifacts

from components import holdout
from models.census import SPEC


def test_holdout_config_keeps_change_thresholds_and_drops_floors():
    config = holdout.change_thresholds_only(SPEC.eval_config(SPEC.thresholds))
    thresholds = [t.threshold for spec in config.metrics_specs for m in spec.metrics
                  for t in m.per_slice_thresholds]
    assert len(thresholds) == 2
    assert all(t.HasField("change_threshold") and not t.HasField("value_threshold")
               for t in thresholds)
    original = SPEC.eval_config(SPEC.thresholds)
    assert original.metrics_specs[0].metrics[1].per_slice_thresholds[0].threshold.HasField(
        "value_threshold"), "the eval split keeps its floors"


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
