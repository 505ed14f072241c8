"""TFLite exports of the trained CNN, written beside the SavedModel so the Pusher carries them.

run_fn writes `<SavedModel>/assets.extra/tflite/`: TF Serving ignores assets.extra (apart from
its warmup file) and the Pusher copies the whole model directory, so every pushed version holds
the TFLite files made from exactly its weights. The TFLite models take the *transformed* image
([n, 28, 28, 1] floats in [0, 1], see preprocessing.scale_pixels); the int8 file takes int8
input quantized with its input tensor's scale and zero point.
"""
import json
import os
from typing import Dict

import tensorflow as tf

from models.fashion_cnn import features

SUBDIR = os.path.join("assets.extra", "tflite")
VARIANTS = ("float32", "dynamic_range", "int8")
REPRESENTATIVE_IMAGES = 200


def file_name(variant: str) -> str:
    """The file of one TFLite variant: the exporter and the report use the same names, and an
    unknown variant fails here rather than as a missing file."""
    if variant not in VARIANTS:
        raise ValueError(f"TFLite variant must be one of {VARIANTS}, got {variant!r}")
    return f"fashion_cnn_{variant}.tflite"


def _converter(model: tf.keras.Model) -> tf.lite.TFLiteConverter:
    @tf.function(input_signature=[tf.TensorSpec((None,) + features.IMAGE_SHAPE, tf.float32,
                                                name="image")])
    def infer(image):
        return {"probabilities": model(image, training=False)}

    return tf.lite.TFLiteConverter.from_concrete_functions([infer.get_concrete_function()], model)


def convert(model: tf.keras.Model, representative_images: tf.data.Dataset) -> Dict[str, bytes]:
    """float32 (reference), dynamic-range (int8 weights, float activations) and full int8
    (weights and activations, calibrated on `representative_images`: single [28, 28, 1] images)."""
    converted = {"float32": _converter(model).convert()}

    dynamic = _converter(model)
    dynamic.optimizations = [tf.lite.Optimize.DEFAULT]
    converted["dynamic_range"] = dynamic.convert()

    def representative_dataset():
        for image in representative_images.take(REPRESENTATIVE_IMAGES):
            yield [tf.reshape(tf.cast(image, tf.float32), (1,) + features.IMAGE_SHAPE)]

    int8 = _converter(model)
    int8.optimizations = [tf.lite.Optimize.DEFAULT]
    int8.representative_dataset = representative_dataset
    int8.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    int8.inference_input_type = tf.int8
    int8.inference_output_type = tf.int8
    converted["int8"] = int8.convert()
    return converted


def export(model: tf.keras.Model, out_dir: str, representative_images: tf.data.Dataset) -> Dict[str, str]:
    """Writes the three .tflite files and an index (file names, classes) into out_dir."""
    tf.io.gfile.makedirs(out_dir)
    paths = {}
    for variant, flatbuffer in convert(model, representative_images).items():
        paths[variant] = os.path.join(out_dir, file_name(variant))
        with tf.io.gfile.GFile(paths[variant], "wb") as f:
            f.write(flatbuffer)
    index = {"files": {v: file_name(v) for v in VARIANTS}, "classes": list(features.CLASS_NAMES),
             "input": "float32 [n, 28, 28, 1] in [0, 1]; the int8 file takes int8 quantized "
                      "with its input tensor's (scale, zero_point)"}
    with tf.io.gfile.GFile(os.path.join(out_dir, "index.json"), "w") as f:
        f.write(json.dumps(index, indent=2) + "\n")
    return paths
