"""Fashion-MNIST from the Debian package `dataset-fashion-mnist`, written as tf.Example TFRecords.

The dataset's own split is kept: the 60,000 training images become `train/`, the 10,000 test
images `eval/`. Each tf.Example holds `image_png` (the 28x28 grayscale image, PNG-encoded: the
same bytes a client sends to the `serving_png` signature) and `label` (0-9).
"""
import gzip
import pathlib
from typing import Dict, Iterator, Tuple

import numpy as np

from data import common, settings, tfrecords

DEBIAN_PACKAGE = "dataset-fashion-mnist"
SOURCE_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
                "eval": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
SOURCE = f"debian:{DEBIAN_PACKAGE}"
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")
IMAGE_SIZE = 28
IMAGE_KEY, LABEL_KEY = "image_png", "label"
_IDX_MAGIC = {3: 2051, 1: 2049}


def parse_idx(data: bytes, ndim: int) -> np.ndarray:
    """A uint8 array from an (uncompressed) IDX file: big-endian magic, dims, then the bytes."""
    header = 4 + 4 * ndim
    if len(data) < header:
        raise common.DataPreparationError(f"IDX file too short ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    if magic != _IDX_MAGIC[ndim]:
        raise common.DataPreparationError(
            f"IDX magic number {magic} is not {_IDX_MAGIC[ndim]} (a {ndim}-d uint8 array)")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.uint8, offset=header)
    if body.size != int(np.prod(dims)):
        raise common.DataPreparationError(f"IDX body holds {body.size} bytes, dims {dims} "
                                          f"need {int(np.prod(dims))}")
    return body.reshape(dims)


def load_split(split: str, source_dir: pathlib.Path = settings.FASHION_MNIST_DIR
               ) -> Tuple[np.ndarray, np.ndarray]:
    """(images [n, 28, 28] uint8, labels [n] uint8) of one split from the Debian files."""
    images_name, labels_name = SOURCE_FILES[split]
    paths = [source_dir / images_name, source_dir / labels_name]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise common.DataPreparationError(
            f"Fashion-MNIST files missing: {', '.join(missing)}. Install the Debian package "
            f"(`make system-packages` or `apt-get install {DEBIAN_PACKAGE}`), or point "
            f"TFXP_FASHION_MNIST_DIR at a folder holding the four *-ubyte.gz files.")
    images = parse_idx(gzip.decompress(paths[0].read_bytes()), 3)
    labels = parse_idx(gzip.decompress(paths[1].read_bytes()), 1)
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise common.DataPreparationError(
            f"{split}: {images.shape} images do not match {labels.shape} labels of 28x28 images")
    if labels.max() >= len(CLASS_NAMES):
        raise common.DataPreparationError(f"{split}: label {labels.max()} outside 0-9")
    return images, labels


def to_examples(images: np.ndarray, labels: np.ndarray) -> Iterator:
    """tf.Examples {image_png, label}: the PNG bytes are what clients send to serving_png, so
    training and serving decode images the same way."""
    import tensorflow as tf

    for image, label in zip(images, labels):
        png = tf.io.encode_png(image[:, :, np.newaxis]).numpy()
        yield tf.train.Example(features=tf.train.Features(feature={
            IMAGE_KEY: tfrecords.bytes_feature(png),
            LABEL_KEY: tfrecords.int64_feature([label])}))


def _write_splits(out_dir: pathlib.Path):
    rows = {}
    for split in SOURCE_FILES:
        images, labels = load_split(split)
        rows[split] = tfrecords.write_examples(
            out_dir / split / f"fashion_mnist_{split}{tfrecords.SUFFIX}", to_examples(images, labels))
    return rows, {"classes": list(CLASS_NAMES)}


def prepare(out_dir: pathlib.Path) -> Dict:
    """Write train/eval TFRecords and MANIFEST.json into out_dir; a no-op when they are current."""
    return common.prepare_once(out_dir, SOURCE, _write_splits)

