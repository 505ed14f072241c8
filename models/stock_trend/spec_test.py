"""The stock_trend blessing floor comes from the naive baselines the data actually has."""
import json

from data import sp500
from models import registry
from models.stock_trend import features, spec


def test_floor_is_the_best_naive_baseline_plus_the_margin():
    assert spec.blessing_floor({"majority_balanced_accuracy": 1 / 3,
                                "persistence_balanced_accuracy": 0.4}) == 0.42
    stock = registry.get("stock_trend")
    assert stock.thresholds["macro_recall"] == spec.blessing_floor(features.EVAL_BASELINES)
    assert stock.thresholds["macro_recall"] > 1 / 3 + 0.02
    assert stock.splits == ("train", "eval", "test")


def test_baseline_constants_match_the_prepared_data_and_the_sample(tmp_path):
    manifest = sp500.prepare(tmp_path)
    assert manifest["baselines"]["eval"] == features.EVAL_BASELINES
    stock = registry.get("stock_trend")
    sample = {s: sp500.read_split(stock.sample_dir / s) for s in stock.splits}
    assert sp500.split_baselines(sample)["eval"] == features.SAMPLE_EVAL_BASELINES


def test_eval_config_gates_balanced_accuracy_and_reports_per_class_recall():
    stock = registry.get("stock_trend")
    config = stock.eval_config(stock.thresholds)
    gated = [m for m in config.metrics_specs[0].metrics if m.per_slice_thresholds]
    assert [m.class_name for m in gated] == ["MacroRecall"]
    recalls = [json.loads(m.config)["name"] for m in config.metrics_specs[0].metrics
               if m.class_name == "ClassRecall"]
    assert recalls == ["recall_down", "recall_neutral", "recall_up"]
