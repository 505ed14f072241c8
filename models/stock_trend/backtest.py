"""Test-span report for a trained stock_trend model: accuracy and per-class recall beside the
two naive baselines, and a backtest (long the next day when the model says Up, else flat)
against buy-and-hold.

    python -m models.stock_trend.backtest --model serving/models/stock_trend [--data DIR]

Caveat (reference document, "stock market trends"): markets are noisy and largely unpredictable;
a model can capture historical patterns, not the future. This is an exercise in evaluation,
not trading advice. The backtest ignores costs, slippage and taxes.
"""
import argparse
import dataclasses
import json
import pathlib
import sys
from typing import Dict, List, Optional

import numpy as np

from data import settings
from data import sp500
from models.stock_trend import features
from serving.config.configs import version_dirs

CAVEAT = ("Markets are noisy and largely unpredictable: this backtest shows what the model's "
          "signals would have done on past data, ignoring costs and slippage. It is not trading "
          "advice.")
TRADING_DAYS_PER_YEAR = 252


@dataclasses.dataclass
class Scores:
    """Accuracy, balanced accuracy and per-class recall of one predictor on the split."""

    accuracy: float
    balanced_accuracy: float
    recall: Dict[str, float]


@dataclasses.dataclass
class Backtest:
    """What following the model's Up signals would have returned over the split, beside
    buy-and-hold (returns and drawdowns as fractions)."""

    days: int
    first_date: str
    last_date: str
    strategy_return: float
    buy_and_hold_return: float
    strategy_max_drawdown: float
    buy_and_hold_max_drawdown: float
    days_long: int
    trades: int


@dataclasses.dataclass
class Report:
    """The test-span report: the model beside the two naive baselines, the backtest, and the
    caveat that goes with every report."""

    examples: int
    model: Scores
    always_majority: Scores
    yesterdays_direction: Scores
    backtest: Backtest
    caveat: str = CAVEAT

    def to_json(self) -> str:
        """The report as indented JSON (`--json`), for scripts."""
        return json.dumps(dataclasses.asdict(self), indent=2)


def scores(labels: np.ndarray, predicted: np.ndarray) -> Scores:
    """Scores rounded to 4 places; recall only of the classes present in `labels`, so balanced
    accuracy averages over those."""
    recall = {name: round(float(np.mean(predicted[labels == c] == c)), 4)
              for c, name in enumerate(features.CLASSES) if np.any(labels == c)}
    return Scores(round(float(np.mean(predicted == labels)), 4),
                  round(float(np.mean(list(recall.values()))), 4), recall)


def max_drawdown(equity: np.ndarray) -> float:
    """The largest fall from a running peak of an equity curve that starts at 1.0, as a fraction."""
    peaks = np.maximum.accumulate(np.concatenate([[1.0], equity]))
    return round(float(np.max(1.0 - np.concatenate([[1.0], equity]) / peaks)), 4)


def backtest(predicted: np.ndarray, next_returns: np.ndarray, dates: np.ndarray) -> Backtest:
    """Day t's prediction sets the position over t -> t+1: long when Up, flat otherwise."""
    long = predicted == features.CLASSES.index("Up")
    strategy = np.cumprod(1.0 + np.where(long, next_returns, 0.0))
    hold = np.cumprod(1.0 + next_returns)
    return Backtest(days=len(predicted), first_date=str(dates[0]), last_date=str(dates[-1]),
                    strategy_return=round(float(strategy[-1] - 1.0), 4),
                    buy_and_hold_return=round(float(hold[-1] - 1.0), 4),
                    strategy_max_drawdown=max_drawdown(strategy),
                    buy_and_hold_max_drawdown=max_drawdown(hold),
                    days_long=int(long.sum()),
                    trades=int(long[0] + np.sum(long[1:] & ~long[:-1])))


