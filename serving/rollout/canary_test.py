"""Canary rewrites of models.config: the push policy, start/promote/rollback, and clear errors;
every rewrite is validated and atomic (no server needed)."""
import pytest

from serving.config.configs import ConfigError
from serving.config.testing import fake_versions, parse_written_config
from serving.rollout import canary


def test_on_push_first_version_stable_then_canary_then_stable_policy(tmp_path):
    fake_versions(tmp_path, "census", 1)
    assert canary.on_push(tmp_path, "census", 1)["role"] == "stable"
    fake_versions(tmp_path, "census", 2)
    result = canary.on_push(tmp_path, "census", 2)
    assert (result["role"], result["stable"], result["canary"]) == ("canary", 1, 2)
    entry = parse_written_config(tmp_path).model_config_list.config[0]
    assert list(entry.model_version_policy.specific.versions) == [1, 2]
    assert dict(entry.version_labels) == {"stable": 1, "canary": 2}
    fake_versions(tmp_path, "census", 3)
    result = canary.on_push(tmp_path, "census", 3, policy="stable")
    assert (result["role"], result["stable"], result["canary"]) == ("stable", 3, None)
    assert (tmp_path / "batching.config").exists() and (tmp_path / "monitoring.config").exists()


def test_start_promote_rollback(tmp_path):
    fake_versions(tmp_path, "census", 1, 2, 3)
    canary.on_push(tmp_path, "census", 1, policy="stable")
    assert canary.start(tmp_path, "census")["census"]["canary"] == 3
    assert canary.start(tmp_path, "census", version=2)["census"]["canary"] == 2
    assert canary.promote(tmp_path, "census")["census"] == {
        "stable": 2, "canary": None, "weight": 0, "served": [2], "versions": [1, 2, 3]}
    assert canary.rollback(tmp_path, "census")["census"]["stable"] == 1
    with pytest.raises(ConfigError, match="no version older than stable"):
        canary.rollback(tmp_path, "census")
    canary.start(tmp_path, "census")
    assert canary.rollback(tmp_path, "census")["census"] == {
        "stable": 1, "canary": None, "weight": 0, "served": [1], "versions": [1, 2, 3]}
    assert not list(tmp_path.glob(".models.config.*")), "temp files left behind"


def test_lifecycle_errors_are_clear(tmp_path):
    fake_versions(tmp_path, "census", 1)
    canary.on_push(tmp_path, "census", 1)
    with pytest.raises(ConfigError, match="no canary to promote"):
        canary.promote(tmp_path, "census")
    with pytest.raises(ConfigError, match="already stable"):
        canary.start(tmp_path, "census")
    with pytest.raises(ConfigError, match="no version 9 on disk"):
        canary.start(tmp_path, "census", version=9)
    with pytest.raises(ConfigError, match="invalid model name"):
        canary.start(tmp_path, "../census")
    with pytest.raises(ConfigError, match="has no pushed versions"):
        canary.promote(tmp_path, "mnist")
    with pytest.raises(ConfigError, match="not a SavedModel"):
        canary.on_push(tmp_path, "census", 5)
    with pytest.raises(ConfigError, match="unknown push policy"):
        canary.on_push(tmp_path, "census", 1, policy="blue")
