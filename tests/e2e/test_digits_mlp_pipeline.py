"""digits_mlp end to end on the committed sample: the custom layer survives SavedModel export
(Keras reload), TFMA (the Evaluator blesses it, per-digit slices) and serving (signatures)."""
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from data import settings, tfrecords
from models.digits_mlp.layers import CustomDenseLayer
from pipelines import run_info
from tests.e2e.tfxp import run_tfxp

pytestmark = pytest.mark.e2e
SAMPLE_EVAL = str(settings.SAMPLES_ROOT / "digits_mlp" / "eval" / "*.tfrecord.gz")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("digits_e2e")
    result = run_tfxp("run", "--model", "digits_mlp", "--sample", "--pipeline-root",
                      str(workdir / "home"), "--serving-dir", str(workdir / "serving"),
                      "--no-infra-validation", "--rollout", "none")
    assert result.returncode == 0, result.stdout + result.stderr
    return workdir


def test_evaluator_blesses_the_custom_layer_model_with_per_digit_slices(workdir: pathlib.Path):
    info = run_info.load_run(str(workdir / "home" / "metadata.sqlite"), "digits_mlp-sample")
    assert info.output("Evaluator", "blessing").properties.get("blessed")
    slices = run_info.evaluation_metrics(info.output("Evaluator", "evaluation").uri)
    assert {f"label={d}" for d in range(10)} <= set(slices)
    assert slices["Overall"]["candidate"]["sparse_categorical_accuracy"] > 0.6


def test_pushed_model_reloads_in_keras_with_the_custom_layer(workdir):
    model = tf.keras.models.load_model(str(workdir / "serving" / "1"))
    assert sum(isinstance(layer, CustomDenseLayer) for layer in model.layers) == 3


def test_pushed_model_predicts_through_its_signatures(workdir):
    model = tf.saved_model.load(str(workdir / "serving" / "1"))
    examples = list(tfrecords.read_examples(SAMPLE_EVAL))
    labels = np.array([e.features.feature["label"].int64_list.value[0] for e in examples])
    by_example = model.signatures["serving_default"](
        examples=tf.constant([e.SerializeToString() for e in examples]))
    pixels = np.array([e.features.feature["pixels"].int64_list.value for e in examples],
                      dtype=np.float32).reshape(-1, 28, 28)
    by_pixels = model.signatures["serving_pixels"](pixels=tf.constant(pixels))
    np.testing.assert_allclose(by_pixels["probabilities"], by_example["probabilities"], atol=1e-5)
    assert np.mean(by_example["classes"].numpy() == labels) > 0.6
    transformed = model.signatures["transform_features"](
        examples=tf.constant([examples[0].SerializeToString()]))
    assert transformed["pixels_xf"].shape == (1, 784)
