"""tf.Example TFRecord files for the image preparers (gzip: ImportExampleGen detects `.gz`)."""
import pathlib
from typing import Iterable, Iterator

import tensorflow as tf

SUFFIX = ".tfrecord.gz"


def int64_feature(values) -> tf.train.Feature:
    """An int64 list feature; each value goes through int(), so numpy integers are accepted."""
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))


def bytes_feature(value: bytes) -> tf.train.Feature:
    """A one-value bytes feature, such as an encoded PNG."""
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def write_examples(path: pathlib.Path, examples: Iterable[tf.train.Example]) -> int:
    """Writes examples as one gzip TFRecord file; returns how many were written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for example in examples:
            writer.write(example.SerializeToString())
            count += 1
    return count


def read_examples(pattern: str) -> Iterator[tf.train.Example]:
    """Every tf.Example in the gzip TFRecord files matching `pattern`, in file order."""
    files = sorted(tf.io.gfile.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no TFRecord files match {pattern}")
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        yield tf.train.Example.FromString(record.numpy())
