"""stock_trend end to end on the committed sample: Transform normalises with train-span
statistics only, the Evaluator gates on the naive baselines, and the model (pushed or not)
answers through serving_window and feeds the backtest. The pipeline runs in a `tfxp`
subprocess, like the other end-to-end tests."""

import pytest
import tensorflow as tf
import tensorflow_transform as tft

from data import sp500
from models import registry
from models.stock_trend import backtest, features
from pipelines import run_info, run_outcome
from tests.e2e.tfxp import run_tfxp

SPEC = registry.get("stock_trend")


def _transform(graph_uri: str, columns):
    layer = tft.TFTransformOutput(graph_uri).transform_features_layer()
    return {k: v.numpy() for k, v in layer(
        {k: tf.constant(columns[k]) for k in features.RAW_FEATURES}).items()}


@pytest.mark.e2e
def test_sample_pipeline_normalises_on_train_only_and_gates_on_the_baselines(tmp_path):
    home, serving_dir = tmp_path / "home", tmp_path / "serving"
    result = run_tfxp("run", "--model", "stock_trend", "--sample", "--pipeline-root", str(home),
                      "--serving-dir", str(serving_dir), "--no-infra-validation",
                      "--rollout", "none")
    code, summary = result.returncode, result.stdout + result.stderr
    run = run_info.load_run(str(home / "metadata.sqlite"), "stock_trend-sample")
    blessed = bool(run.output("Evaluator", "blessing").properties.get("blessed"))
    metrics = run_info.evaluation_metrics(run.output("Evaluator", "evaluation").uri)["Overall"]
    balanced = metrics["candidate"]["macro_recall"]
    floor = SPEC.sample_thresholds["macro_recall"]
    assert blessed == (balanced >= floor), summary
    naive = sp500.split_baselines({s: sp500.read_split(SPEC.sample_dir / s)
                                   for s in ("train", "eval")})["eval"]
    candidate = metrics["candidate"]      # the naive baselines, scored by TFMA beside the model
    assert candidate["naive_majority_accuracy"] == pytest.approx(naive["majority_accuracy"], abs=1e-4)
    assert candidate["naive_persistence_macro_recall"] == \
        pytest.approx(naive["persistence_balanced_accuracy"], abs=1e-4)
    assert "naive_persistence_macro_recall" in summary
    pushed = sorted(p for p in serving_dir.glob("*") if p.name.isdigit())
    if blessed:
        assert code == run_outcome.EXIT_PUSHED and len(pushed) == 1, summary
    else:
        assert code == run_outcome.EXIT_NOT_BLESSED and not pushed, summary
        assert "macro_recall" in summary and "below the required minimum" in summary

    sample = {split: sp500.read_split(SPEC.sample_dir / split) for split in SPEC.splits}
    graph = run.output("Transform", "transform_graph").uri
    train, eval_ = _transform(graph, sample["train"]), _transform(graph, sample["eval"])
    for name in features.INDICATORS:           # z-scores with the train split's mean and std
        values = train[features.transformed_name(name)]
        assert abs(values.mean()) < 1e-3 and abs(values.std() - 1) < 1e-2, name
    assert abs(eval_[features.transformed_name("log_range")].mean()) > 0.05

    model_dir = str(pushed[0]) if blessed else run.output("Trainer", "model").uri + "/Format-Serving"
    loaded = tf.saved_model.load(model_dir)
    window = loaded.signatures["serving_window"](
        **{k: tf.constant(sample["test"][k][:5]) for k in features.RAW_FEATURES})
    assert window["probabilities"].shape == (5, 3)
    assert set(window["trend"].numpy()) <= {c.encode() for c in features.CLASSES}
    report = backtest.evaluate(model_dir, SPEC.sample_dir / "test", SPEC.sample_dir / "train")
    assert report.examples == 150 and report.backtest.days == 150
    assert report.always_majority.balanced_accuracy == pytest.approx(1 / 3, abs=1e-4)
