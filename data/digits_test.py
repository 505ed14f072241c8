"""Digits preparer: CSV parsing with clear errors, the seeded stratified 4000/1000 split."""
import collections

import pytest

from data import common, digits, settings, tfrecords


def _line(label: int, value: int = 0) -> str:
    return ",".join([str(value)] * 784 + [str(label)])


def test_parse_rows_reads_pixels_then_label():
    rows = digits.parse_rows(_line(7, 255) + "\n\n" + _line(0))
    assert [(len(p), max(p), label) for p, label in rows] == [(784, 255, 7), (784, 0, 0)]


@pytest.mark.parametrize("text,match", [("1,2,3", "expected 785 values"),
                                        (_line(10), "label 10"),
                                        (_line(1, 256), "outside 0-255"),
                                        (_line(1).replace("0", "x", 1), "line 1")])
def test_parse_rows_rejects_bad_rows(text, match):
    with pytest.raises(common.DataPreparationError, match=match):
        digits.parse_rows(text)


def test_stratified_split_is_80_20_per_label_and_reproducible():
    rows = [([i], label) for label in range(10) for i in range(500)]
    splits = digits.stratified_split(rows)
    assert collections.Counter(l for _, l in splits["train"]) == {l: 400 for l in range(10)}
    assert collections.Counter(l for _, l in splits["eval"]) == {l: 100 for l in range(10)}
    assert not {(tuple(p), l) for p, l in splits["train"]} & {(tuple(p), l) for p, l in splits["eval"]}
    assert splits == digits.stratified_split(rows)
    assert [l for _, l in splits["train"][:20]] != sorted(l for _, l in splits["train"][:20])


@pytest.mark.parametrize("split,per_class", [("train", 40), ("eval", 20)])
def test_committed_sample_is_balanced(split, per_class):
    examples = list(tfrecords.read_examples(
        str(settings.SAMPLES_ROOT / "digits_mlp" / split / "*.tfrecord.gz")))
    assert collections.Counter(e.features.feature["label"].int64_list.value[0]
                               for e in examples) == {label: per_class for label in range(10)}
    assert {len(e.features.feature["pixels"].int64_list.value) for e in examples} == {784}
