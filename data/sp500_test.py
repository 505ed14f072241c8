"""The S&P 500 preparer: chronological, purged splits, labels and the naive baselines."""
import numpy as np
import pytest

from data import common
from data import sp500


def test_splits_are_chronological_and_no_label_crosses_into_the_next_span():
    spans = sp500.split_days(5031)
    train, eval_, test = spans["train"], spans["eval"], spans["test"]
    assert train[0] == sp500.WINDOW - 1
    assert train[-1] + sp500.HORIZON < eval_[0]
    assert eval_[-1] + sp500.HORIZON < test[0]
    assert test[-1] + sp500.HORIZON == 5030


def test_trend_class_uses_the_threshold():
    np.testing.assert_array_equal(sp500.trend_class(np.array([-0.02, -0.01, 0.0, 0.01, 0.011])),
                                  [0, 1, 1, 1, 2])


def test_baselines_always_majority_scores_one_third_balanced():
    labels = np.array([0, 1, 1, 2, 2, 2])
    result = sp500.baselines(labels, trailing_returns=np.array([-.05, 0, 0, .05, .05, -.05]),
                             majority=2)
    assert result["majority_accuracy"] == 0.5
    assert result["majority_balanced_accuracy"] == 0.3333
    assert result["persistence_accuracy"] == round(5 / 6, 4)


def test_load_prices_rejects_bad_rows():
    header = "Date,Open,High,Low,Close,Adj Close,Volume\n"
    with pytest.raises(common.DataPreparationError, match="line 3"):
        sp500.load_prices(header + "1/4/1999,1,2,1,1,1,10\n1/5/1999,1,2,1,-1,1,10\n")
    with pytest.raises(common.DataPreparationError, match="missing column"):
        sp500.load_prices("Date,Close\n1/4/1999,1\n")


def test_prepare_writes_three_spans_and_baselines_and_is_a_noop_on_rerun(tmp_path):
    manifest = sp500.prepare(tmp_path)
    assert manifest["rows"] == {"train": 3458, "eval": 737, "test": 742}
    assert manifest["spans"]["train"][1] < manifest["spans"]["eval"][0] \
        < manifest["spans"]["eval"][1] < manifest["spans"]["test"][0]
    columns = sp500.read_split(tmp_path / "test")
    assert columns["close"].shape == (742, sp500.WINDOW)
    assert list(columns[sp500.DATE_KEY]) == sorted(columns[sp500.DATE_KEY])
    assert sp500.prepare(tmp_path) == manifest
