"""A package `tfxp model new` writes for a table with every kind of column (numbers with gaps,
categories with gaps, a many-valued string, a timestamp, free text, an identifier) passes its own
unit tests: real tf.Transform on its sample, its Keras model, its schema against its sample.
Marked slow (about 11 minutes on the shared 2-core machine): `make test-byod` runs it."""
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from data.settings import PROJECT_ROOT
from tests.e2e.tfxp import run_tfxp

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _mixed_table(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    age = rng.integers(18, 80, size=rows).astype(float)
    colour = rng.choice(["red", "green", "blue"], size=rows).astype(object)
    score = age / 10 + (colour == "red") * 2 + rng.normal(scale=2.0, size=rows)
    age[::9] = np.nan
    colour[::11] = None
    return pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(rows)],
        "age": age,
        "income": rng.normal(50_000, 15_000, size=rows).round(2),
        "colour": colour,
        "city": [f"town {i % 97}" for i in rng.permutation(rows)],
        "signup": pd.date_range("2021-01-01", periods=rows, freq="D").astype(str),
        "note": [f"customer asked about the order number {i} twice" for i in range(rows)],
        "churned": np.where(score > np.median(score), "yes", "no"),
    })


def test_a_package_for_every_kind_of_column_passes_its_own_tests(tmp_path, monkeypatch):
    monkeypatch.setenv("TFXP_HOME", str(tmp_path / "home"))
    csv = tmp_path / "customers.csv"
    _mixed_table().to_csv(csv, index=False)
    out = tmp_path / "models"
    new = run_tfxp("model", "new", "customers", "--csv", str(csv), "--label", "churned",
                   "--out", str(out), "--exclude", "customer_id")
    assert new.returncode == 0, new.stdout + new.stderr
    for line in ("task: binary (the label holds 2 distinct non-numeric values)",
                 "  age: numeric", "  colour: categorical", "  city: hashed",
                 "  signup: timestamp", "  note: text", "  customer_id: excluded"):
        assert line in new.stdout, new.stdout
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(out), str(PROJECT_ROOT)]),
               TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            str(out / "customers")], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=1200)
    assert tests.returncode == 0, tests.stdout[-5000:] + tests.stderr[-3000:]
    assert " passed" in tests.stdout and "failed" not in tests.stdout
