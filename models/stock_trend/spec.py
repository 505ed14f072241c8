"""The stock_trend ModelSpec: chronological splits, Transform/Trainer entry points, and TFMA
validation whose floor comes from the naive baselines on the eval span."""
import json
from typing import Mapping

from data import settings
from data import sp500
from models.common.evaluation import gated_metric
from models.spec import ModelSpec
from models.stock_trend import features


def blessing_floor(baselines: Mapping[str, float], margin: float = features.BLESSING_MARGIN) -> float:
    """Balanced accuracy the model must reach: the best naive baseline's plus a margin."""
    return round(max(baselines["majority_balanced_accuracy"],
                     baselines["persistence_balanced_accuracy"]) + margin, 4)


def eval_config(thresholds: Mapping[str, float]):
    """Gate: balanced accuracy (reported as macro_recall) >= `macro_recall`, set from the naive
    baselines, and no drop of more than `max_macro_recall_drop` against the last blessed model.
    Reported beside it: accuracy, each class's recall (recall_down, ...), the confusion matrix,
    and the naive baselines' accuracy and macro recall on the same split (naive_*)."""
    import tensorflow_model_analysis as tfma

    balanced = gated_metric("MacroRecall", thresholds["macro_recall"],
                            thresholds["max_macro_recall_drop"],
                            module="models.stock_trend.metrics")
    class_recalls = [tfma.MetricConfig(
        class_name="ClassRecall", module="models.stock_trend.metrics",
        config=json.dumps({"class_index": index, "num_classes": len(features.CLASSES),
                           "name": f"recall_{name.lower()}"}))
        for index, name in enumerate(features.CLASSES)]
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(signature_name="serving_default",
                                    label_key=features.TRANSFORMED_LABEL_KEY,
                                    preprocessing_function_names=["transform_features"])],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[tfma.MetricsSpec(metrics=[
            tfma.MetricConfig(class_name="ExampleCount"),
            tfma.MetricConfig(class_name="SparseCategoricalAccuracy"),
            balanced,
            *class_recalls,
            tfma.MetricConfig(class_name="NaiveBaselines",
                              module="models.stock_trend.tfma_baselines"),
            tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
        ])])


SPEC = ModelSpec(
    name="stock_trend",
    example_format="tfrecord",
    prepare_data=sp500.prepare,
    sample_dir=settings.SAMPLES_ROOT / "stock_trend",
    schema_path=settings.SCHEMAS_ROOT / "stock_trend.pbtxt",
    preprocessing_fn="models.stock_trend.preprocessing.preprocessing_fn",
    run_fn="models.stock_trend.model.run_fn",
    eval_config=eval_config,
    thresholds={"macro_recall": blessing_floor(features.EVAL_BASELINES),
                "max_macro_recall_drop": 0.02},
    sample_thresholds={"macro_recall": blessing_floor(features.SAMPLE_EVAL_BASELINES),
                       "max_macro_recall_drop": 0.05},
    key_metric="macro_recall",
    train_steps=1100,   # up to 20 epochs of 55 batches of 64 (3,458 train days); EarlyStopping
    eval_steps=12,      # the 737 eval days
    sample_train_steps=70,
    sample_eval_steps=3,
    serving_signatures=("serving_default", "serving_window", "transform_features"),
    # 'test' goes through ExampleGen/StatisticsGen/validation too; Trainer and Evaluator use
    # only train/eval, and the backtest (models.stock_trend.backtest) reads the test span.
    splits=("train", "eval", "test"),
)
