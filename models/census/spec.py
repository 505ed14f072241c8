"""The census ModelSpec: data, schema, Transform/Trainer entry points, TFMA validation."""
from typing import Mapping

from data import census as census_data
from data import settings
from models.census import features
from models.common.evaluation import gated_metric
from models.spec import ModelSpec


def eval_config(thresholds: Mapping[str, float]):
    """On the overall slice, AUC and BinaryAccuracy must clear fixed floors and may not fall
    more than `max_*_drop` below the last blessed model. The sex and race slices are reported,
    not gated: some race slices hold a few dozen examples, too few for a stable floor."""
    import tensorflow_model_analysis as tfma

    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(signature_name="serving_default",
                                    label_key=features.TRANSFORMED_LABEL_KEY,
                                    preprocessing_function_names=["transform_features"])],
        slicing_specs=[tfma.SlicingSpec()] + [tfma.SlicingSpec(feature_keys=[key])
                                               for key in features.SLICE_FEATURES],
        metrics_specs=[tfma.MetricsSpec(metrics=[
            tfma.MetricConfig(class_name="ExampleCount"),
            gated_metric("AUC", thresholds["auc"], thresholds["max_auc_drop"]),
            gated_metric("BinaryAccuracy", thresholds["binary_accuracy"],
                         thresholds["max_accuracy_drop"]),
            tfma.MetricConfig(class_name="Precision"),
            tfma.MetricConfig(class_name="Recall"),
            tfma.MetricConfig(class_name="MeanLabel"),
            tfma.MetricConfig(class_name="MeanPrediction"),
            tfma.MetricConfig(class_name="CalibrationPlot"),
            tfma.MetricConfig(class_name="ConfusionMatrixPlot"),
        ])])


SPEC = ModelSpec(
    name="census",
    example_format="csv",
    prepare_data=census_data.prepare,
    sample_dir=settings.SAMPLES_ROOT / "census",
    schema_path=settings.SCHEMAS_ROOT / "census.pbtxt",
    preprocessing_fn="models.census.preprocessing.preprocessing_fn",
    run_fn="models.census.model.run_fn",
    tuner_fn="models.census.tuner.tuner_fn",
    eval_config=eval_config,
    thresholds={"auc": 0.88, "binary_accuracy": 0.83, "max_auc_drop": 0.01,
                "max_accuracy_drop": 0.01},
    sample_thresholds={"auc": 0.82, "binary_accuracy": 0.78, "max_auc_drop": 0.02,
                       "max_accuracy_drop": 0.02},
    key_metric="auc",
    train_steps=2550,   # 10 epochs of 255 batches of 128 = one pass over the 32,561 rows each
    eval_steps=128,     # the 16,281 eval rows
    sample_train_steps=160,
    sample_eval_steps=8,
    serving_signatures=("serving_default", "serving_raw", "transform_features"),
)
