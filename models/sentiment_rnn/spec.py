"""The sentiment_rnn ModelSpec: data, schema, Transform/Trainer entry points, TFMA validation."""
from typing import Mapping

from data import settings
from data import rotten_tomatoes
from models.common.evaluation import gated_metric
from models.sentiment_rnn import features
from models.spec import ModelSpec


def eval_config(thresholds: Mapping[str, float]):
    """BinaryAccuracy must clear a floor set above the majority-class rate of the eval split
    (MeanLabel, reported beside it, is that rate: the eval split's share of 'fresh'), AUC must
    clear its floor, and neither may fall more than `max_*_drop` below the last blessed model."""
    import tensorflow_model_analysis as tfma

    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(signature_name="serving_default",
                                    label_key=features.TRANSFORMED_LABEL_KEY,
                                    preprocessing_function_names=["transform_features"])],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[tfma.MetricsSpec(metrics=[
            tfma.MetricConfig(class_name="ExampleCount"),
            gated_metric("BinaryAccuracy", thresholds["binary_accuracy"],
                         thresholds["max_accuracy_drop"]),
            gated_metric("AUC", thresholds["auc"], thresholds["max_auc_drop"]),
            tfma.MetricConfig(class_name="MeanLabel"),
            tfma.MetricConfig(class_name="MeanPrediction"),
            tfma.MetricConfig(class_name="Precision"),
            tfma.MetricConfig(class_name="Recall"),
            tfma.MetricConfig(class_name="ConfusionMatrixPlot"),
            tfma.MetricConfig(class_name="CalibrationPlot"),
        ])])


SPEC = ModelSpec(
    name="sentiment_rnn",
    example_format="csv",
    prepare_data=rotten_tomatoes.prepare,
    sample_dir=settings.SAMPLES_ROOT / "sentiment_rnn",
    schema_path=settings.SCHEMAS_ROOT / "sentiment_rnn.pbtxt",
    preprocessing_fn="models.sentiment_rnn.preprocessing.preprocessing_fn",
    run_fn="models.sentiment_rnn.model.run_fn",
    eval_config=eval_config,
    # Majority class ('fresh') rate of the eval split: 0.5778; the floor is 10 points above it.
    thresholds={"binary_accuracy": 0.68, "auc": 0.74, "max_accuracy_drop": 0.02,
                "max_auc_drop": 0.02},
    # The 3,500-snippet sample can only show that the model learns something beyond the
    # majority rate (0.578 there too): a plumbing check, not a quality bar.
    sample_thresholds={"binary_accuracy": 0.60, "auc": 0.62, "max_accuracy_drop": 0.05,
                       "max_auc_drop": 0.05},
    key_metric="binary_accuracy",
    train_steps=960,    # up to 6 epochs of 160 batches of 64 (10,201 train snippets)
    eval_steps=40,      # the 2,551 eval snippets
    sample_train_steps=165,   # 3 passes over the 3,500 sample snippets
    sample_eval_steps=8,
    serving_signatures=("serving_default", "serving_text", "transform_features"),
)
