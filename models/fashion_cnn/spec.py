"""The fashion_cnn ModelSpec: data, schema, Transform/Trainer/Tuner entry points, TFMA validation."""
from typing import Mapping

from data import settings
from data import fashion_mnist
from models.fashion_cnn import features
from models.common.evaluation import multiclass_eval_config
from models.spec import ModelSpec


def eval_config(thresholds: Mapping[str, float]):
    """Accuracy gated overall; each class (a slice on the label) is reported, not gated:
    the per-class figures show which garments the model confuses."""
    return multiclass_eval_config(features.LABEL_KEY, thresholds)


SPEC = ModelSpec(
    name="fashion_cnn",
    example_format="tfrecord",
    prepare_data=fashion_mnist.prepare,
    sample_dir=settings.SAMPLES_ROOT / "fashion_cnn",
    schema_path=settings.SCHEMAS_ROOT / "fashion_cnn.pbtxt",
    preprocessing_fn="models.fashion_cnn.preprocessing.preprocessing_fn",
    run_fn="models.fashion_cnn.model.run_fn",
    tuner_fn="models.fashion_cnn.tuner.tuner_fn",
    eval_config=eval_config,
    thresholds={"sparse_categorical_accuracy": 0.85, "max_accuracy_drop": 0.01},
    sample_thresholds={"sparse_categorical_accuracy": 0.6, "max_accuracy_drop": 0.05},
    key_metric="sparse_categorical_accuracy",
    train_steps=1407,   # 3 epochs of 469 batches of 128 = the 60,000 training images each
    eval_steps=79,      # the 10,000 test images
    sample_train_steps=30,
    sample_eval_steps=2,
    serving_signatures=("serving_default", "serving_png", "serving_pixels", "transform_features"),
)
