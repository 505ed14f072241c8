"""TFLite exports: the interpreter runs each file on the committed sample and agrees with Keras."""
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from data import settings
from models.fashion_cnn import model, tflite_export, tflite_report

SAMPLE = str(settings.SAMPLES_ROOT / "fashion_cnn")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A CNN trained briefly on the sample's train split, exported as the three TFLite files."""
    tf.keras.utils.set_random_seed(0)
    train_images, train_labels = tflite_report.load_images(SAMPLE + "/train/*")
    x = train_images[..., None] / 255.0
    cnn = model.build_model(dict(model.DEFAULT_HYPERPARAMETERS, augment=False))
    cnn.fit(x, train_labels, epochs=3, batch_size=32, verbose=0)
    out_dir = str(tmp_path_factory.mktemp("tflite"))
    paths = tflite_export.export(cnn, out_dir, tf.data.Dataset.from_tensor_slices(x))
    return cnn, paths, out_dir


def test_three_files_and_an_index_are_written(exported):
    _, paths, out_dir = exported
    assert sorted(paths) == sorted(tflite_export.VARIANTS)
    index = json.loads(open(os.path.join(out_dir, "index.json")).read())
    assert index["files"]["int8"] == "fashion_cnn_int8.tflite" and len(index["classes"]) == 10
    sizes = {v: os.path.getsize(p) for v, p in paths.items()}
    assert sizes["dynamic_range"] < sizes["float32"] / 3
    assert sizes["int8"] < sizes["float32"] / 3


def test_int8_file_takes_and_returns_int8(exported):
    interpreter = tf.lite.Interpreter(model_path=exported[1]["int8"])
    assert interpreter.get_input_details()[0]["dtype"] == np.int8
    assert interpreter.get_output_details()[0]["dtype"] == np.int8


def test_interpreter_predictions_on_samples_agree_with_keras(exported):
    cnn, paths, _ = exported
    images, labels = tflite_report.load_images(SAMPLE + "/eval/*")
    keras_classes = np.argmax(cnn.predict(images[..., None] / 255.0, verbose=0), axis=-1)
    for variant, minimum in (("float32", 1.0), ("dynamic_range", 0.95), ("int8", 0.9)):
        classes = tflite_report.tflite_predict(paths[variant], images)
        assert classes.shape == labels.shape
        assert np.mean(classes == keras_classes) >= minimum, variant


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="float16"):
        tflite_export.file_name("float16")
