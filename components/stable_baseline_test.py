"""StableBaseline copies the served `stable` version; the Evaluator ignores an empty baseline."""
import pathlib

import pytest
from tfx.types import standard_artifacts

from components import stable_baseline
from serving.config import configs
from serving.rollout import canary


def _push(models_root: pathlib.Path, model: str, version: int, payload: bytes) -> pathlib.Path:
    folder = models_root / model / str(version)
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(payload)
    canary.on_push(models_root, model, version)
    return folder


def _model(uri: pathlib.Path):
    artifact = standard_artifacts.Model()
    artifact.uri = str(uri)
    return artifact


def _outputs(serving_model_dir: str, out: pathlib.Path, holdout_file: str = ""):
    baseline = _model(out)
    out.mkdir(parents=True, exist_ok=True)
    holdout = standard_artifacts.Examples()
    holdout.uri = str(out.parent / (out.name + "-holdout"))
    stable_baseline.StableBaseline.EXECUTOR_SPEC.executor_class().Do(
        {"candidate": [_model(out.parent / "candidate")]},
        {"baseline": [baseline], "holdout": [holdout]},
        {"serving_model_dir": serving_model_dir, "holdout_file": holdout_file})
    return baseline, holdout


def _run(serving_model_dir: str, out: pathlib.Path):
    return _outputs(serving_model_dir, out)[0]


def test_first_run_has_no_stable_version_and_outputs_no_model(tmp_path):
    baseline = _run(str(tmp_path / "serving" / "census"), tmp_path / "out")
    assert not stable_baseline.holds_model(baseline)


def test_the_stable_version_not_the_newest_is_copied(tmp_path):
    root = tmp_path / "serving"
    _push(root, "census", 1, b"one")
    _push(root, "census", 2, b"two")
    assert configs.labelled_version_dir(root, "census", "canary").name == "2"
    baseline = _run(str(root / "census"), tmp_path / "out")
    assert stable_baseline.holds_model(baseline)
    copied = pathlib.Path(baseline.uri) / "Format-Serving" / "saved_model.pb"
    assert copied.read_bytes() == b"one"
    assert baseline.get_int_custom_property(stable_baseline.STABLE_VERSION_PROPERTY) == 1


def test_after_a_rollback_the_baseline_is_what_serves(tmp_path):
    root = tmp_path / "serving"
    _push(root, "census", 1, b"one")
    _push(root, "census", 2, b"two")
    canary.promote(root, "census")
    assert _run(str(root / "census"), tmp_path / "a").get_int_custom_property("stable_version") == 2
    canary.rollback(root, "census")
    baseline = _run(str(root / "census"), tmp_path / "b")
    assert baseline.get_int_custom_property("stable_version") == 1
    copied = pathlib.Path(baseline.uri) / "Format-Serving" / "saved_model.pb"
    assert copied.read_bytes() == b"one"


def test_evaluator_drops_an_empty_baseline_and_keeps_a_real_one(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr(stable_baseline.evaluator_executor.Executor, "Do",
                        lambda self, inputs, outputs, props: seen.update(inputs=inputs))
    empty = _model(tmp_path / "empty")
    stable_baseline.BaselineAwareExecutor().Do({"model": [], "baseline_model": [empty]}, {}, {})
    assert "baseline_model" not in seen["inputs"]
    real = _model(tmp_path / "real")
    (tmp_path / "real" / "Format-Serving").mkdir(parents=True)
    (tmp_path / "real" / "Format-Serving" / "saved_model.pb").write_bytes(b"x")
    stable_baseline.BaselineAwareExecutor().Do({"model": [], "baseline_model": [real]}, {}, {})
    assert seen["inputs"]["baseline_model"] == [real]


def _write_examples(path: pathlib.Path, count: int) -> pathlib.Path:
    import tensorflow as tf

    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for index in range(count):
            example = tf.train.Example()
            example.features.feature["age"].int64_list.value.append(index)
            writer.write(example.SerializeToString())
    return path


def test_the_holdout_is_the_one_the_stable_version_carries_or_the_users_file(tmp_path):
    from components import holdout

    root = tmp_path / "serving"
    version = _push(root, "census", 1, b"one")
    first, empty = _outputs(str(root / "census"), tmp_path / "first")
    assert holdout.split_files(empty, holdout.HOLDOUT_SPLIT) == []
    holdout.record([str(_write_examples(tmp_path / "eval" / "part.gz", 3))], str(version))
    _, pinned = _outputs(str(root / "census"), tmp_path / "pinned")
    files = holdout.split_files(pinned, holdout.HOLDOUT_SPLIT)
    assert [pathlib.Path(f).read_bytes() for f in files] == \
        [(tmp_path / "eval" / "part.gz").read_bytes()]
    users = _write_examples(tmp_path / "mine" / "golden.tfrecord.gz", 5)
    _, named = _outputs(str(root / "census"), tmp_path / "named", str(users))
    assert [pathlib.Path(f).read_bytes() for f in holdout.split_files(
        named, holdout.HOLDOUT_SPLIT)] == [users.read_bytes()]


def test_a_holdout_file_that_is_not_tf_examples_is_refused_naming_it(tmp_path):
    from components import holdout

    bad = tmp_path / "golden.csv"
    bad.write_text("age,income\n1,>50K\n")
    with pytest.raises(ValueError, match=r"golden.csv is not a TFRecord file of serialized"):
        holdout.user_files(str(bad))
    with pytest.raises(ValueError, match=r"does not exist"):
        holdout.user_files(str(tmp_path / "missing"))
