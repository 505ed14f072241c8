"""File size and test-split accuracy of each TFLite export against the float SavedModel.

    python -m models.fashion_cnn.tflite_report [--model-dir DIR] [--data PATTERN] [--limit N]

`--model-dir` defaults to the newest pushed version under serving/models/fashion_cnn; `--data`
to the prepared eval (= Fashion-MNIST test) split. The float model is the SavedModel's
`serving_pixels` signature; the TFLite files are run with the TFLite interpreter.
"""
import argparse
import dataclasses
import os
import pathlib
import sys
from typing import List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from data import settings
from models.fashion_cnn import features, preprocessing, tflite_export
from serving.config.configs import version_dirs

BATCH = 500


@dataclasses.dataclass
class Row:
    """One line of the report: a model's size and accuracy, and its accuracy change against the
    float SavedModel."""

    model: str
    size_bytes: int
    accuracy: float
    delta: float


def load_images(pattern: str, limit: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
    """(intensities [n, 28, 28] float32 0-255, labels [n]) from raw tf.Example TFRecords."""
    files = sorted(tf.io.gfile.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no TFRecord files match {pattern}")
    spec = {features.IMAGE_KEY: tf.io.FixedLenFeature([], tf.string),
            features.LABEL_KEY: tf.io.FixedLenFeature([], tf.int64)}
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP")
    if limit:
        dataset = dataset.take(limit)
    images, labels = [], []
    for batch in dataset.batch(BATCH).map(lambda s: tf.io.parse_example(s, spec)):
        images.append(preprocessing.decode_png(batch[features.IMAGE_KEY]).numpy()[..., 0])
        labels.append(batch[features.LABEL_KEY].numpy())
    return np.concatenate(images), np.concatenate(labels)


def tflite_predict(model_path: str, images: np.ndarray) -> np.ndarray:
    """Class ids from a TFLite file for [n, 28, 28] intensities 0-255 (quantizing int8 input)."""
    interpreter = tf.lite.Interpreter(model_path=model_path)
    input_detail = interpreter.get_input_details()[0]
    classes = []
    for start in range(0, len(images), BATCH):
        batch = preprocessing.scale_pixels(images[start:start + BATCH]).numpy()
        if input_detail["dtype"] != np.float32:
            scale, zero_point = input_detail["quantization"]
            info = np.iinfo(input_detail["dtype"])
            batch = np.clip(np.round(batch / scale + zero_point), info.min, info.max)
        interpreter.resize_tensor_input(input_detail["index"], batch.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(input_detail["index"], batch.astype(input_detail["dtype"]))
        interpreter.invoke()
        output = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
        classes.append(np.argmax(output, axis=-1))
    return np.concatenate(classes)


def saved_model_predict(model_dir: str, images: np.ndarray) -> np.ndarray:
    """Class ids from the SavedModel's serving_pixels signature: the float reference the TFLite
    files are measured against, on the same images."""
    serve = tf.saved_model.load(model_dir).signatures["serving_pixels"]
    return np.concatenate([serve(pixels=tf.constant(images[i:i + BATCH]))["classes"].numpy()
                           for i in range(0, len(images), BATCH)])


def _dir_size(path: str) -> int:
    """SavedModel size without its assets.extra (which holds the TFLite files themselves)."""
    total = 0
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d != "assets.extra"]
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def evaluate(model_dir: str, images: np.ndarray, labels: np.ndarray) -> List[Row]:
    """One row for the SavedModel, then one per TFLite variant, with its accuracy delta."""
    float_accuracy = float(np.mean(saved_model_predict(model_dir, images) == labels))
    rows = [Row("SavedModel (float32)", _dir_size(model_dir), float_accuracy, 0.0)]
    for variant in tflite_export.VARIANTS:
        path = os.path.join(model_dir, tflite_export.SUBDIR, tflite_export.file_name(variant))
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} is missing: was {model_dir} exported by "
                                    f"models.fashion_cnn.model.run_fn?")
        accuracy = float(np.mean(tflite_predict(path, images) == labels))
        rows.append(Row(f"TFLite {variant}", os.path.getsize(path), accuracy,
                        accuracy - float_accuracy))
    return rows


def format_table(rows: Sequence[Row], examples: int) -> str:
    """The rows as a Markdown table (sizes in KiB, signed accuracy deltas)."""
    lines = [f"| model | size | accuracy ({examples:,} test images) | delta vs float |",
             "|---|---|---|---|"]
    lines += [f"| {r.model} | {r.size_bytes / 1024:,.0f} KiB | {r.accuracy:.4f} | {r.delta:+.4f} |"
              for r in rows]
    return "\n".join(lines)


def latest_pushed(serving_root: pathlib.Path) -> str:
    """The newest pushed version's folder, the one serving answers with: what is reported on
    unless --model-dir says otherwise."""
    versions = version_dirs(serving_root)
    if not versions:
        raise FileNotFoundError(f"no pushed fashion_cnn version under {serving_root}; run "
                                f"`tfxp run --model fashion_cnn` or pass --model-dir")
    return str(versions[max(versions)])


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point (see the module docstring); exit status 1 when the model or the
    data is missing."""
    parser = argparse.ArgumentParser(prog="python -m models.fashion_cnn.tflite_report",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", help="a pushed SavedModel directory")
    parser.add_argument("--data", default=str(settings.PREPARED_ROOT / "fashion_cnn" / "eval" / "*"),
                        help="raw tf.Example TFRecords (gzip) to score")
    parser.add_argument("--limit", type=int, help="score only the first N images")
    args = parser.parse_args(argv)
    try:

        model_dir = args.model_dir or latest_pushed(settings.SERVING_ROOT / "fashion_cnn")
        images, labels = load_images(args.data, args.limit)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"model: {model_dir}")
    print(format_table(evaluate(model_dir, images, labels), len(labels)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
