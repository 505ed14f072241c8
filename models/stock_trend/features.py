"""Stock-trend feature keys: raw OHLCV windows in, indicator sequences out of Transform."""
from data.sp500 import (CLASSES, DATE_KEY, HORIZON, LABEL_KEY, NEXT_RETURN_KEY,  # noqa: F401
                        RAW_FEATURES, THRESHOLD, WINDOW)

SEQUENCE_LENGTH = 30                     # days the recurrent layer sees
LOOKBACK = WINDOW - SEQUENCE_LENGTH      # 50 earlier days feed the longest indicator (SMA 50)
INDICATORS = ("log_return", "log_range", "sma10_gap", "sma50_gap", "rsi14", "macd",
              "volume_z20")
METADATA_KEYS = (DATE_KEY, NEXT_RETURN_KEY)    # for the backtest only, never a model input

# Naive baselines on the eval span, as data.sp500 writes them into MANIFEST.json
# (models/stock_trend/spec_test.py checks them). Blessing needs balanced accuracy (the mean
# per-class recall) clearly above the best of them; always-majority scores exactly 1/3.
EVAL_BASELINES = {"majority_accuracy": 0.4735, "majority_balanced_accuracy": 0.3333,
                  "persistence_accuracy": 0.3867, "persistence_balanced_accuracy": 0.3374}
# The same on the committed sample's eval span (its last 150 days).
SAMPLE_EVAL_BASELINES = {"majority_accuracy": 0.4133, "majority_balanced_accuracy": 0.3333,
                         "persistence_accuracy": 0.3133, "persistence_balanced_accuracy": 0.2998}
BLESSING_MARGIN = 0.02
TRAIN_MAJORITY_CLASS = 1    # Neutral: the most frequent class of the train span (and sample)


def transformed_name(key: str) -> str:
    """The key Transform writes a feature under: the "_xf" suffix keeps raw and transformed keys
    apart where both appear (signatures, TFMA slices)."""
    return key + "_xf"


TRANSFORMED_LABEL_KEY = transformed_name(LABEL_KEY)
