"""The census pipeline end to end on the committed sample: push, baseline, cache, data gate."""
import csv
import pathlib
import re
import shutil

import pytest
import tensorflow as tf

from models.census import SPEC
from tests.e2e.tfxp import run_tfxp

pytestmark = pytest.mark.e2e

RAW_ROW = {"age": 39, "workclass": "State-gov", "fnlwgt": 77516, "education": "Bachelors",
           "education_num": 13, "marital_status": "Never-married", "occupation": "Adm-clerical",
           "relationship": "Not-in-family", "race": "White", "sex": "Male", "capital_gain": 2174,
           "capital_loss": 0, "hours_per_week": 40, "native_country": "United-States"}


def _example(row) -> bytes:
    example = tf.train.Example()
    for key, value in row.items():
        feature = example.features.feature[key]
        if isinstance(value, int):
            feature.int64_list.value.append(value)
        else:
            feature.bytes_list.value.append(value.encode())
    return example.SerializeToString()


def _versions(serving_dir: pathlib.Path):
    return sorted(int(p.name) for p in serving_dir.glob("*") if p.name.isdigit()) \
        if serving_dir.exists() else []


def _run(home, serving, *extra):
    return run_tfxp("run", "--model", "census", "--sample", "--pipeline-root", str(home),
                    "--serving-dir", str(serving), "--no-infra-validation", *extra)


def _run_as_make_run(home, serving):
    """`tfxp run` as `make run` calls it (infra validation on, default rollout), on the sample,
    with this test's folders in place of the default ones."""
    return run_tfxp("run", "--model", "census", "--sample", "--pipeline-root", str(home),
                    "--serving-dir", str(serving))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("census_e2e")


def test_first_run_pushes_version_1_that_predicts_through_both_signatures(workdir):
    """The first run is the command users type: the candidate is served and answered
    LocalInfraValidator's requests before the push, and the pushed version carries them as
    TF Serving warmup records."""
    result = _run_as_make_run(workdir / "home", workdir / "serving" / "census")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Transform" in result.stdout and "started" in result.stdout
    assert re.search(r"^\[.*\] LocalInfraValidator +done in ", result.stdout, re.MULTILINE), \
        result.stdout
    assert "infra validation: FAILED" not in result.stdout
    assert "no stable version to compare with yet" in result.stdout
    assert "full logs:" in result.stdout
    assert _versions(workdir / "serving" / "census") == [1]
    warmup = workdir / "serving" / "census" / "1" / "assets.extra" / "tf_serving_warmup_requests"
    assert sum(1 for _ in tf.data.TFRecordDataset(str(warmup))) > 0

    model = tf.saved_model.load(str(workdir / "serving" / "census" / "1"))
    by_example = model.signatures["serving_default"](examples=tf.constant([_example(RAW_ROW)]))
    raw_inputs = {k: tf.constant([v], dtype=tf.int64 if isinstance(v, int) else tf.string)
                  for k, v in RAW_ROW.items()}
    by_features = model.signatures["serving_raw"](**raw_inputs)
    p_example = float(by_example["probabilities"][0][0])
    p_raw = float(by_features["probabilities"][0][0])
    assert 0.0 < p_example < 1.0
    assert p_example == pytest.approx(p_raw, abs=1e-6)
    missing_country = dict(raw_inputs, native_country=tf.constant([""]))
    assert 0.0 < float(model.signatures["serving_raw"](**missing_country)["probabilities"][0][0]) < 1.0


def test_second_run_is_compared_with_the_stable_version_and_pushed_as_version_2(workdir):
    """The first push became `stable` in models.config; StableBaseline hands it to the Evaluator."""
    result = _run(workdir / "home", workdir / "serving" / "census", "--no-cache",
                  "--hparam", "learning_rate=0.02")
    assert result.returncode == 0, result.stdout + result.stderr
    metrics = result.stdout.split("metrics (Overall)")[1]
    auc_line = next(line for line in metrics.splitlines() if line.strip().startswith("auc"))
    candidate, baseline = (float(v) for v in auc_line.split()[1:3])
    assert candidate > 0.82 and baseline > 0.82
    assert _versions(workdir / "serving" / "census") == [1, 2]


def test_unchanged_rerun_is_cached_and_pushes_no_duplicate(workdir):
    result = _run(workdir / "home", workdir / "serving" / "census", "--hparam", "learning_rate=0.02")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Trainer                            cached" in result.stdout
    assert "Transform                          cached" in result.stdout
    assert "Evaluator                          cached" in result.stdout
    assert "no new version" in result.stdout
    assert _versions(workdir / "serving" / "census") == [1, 2]


def test_corrupted_data_stops_at_the_gate_with_exit_code_2(workdir, tmp_path):
    data = tmp_path / "corrupted"
    shutil.copytree(SPEC.sample_dir, data)
    train_csv = data / "train" / "census_train.csv"
    with open(train_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows[:50]:
        row["age"] = "450"
        row["sex"] = "Unknown"
    with open(train_csv, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    serving = tmp_path / "serving"

    result = run_tfxp("run", "--model", "census", "--data", str(data), "--pipeline-root",
                      str(tmp_path / "home"), "--serving-dir", str(serving),
                      "--no-infra-validation", "--rollout", "none")

    assert result.returncode == 2, result.stdout + result.stderr
    assert "data gate stopped the run" in result.stdout
    assert "feature 'age'" in result.stdout and "feature 'sex'" in result.stdout
    assert "Trainer" not in result.stdout.split("data gate stopped")[0].split("Summary")[1]
    assert _versions(serving) == []
