"""The all-models table `make run` ends with, and the serving line after a push."""
from pipelines.workflow import ModelResult, format_table, serving_line


def test_table_lists_each_model_with_metric_baseline_verdict_and_version():
    table = format_table([
        ModelResult("census", "32,561/16,281", 24.4, "auc", 0.906, None, True, 1, 0),
        ModelResult("stock_trend", "3,458/742/737", 9.0, "macro_recall", 0.31, 0.38, False,
                    None, 3),
    ]).splitlines()
    assert table[0].split() == ["model", "rows", "(per", "split)", "train", "metric", "candidate",
                                "baseline", "blessed", "pushed"]
    assert table[1].split() == ["census", "32,561/16,281", "24s", "auc", "0.9060", "-", "yes", "1"]
    assert table[2].split() == ["stock_trend", "3,458/742/737", "9s", "macro_recall", "0.3100",
                                "0.3800", "no", "-"]


def test_the_serving_line_is_plain_text():
    state = {"model": "census", "stable": 1, "canary": None, "served": [1], "versions": [1],
             "config": "/srv/models/models.config"}
    assert serving_line(state) == \
        "serving: census stable=1 canary=- (/srv/models/models.config)"
