"""Fashion-MNIST preparer: IDX parsing, clear errors, the committed sample's classes."""
import collections
import gzip

import numpy as np
import pytest

from data import common, fashion_mnist, settings, tfrecords


def _idx(array: np.ndarray) -> bytes:
    magic = 2051 if array.ndim == 3 else 2049
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_parse_idx_reads_images_and_labels():
    images = np.arange(2 * 28 * 28, dtype=np.uint32).reshape(2, 28, 28) % 256
    assert (fashion_mnist.parse_idx(_idx(images), 3) == images).all()
    assert fashion_mnist.parse_idx(_idx(np.array([3, 9])), 1).tolist() == [3, 9]


def test_parse_idx_rejects_wrong_magic_and_truncated_body():
    with pytest.raises(common.DataPreparationError, match="magic"):
        fashion_mnist.parse_idx(_idx(np.zeros(20)), 3)
    with pytest.raises(common.DataPreparationError, match="body"):
        fashion_mnist.parse_idx(_idx(np.zeros((2, 28, 28)))[:-5], 3)


def test_missing_debian_files_say_how_to_install_them(tmp_path):
    with pytest.raises(common.DataPreparationError, match="apt-get install dataset-fashion-mnist"):
        fashion_mnist.load_split("train", source_dir=tmp_path)


def test_load_split_checks_labels_match_images(tmp_path):
    for split, (images_name, labels_name) in fashion_mnist.SOURCE_FILES.items():
        (tmp_path / images_name).write_bytes(gzip.compress(_idx(np.zeros((3, 28, 28)))))
        (tmp_path / labels_name).write_bytes(gzip.compress(_idx(np.array([0, 1]))))
    with pytest.raises(common.DataPreparationError, match="do not match"):
        fashion_mnist.load_split("eval", source_dir=tmp_path)


@pytest.mark.parametrize("split,per_class", [("train", 40), ("eval", 20)])
def test_committed_sample_holds_every_class_as_png_examples(split, per_class):
    examples = list(tfrecords.read_examples(
        str(settings.SAMPLES_ROOT / "fashion_cnn" / split / "*.tfrecord.gz")))
    labels = collections.Counter(e.features.feature["label"].int64_list.value[0] for e in examples)
    assert labels == {label: per_class for label in range(10)}
    assert all(e.features.feature["image_png"].bytes_list.value[0][:4] == b"\x89PNG"
               for e in examples)
