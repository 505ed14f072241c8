"""The census preparer: cleaning rules, manifest, idempotence, and the committed sample."""
import csv
import os

import pytest

from data import census, common, settings


def test_parse_rows_strips_marks_missing_and_normalises_test_labels():
    text = ("|1x3 Cross validator\n"
            "25, Private, 226802, 11th, 7, Never-married, ?, Own-child, Black, Male, 0, 0, 40, "
            "United-States, >50K.\n\n")
    (row,) = census.parse_rows(text)
    assert row[0] == "25" and row[1] == "Private"
    assert row[census.COLUMNS.index("occupation")] == ""
    assert row[-1] == ">50K"


def test_parse_rows_rejects_a_short_line_with_its_line_number():
    with pytest.raises(common.DataPreparationError, match="line 2: expected 15 fields"):
        census.parse_rows("39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, "
                          "Not-in-family, White, Male, 2174, 0, 40, United-States, <=50K\n1, 2\n")


def test_parse_rows_rejects_an_unknown_label():
    with pytest.raises(common.DataPreparationError, match="unexpected label"):
        census.parse_rows("39, a, 1, b, 13, c, d, e, f, g, 0, 0, 40, h, maybe\n")


def test_prepare_writes_counts_and_checksums_and_a_rerun_is_a_no_op(tmp_path):
    out = tmp_path / "census"
    manifest = census.prepare(out)
    assert manifest["rows"] == {"train": 32561, "eval": 16281}
    train_csv = out / "train" / "census_train.csv"
    assert manifest["sha256"]["train/census_train.csv"] == common.sha256_file(train_csv)
    with open(train_csv, newline="") as f:
        assert next(csv.reader(f)) == census.COLUMNS
    before = os.stat(train_csv).st_mtime_ns
    assert census.prepare(out) == manifest
    assert os.stat(train_csv).st_mtime_ns == before


def test_prepare_rewrites_files_whose_checksum_changed(tmp_path):
    out = tmp_path / "census"
    census.prepare(out)
    (out / "eval" / "census_eval.csv").write_text("tampered\n")
    census.prepare(out)
    assert common.is_prepared(out, census.SOURCE)
    assert (out / "eval" / "census_eval.csv").stat().st_size > 1000


def test_committed_sample_has_the_columns_and_both_labels():
    for split, expected in (("train", 2000), ("eval", 1000)):
        with open(settings.SAMPLES_ROOT / "census" / split / f"census_{split}.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == expected
        assert list(rows[0]) == census.COLUMNS
        assert {r["income"] for r in rows} == set(census.LABELS)
