"""Stock indicators computed in Transform agree with straightforward numpy definitions."""
import numpy as np
import pytest
import tensorflow as tf

from models.stock_trend import features, preprocessing

RNG = np.random.default_rng(3)
DAYS = features.WINDOW


def _raw(batch=2):
    close = 100 * np.exp(np.cumsum(RNG.normal(0, 0.01, (batch, DAYS)), axis=1))
    return {"open": close, "high": close * 1.01, "low": close * 0.99, "close": close,
            "volume": RNG.uniform(1e8, 2e8, (batch, DAYS))}


def test_indicators_match_numpy_definitions():
    raw = _raw()
    result = {k: v.numpy() for k, v in preprocessing.indicators(
        {k: tf.constant(v, tf.float32) for k, v in raw.items()}).items()}
    assert set(result) == set(features.INDICATORS)
    assert all(v.shape == (2, features.SEQUENCE_LENGTH) for v in result.values())
    close, day = raw["close"][0], DAYS - 1          # the last day of the first example
    np.testing.assert_allclose(result["log_return"][0, -1], np.log(close[day] / close[day - 1]),
                               atol=1e-5)
    np.testing.assert_allclose(result["sma50_gap"][0, -1],
                               close[day] / close[day - 49:day + 1].mean() - 1, atol=1e-5)
    changes = np.diff(close)[-14:]
    gains, losses = np.maximum(changes, 0).mean(), np.maximum(-changes, 0).mean()
    np.testing.assert_allclose(result["rsi14"][0, -1], gains / (gains + losses), atol=1e-4)
    log_volume = np.log(raw["volume"][0] + 1)[-20:]
    np.testing.assert_allclose(result["volume_z20"][0, -1],
                               (log_volume[-1] - log_volume.mean()) / log_volume.std(), atol=1e-3)
    first = DAYS - features.SEQUENCE_LENGTH     # the first day of the sequence
    np.testing.assert_allclose(result["sma10_gap"][0, 0],
                               close[first] / close[first - 9:first + 1].mean() - 1, atol=1e-5)
    np.testing.assert_allclose(result["log_range"][0], np.log(1.01 / 0.99), atol=1e-5)


def test_indicators_use_no_day_after_the_window_end():
    raw = _raw(batch=1)
    changed = {k: v.copy() for k, v in raw.items()}
    changed["close"][0, -1] *= 1.5
    before = preprocessing.indicators({k: tf.constant(v, tf.float32) for k, v in raw.items()})
    after = preprocessing.indicators({k: tf.constant(v, tf.float32) for k, v in changed.items()})
    for name in features.INDICATORS:       # only the last step may change
        np.testing.assert_allclose(before[name].numpy()[0, :-1], after[name].numpy()[0, :-1])


def test_a_window_too_short_for_the_indicators_is_a_clear_error():
    with pytest.raises(ValueError, match="needs 49 days before"):
        preprocessing._trailing(tf.zeros([1, 60]), 50)
