"""The sentiment floor sits clearly above the majority-class rate the data actually has."""
from data import settings
from data import rotten_tomatoes
from models import registry
from models.sentiment_rnn import features


def test_registered_with_the_text_signature():
    spec = registry.get("sentiment_rnn")
    assert "serving_text" in spec.serving_signatures
    assert spec.schema_path.exists() and spec.sample_dir.is_dir()


def test_accuracy_floors_are_clearly_above_the_majority_class_rate():
    spec = registry.get("sentiment_rnn")
    assert spec.thresholds["binary_accuracy"] >= features.EVAL_MAJORITY_CLASS_RATE + 0.1
    sample_eval = rotten_tomatoes.read_csv(
        rotten_tomatoes.split_file(spec.sample_dir, "eval"))
    sample_rate = rotten_tomatoes.class_summary(sample_eval)["majority_class_rate"]
    assert spec.sample_thresholds["binary_accuracy"] >= sample_rate + 0.02


def test_majority_rate_constant_matches_the_prepared_data(tmp_path):
    manifest = rotten_tomatoes.prepare(tmp_path)
    assert manifest["classes"]["eval"]["majority_class_rate"] == features.EVAL_MAJORITY_CLASS_RATE


def test_eval_config_gates_accuracy_and_auc():
    spec = registry.get("sentiment_rnn")
    config = spec.eval_config(spec.thresholds)
    gated = {m.class_name: m.per_slice_thresholds[0].threshold.value_threshold.lower_bound.value
             for m in config.metrics_specs[0].metrics if m.per_slice_thresholds}
    assert gated == {"BinaryAccuracy": spec.thresholds["binary_accuracy"],
                     "AUC": spec.thresholds["auc"]}
    assert settings.SCHEMAS_ROOT in spec.schema_path.parents
