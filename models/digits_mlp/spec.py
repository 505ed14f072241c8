"""The digits_mlp ModelSpec: data, schema, Transform/Trainer entry points, TFMA validation."""
from typing import Mapping

from data import settings
from data import digits
from models.digits_mlp import features
from models.common.evaluation import multiclass_eval_config
from models.spec import ModelSpec


def eval_config(thresholds: Mapping[str, float]):
    """Accuracy gated overall; each class (a slice on the label) is reported, not gated:
    100 eval images per digit are too few for a stable floor."""
    return multiclass_eval_config(features.LABEL_KEY, thresholds)


SPEC = ModelSpec(
    name="digits_mlp",
    example_format="tfrecord",
    prepare_data=digits.prepare,
    sample_dir=settings.SAMPLES_ROOT / "digits_mlp",
    schema_path=settings.SCHEMAS_ROOT / "digits_mlp.pbtxt",
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
