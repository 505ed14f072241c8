"""The backtest and the baselines, with stand-in models whose signals are known."""
import json
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from data import sp500
from models import registry
from models.stock_trend import backtest, features

SAMPLE = registry.get("stock_trend").sample_dir


def _constant_model(path: pathlib.Path, class_id: int) -> str:
    """A SavedModel whose serving_window always answers `class_id`."""
    module = tf.Module()
    spec = {k: tf.TensorSpec([None, features.WINDOW], tf.float32, name=k)
            for k in features.RAW_FEATURES}

    @tf.function(input_signature=[spec])
    def serve_window(window):
        batch = tf.shape(window["close"])[0]
        return {"probabilities": tf.one_hot(tf.fill([batch], class_id), len(features.CLASSES))}

    tf.saved_model.save(module, str(path), signatures={"serving_window": serve_window})
    return str(path)


def test_always_up_equals_buy_and_hold(tmp_path):
    report = backtest.evaluate(_constant_model(tmp_path / "up", 2), SAMPLE / "test",
                               SAMPLE / "train")
    b = report.backtest
    assert b.days_long == b.days == report.examples == 150 and b.trades == 1
    assert b.strategy_return == pytest.approx(b.buy_and_hold_return)
    assert report.model.recall == {"Down": 0.0, "Neutral": 0.0, "Up": 1.0}
    assert report.model.balanced_accuracy == pytest.approx(1 / 3, abs=1e-4)


def test_never_up_stays_flat_and_baselines_match_the_preparer(tmp_path):
    report = backtest.evaluate(_constant_model(tmp_path / "down", 0), SAMPLE / "test",
                               SAMPLE / "train")
    assert report.backtest.strategy_return == 0.0 and report.backtest.days_long == 0
    sample = {s: sp500.read_split(SAMPLE / s) for s in ("train", "test")}
    expected = sp500.split_baselines(sample)["test"]
    assert report.always_majority.accuracy == pytest.approx(expected["majority_accuracy"])
    assert report.yesterdays_direction.balanced_accuracy == \
        pytest.approx(expected["persistence_balanced_accuracy"])


def test_backtest_compounds_daily_returns_and_measures_drawdown():
    result = backtest.backtest(np.array([2, 2, 0, 2]), np.array([0.1, -0.5, 0.2, 0.1]),
                               np.array(["d1", "d2", "d3", "d4"]))
    assert result.strategy_return == pytest.approx(1.1 * 0.5 * 1.1 - 1, abs=1e-4)
    assert result.buy_and_hold_return == pytest.approx(1.1 * 0.5 * 1.2 * 1.1 - 1, abs=1e-4)
    assert result.strategy_max_drawdown == 0.5 and result.trades == 2


def test_cli_uses_the_latest_pushed_version_and_prints_json(tmp_path, capsys):
    _constant_model(tmp_path / "serving" / "1", 0)
    _constant_model(tmp_path / "serving" / "2", 2)
    code = backtest.main(["--model", str(tmp_path / "serving"), "--data", str(SAMPLE / "test"),
                          "--train-data", str(SAMPLE / "train"), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["backtest"]["days_long"] == 150 and "not trading advice" in report["caveat"]


def test_cli_reports_a_missing_model_clearly(tmp_path, capsys):
    assert backtest.main(["--model", str(tmp_path)]) == 1
    assert "neither a SavedModel nor a folder of numbered versions" in capsys.readouterr().err