def predict(saved_model_dir: str, columns: Dict[str, np.ndarray], batch_size: int = 512) -> np.ndarray:
    """Class ids from the model's serving_window signature (the raw OHLCV windows)."""
    import tensorflow as tf

    signature = tf.saved_model.load(saved_model_dir).signatures["serving_window"]
    predicted: List[np.ndarray] = []
    for start in range(0, len(columns[features.LABEL_KEY]), batch_size):
        window = {k: tf.constant(columns[k][start:start + batch_size], tf.float32)
                  for k in features.RAW_FEATURES}
        predicted.append(np.argmax(signature(**window)["probabilities"].numpy(), axis=-1))
    return np.concatenate(predicted)


def evaluate(saved_model_dir: str, split_dir: pathlib.Path,
             train_dir: Optional[pathlib.Path] = None) -> Report:
    """The report on one split. The always-majority baseline predicts the train split's majority
    class (known before the test span starts); without train_dir, the split's own (optimistic)."""
    columns = sp500.read_split(split_dir)
    labels = columns[features.LABEL_KEY]
    reference = sp500.read_split(train_dir)[features.LABEL_KEY] if train_dir else labels
    majority = int(np.bincount(reference, minlength=len(features.CLASSES)).argmax())
    close = columns["close"]
    trailing = close[:, -1] / close[:, -1 - features.HORIZON] - 1.0
    predicted = predict(saved_model_dir, columns)
    return Report(
        examples=len(labels),
        model=scores(labels, predicted),
        always_majority=scores(labels, np.full_like(labels, majority)),
        yesterdays_direction=scores(labels, sp500.trend_class(trailing)),
        backtest=backtest(predicted, columns[features.NEXT_RETURN_KEY], columns[features.DATE_KEY]))


def resolve_model_dir(path: str) -> str:
    """A SavedModel directory, or a push destination whose highest numbered version is used."""
    root = pathlib.Path(path)
    if (root / "saved_model.pb").exists():
        return str(root)
    versions = version_dirs(root)
    if not versions:
        raise FileNotFoundError(f"{path} is neither a SavedModel nor a folder of numbered versions")
    return str(versions[max(versions)])


def format_report(report: Report) -> str:
    """The report as the aligned text `main` prints unless `--json` is given."""
    lines = [f"stock_trend on {report.backtest.first_date} .. {report.backtest.last_date} "
             f"({report.examples} days)",
             f"  {'predictor':<22} {'accuracy':>8} {'balanced':>8}  recall "
             + " / ".join(features.CLASSES)]
    for name, s in (("model", report.model), ("always-majority", report.always_majority),
                    ("yesterday's direction", report.yesterdays_direction)):
        recall = " / ".join(f"{s.recall.get(c, float('nan')):.3f}" for c in features.CLASSES)
        lines.append(f"  {name:<22} {s.accuracy:8.4f} {s.balanced_accuracy:8.4f}  {recall}")
    b = report.backtest
    lines += [f"  backtest (long when Up, else flat): {b.strategy_return:+.2%} "
              f"(max drawdown {b.strategy_max_drawdown:.2%}, {b.days_long} days long, "
              f"{b.trades} entries)",
              f"  buy-and-hold:                       {b.buy_and_hold_return:+.2%} "
              f"(max drawdown {b.buy_and_hold_max_drawdown:.2%})",
              f"  Caveat: {report.caveat}"]
    return "\n".join(lines)


def main(argv=None) -> int:
    """Command-line entry point (see the module docstring); exit status 1 when the model or the
    data is missing."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True,
                        help="a SavedModel, or a push destination (its latest version is used)")
    data_root = settings.PREPARED_ROOT / "stock_trend"
    parser.add_argument("--data", default=str(data_root / "test"),
                        help="split folder of *.tfrecord.gz (default: the prepared test span)")
    parser.add_argument("--train-data", default=str(data_root / "train"),
                        help="train split folder, for the always-majority class")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        model_dir = resolve_model_dir(args.model)
        train_dir = pathlib.Path(args.train_data)
        report = evaluate(model_dir, pathlib.Path(args.data),
                          train_dir if train_dir.is_dir() else None)
    except FileNotFoundError as error:
        print(f"backtest: error: {error}", file=sys.stderr)
        return 1
    print(report.to_json() if args.json else f"model: {model_dir}\n" + format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
