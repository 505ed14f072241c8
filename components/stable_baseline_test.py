"""StableBaseline copies the served `stable` version; the Evaluator ignores an empty baseline."""
import pathlib

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


def _run(serving_model_dir: str, out: pathlib.Path):
    baseline = _model(out)
    out.mkdir(parents=True, exist_ok=True)
    stable_baseline.StableBaseline.EXECUTOR_SPEC.executor_class().Do(
        {"candidate": [_model(out.parent / "candidate")]}, {"baseline": [baseline]},
        {"serving_model_dir": serving_model_dir})
    return baseline


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
