"""The growth benchmark's scaled data: real rows repeated, jittered within the schema's domains."""
import csv

import numpy as np
import pytest

from bench import growth_bench
from bench.pipeline_bench import format_component_table
from data.settings import SAMPLES_ROOT


def _read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_scaled_data_repeats_the_rows_with_jittered_numeric_features(tmp_path):
    source = SAMPLES_ROOT / "census"
    original = _read(source / "train" / "census_train.csv")
    rows = growth_bench.write_scaled_census(source, tmp_path, 3)
    scaled = _read(tmp_path / "train" / "census_train.csv")
    assert rows == len(scaled) == 3 * len(original)
    assert scaled[:len(original)] == original
    copy = scaled[len(original):2 * len(original)]
    changed = sum(a["age"] != b["age"] for a, b in zip(original, copy))
    assert changed > len(original) // 2
    for before, after in zip(original, copy):
        for column in ("workclass", "education", "income", "sex"):
            assert before[column] == after[column]
    assert _read(tmp_path / "eval" / "census_eval.csv") == _read(source / "eval" / "census_eval.csv")


def test_jitter_stays_within_the_schema_domain_and_keeps_missing_values():
    rng = np.random.default_rng(0)
    for column, (_, _, lowest, highest) in growth_bench.JITTER.items():
        for text in (str(lowest), str(highest or 10**6)):
            value = int(growth_bench.jitter_value(text, column, rng))
            assert value >= lowest and (highest is None or value <= highest)
        assert growth_bench.jitter_value("", column, rng) == ""


def test_component_table_has_a_column_per_run_and_a_dash_for_a_missing_component():
    lines = format_component_table({"fresh": {"Transform": 20.0, "Trainer": 10.0},
                                    "cached": {"Transform": 0.5}})
    assert "fresh" in lines[0] and "cached" in lines[0]
    assert lines[1].split() == ["Transform", "20.0s", "0.5s"]
    assert lines[2].split() == ["Trainer", "10.0s", "-"]
    assert lines[-1].split()[-2:] == ["30.0s", "0.5s"]


def test_scaling_a_folder_without_the_prepared_splits_names_the_fix(tmp_path):
    (tmp_path / "source" / "train").mkdir(parents=True)
    (tmp_path / "source" / "train" / "part.csv").write_text("age\n30\n")
    with pytest.raises(FileNotFoundError, match=r"no eval CSV files under .*`make data`"):
        growth_bench.write_scaled_census(tmp_path / "source", tmp_path / "out", 2)
