"""fashion_cnn end to end on the committed sample: pushed, served by every signature, TFLite
files carried by the Pusher and scored by the report, per-class slices, and `--tune`."""
import json
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from data import settings, tfrecords
from models.fashion_cnn import tflite_export, tflite_report
from pipelines import run_info
from tests.e2e.tfxp import run_tfxp

pytestmark = pytest.mark.e2e
SAMPLE_EVAL = str(settings.SAMPLES_ROOT / "fashion_cnn" / "eval" / "*.tfrecord.gz")


def _run(workdir: pathlib.Path, *extra):
    return run_tfxp("run", "--model", "fashion_cnn", "--sample", "--pipeline-root",
                    str(workdir / "home"), "--serving-dir", str(workdir / "serving" / "fashion_cnn"),
                    "--no-infra-validation", *extra)


def _evaluation(workdir: pathlib.Path):
    info = run_info.load_run(str(workdir / "home" / "metadata.sqlite"), "fashion_cnn-sample")
    return run_info.evaluation_metrics(info.output("Evaluator", "evaluation").uri)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fashion_e2e")


@pytest.fixture(scope="module")
def first_run(workdir):
    return _run(workdir)


def test_sample_run_is_blessed_and_pushed_with_per_class_slices(workdir, first_run):
    assert first_run.returncode == 0, first_run.stdout + first_run.stderr
    assert (workdir / "serving" / "fashion_cnn" / "1" / "saved_model.pb").exists()
    slices = _evaluation(workdir)
    assert {f"label={c}" for c in range(10)} <= set(slices)
    assert slices["Overall"]["candidate"]["example_count"] == 200


def test_pushed_model_predicts_through_every_signature(workdir, first_run):
    assert first_run.returncode == 0, first_run.stdout + first_run.stderr
    model = tf.saved_model.load(str(workdir / "serving" / "fashion_cnn" / "1"))
    assert {"serving_default", "serving_png", "serving_pixels",
            "transform_features"} <= set(model.signatures)
    examples = list(tfrecords.read_examples(SAMPLE_EVAL))[:20]
    pngs = [e.features.feature["image_png"].bytes_list.value[0] for e in examples]
    by_example = model.signatures["serving_default"](
        examples=tf.constant([e.SerializeToString() for e in examples]))
    by_png = model.signatures["serving_png"](image_png=tf.constant(pngs))
    pixels = np.stack([tf.io.decode_png(p).numpy()[..., 0] for p in pngs]).astype(np.float32)
    by_pixels = model.signatures["serving_pixels"](pixels=tf.constant(pixels))
    assert by_example["probabilities"].shape == (20, 10)
    np.testing.assert_allclose(by_png["probabilities"], by_example["probabilities"], atol=1e-5)
    np.testing.assert_allclose(by_pixels["probabilities"], by_example["probabilities"], atol=1e-5)
    np.testing.assert_allclose(tf.reduce_sum(by_example["probabilities"], axis=1), 1.0, atol=1e-5)
    transformed = model.signatures["transform_features"](
        examples=tf.constant([examples[0].SerializeToString()]))
    assert transformed["image_xf"].shape == (1, 28, 28, 1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="0-255"):
        model.signatures["serving_pixels"](pixels=tf.constant(pixels[:1] + 300.0))


def test_pushed_version_carries_tflite_files_that_the_report_scores(workdir, first_run):
    assert first_run.returncode == 0, first_run.stdout + first_run.stderr
    model_dir = str(workdir / "serving" / "fashion_cnn" / "1")
    images, labels = tflite_report.load_images(SAMPLE_EVAL)
    rows = tflite_report.evaluate(model_dir, images, labels)
    assert [r.model for r in rows] == ["SavedModel (float32)"] + [
        f"TFLite {v}" for v in tflite_export.VARIANTS]
    float_row, tflite_float, dynamic, int8 = rows
    assert float_row.accuracy > 0.6
    assert tflite_float.delta == pytest.approx(0.0, abs=0.01)
    assert abs(dynamic.delta) <= 0.05 and abs(int8.delta) <= 0.05
    assert int8.size_bytes < tflite_float.size_bytes / 3
    table = tflite_report.format_table(rows, len(labels))
    assert "| TFLite int8 |" in table and "200 test images" in table
    assert tflite_report.main(["--model-dir", model_dir, "--data", SAMPLE_EVAL, "--limit", "50"]) == 0


def test_tune_adds_the_tuner_and_the_trainer_uses_its_best_values(workdir, first_run):
    """Trials of 5 steps on 400 images may pick worse values than the defaults; the Evaluator then
    refuses the candidate against the blessed baseline (exit 3), which is the gate working."""
    assert first_run.returncode == 0, first_run.stdout + first_run.stderr
    result = _run(workdir, "--tune")
    assert result.returncode in (0, 3), result.stdout + result.stderr
    if result.returncode == 3:
        assert "against the last blessed model" in result.stdout
    assert "baseline" in result.stdout
    info = run_info.load_run(str(workdir / "home" / "metadata.sqlite"), "fashion_cnn-sample")
    assert info.component("Tuner").state == "executed"
    best_file = pathlib.Path(info.output("Tuner", "best_hyperparameters").uri) / "best_hyperparameters.txt"
    best = json.loads(best_file.read_text())["values"]
    trained = tf.saved_model.load(str(pathlib.Path(info.output("Trainer", "model").uri) / "Format-Serving"))
    conv1 = next(v for v in trained.variables if "conv1/kernel" in v.name)
    assert conv1.shape[-1] == best["filters"]
