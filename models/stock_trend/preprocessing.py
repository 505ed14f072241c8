"""tf.Transform for stock_trend: indicator sequences from raw OHLCV windows, z-scored with
statistics of the train span only (Transform analyzes the 'train' split; eval/test are only
transformed), so serving and training compute them identically."""
from typing import Dict

import tensorflow as tf
import tensorflow_transform as tft

from models.stock_trend import features

_EPSILON = 1e-8


def _trailing(x: tf.Tensor, length: int) -> tf.Tensor:
    """[batch, SEQUENCE_LENGTH, length]: for each of the last SEQUENCE_LENGTH days of x (a
    [batch, days] tensor), the `length` values ending on that day."""
    start = x.shape[1] - features.SEQUENCE_LENGTH - length + 1
    if start < 0:
        raise ValueError(f"a {length}-day indicator needs {length - 1} days before the "
                         f"{features.SEQUENCE_LENGTH}-day sequence; the window has {x.shape[1]}")
    return tf.signal.frame(x[:, start:], length, 1, axis=-1)


def _ema(x: tf.Tensor, span: int) -> tf.Tensor:
    """Exponential moving average (alpha = 2/(span+1)) truncated to the LOOKBACK days."""
    alpha = 2.0 / (span + 1.0)
    weights = alpha * (1.0 - alpha) ** tf.range(features.LOOKBACK - 1, -1, -1, dtype=tf.float32)
    return tf.reduce_sum(_trailing(x, features.LOOKBACK) * weights, -1) / tf.reduce_sum(weights)


def indicators(raw: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
    """The technical indicators per day, each [batch, SEQUENCE_LENGTH] float32, from
    [batch, WINDOW] raw open/high/low/close/volume (oldest day first)."""
    def window(key):
        return tf.reshape(tf.cast(raw[key], tf.float32), [-1, features.WINDOW])

    close, high, low, volume = window("close"), window("high"), window("low"), window("volume")
    seq = features.SEQUENCE_LENGTH
    last_close = close[:, -seq:]
    log_close = tf.math.log(close)
    changes = close[:, 1:] - close[:, :-1]
    gains = tf.reduce_mean(tf.nn.relu(_trailing(changes, 14)), -1)
    losses = tf.reduce_mean(tf.nn.relu(-_trailing(changes, 14)), -1)
    log_volume = tf.math.log(volume + 1.0)
    volume_frames = _trailing(log_volume, 20)
    return {
        "log_return": log_close[:, -seq:] - log_close[:, -seq - 1:-1],
        "log_range": tf.math.log(high[:, -seq:] / low[:, -seq:]),
        "sma10_gap": last_close / tf.reduce_mean(_trailing(close, 10), -1) - 1.0,
        "sma50_gap": last_close / tf.reduce_mean(_trailing(close, 50), -1) - 1.0,
        "rsi14": gains / (gains + losses + _EPSILON),
        "macd": (_ema(close, 12) - _ema(close, 26)) / last_close,
        "volume_z20": (log_volume[:, -seq:] - tf.reduce_mean(volume_frames, -1))
        / (tf.math.reduce_std(volume_frames, -1) + _EPSILON),
    }


def preprocessing_fn(inputs):
    """<indicator>_xf: [batch, SEQUENCE_LENGTH] z-scores; trend_xf: [batch, 1] class id."""
    outputs = {features.transformed_name(name): tft.scale_to_z_score(values)
               for name, values in indicators(inputs).items()}
    outputs[features.TRANSFORMED_LABEL_KEY] = tf.reshape(
        tf.cast(inputs[features.LABEL_KEY], tf.int64), [-1, 1])
    return outputs
