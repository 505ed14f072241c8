"""The index's stable/canary columns come from models.config; a report never fails on it."""
from pipelines.report import serving_facts
from serving.config.testing import fake_versions
from serving.rollout import canary


def test_labels_are_read_from_the_models_config(tmp_path):
    fake_versions(tmp_path, "census", 1, 2)
    canary.on_push(tmp_path, "census", 1)
    canary.start(tmp_path, "census", 2, "10")
    assert serving_facts.serving_labels(tmp_path / "models.config") == {
        "census": {"stable": 1, "canary": 2}}


def test_a_missing_or_broken_config_gives_no_labels(tmp_path):
    assert serving_facts.serving_labels(tmp_path / "models.config") == {}
    (tmp_path / "models.config").write_text("model_config_list { config { nonsense: 1 } }")
    assert serving_facts.serving_labels(tmp_path / "models.config") == {}
