"""Changed data on census: the gate stops an empty split and drift against the stable version,
lets harmless variants through, --accept-drift is recorded, and `tfxp skew` reads the request logs
the local server wrote against the training data the pushed version carries."""
import random
import shutil
import time

import pytest

from data import settings, validation
from pipelines import skew
from pipelines.testing import CENSUS_NUMERIC, census_sample_rows
from serving.config import configs
from serving.server import request_log
from tests.e2e.tfxp import run_tfxp
from tests.serving.helpers import http, local_server

pytestmark = pytest.mark.e2e

SAMPLE = settings.SAMPLES_ROOT / "census"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("census_changes")


def _run(workdir, data, *extra):
    return run_tfxp("run", "--model", "census", "--data", str(data), "--pipeline-root",
                    str(workdir / "home"), "--serving-dir", str(workdir / "models" / "census"),
                    "--no-infra-validation", *extra)


def _data(workdir, name, train_lines, line_ending="\n"):
    """A data folder with the sample's eval split and the given train lines."""
    root = workdir / name
    (root / "train").mkdir(parents=True)
    shutil.copytree(SAMPLE / "eval", root / "eval")
    (root / "train" / "census_train.csv").write_bytes(
        (line_ending.join(train_lines) + line_ending).encode())
    return root


def _train_lines():
    return (SAMPLE / "train" / "census_train.csv").read_text().splitlines()


def _version(workdir, n):
    return workdir / "models" / "census" / str(n)


@pytest.fixture(scope="module")
def first_run(workdir):
    result = _run(workdir, SAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_first_push_carries_its_training_statistics_and_schema_and_becomes_stable(
        workdir, first_run):
    folder = _version(workdir, 1) / validation.TRAINING_DATA_DIR
    statistics, schema = validation.load_training_data(_version(workdir, 1))
    assert statistics.num_examples == 2000
    assert {f.name for f in schema.feature} >= {"age", "race", "income"}
    assert (folder / validation.TRAINING_STATISTICS_FILE).exists()
    assert "stable" in (workdir / "models" / "models.config").read_text()


def test_shuffled_rows_with_crlf_line_endings_pass_the_drift_check(workdir, first_run):
    lines = _train_lines()
    body = lines[1:]
    random.Random(3).shuffle(body)
    result = _run(workdir, _data(workdir, "shuffled_crlf", [lines[0]] + body, "\r\n"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "DataGate" in result.stdout and "DataGateError" not in result.stdout


def test_training_data_without_white_rows_is_stopped_naming_the_feature(workdir, first_run):
    lines = _train_lines()
    race = lines[0].split(",").index("race")
    drifted = [lines[0]] + [line for line in lines[1:] if line.split(",")[race] != "White"]
    result = _run(workdir, _data(workdir, "no_white", drifted))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "feature 'race': L-infinity distance 0.8" in result.stdout
    assert f"against the stable version ({_version(workdir, 1)})" in result.stdout
    assert "> threshold 0.05" in result.stdout and "--accept-drift" in result.stdout
    ran = [line.split()[0] for line in result.stdout.split("Summary")[1].splitlines()
           if line.startswith("    ") and len(line.split()) == 3]
    assert "DataGate" in ran and "Transform" not in ran and "Trainer" not in ran


def test_accept_drift_trains_on_changed_data_pushes_and_says_so(workdir, first_run):
    """Female rows doubled: sex, relationship and marital status drift, the model stays good."""
    lines = _train_lines()
    sex = lines[0].split(",").index("sex")
    females = [line for line in lines[1:] if line.split(",")[sex] == "Female"]
    changed = _data(workdir, "more_women", lines + females)
    stopped = _run(workdir, changed)
    assert stopped.returncode == 2 and "feature 'sex': L-infinity" in stopped.stdout

    accepted = _run(workdir, changed, "--accept-drift")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "data drift ACCEPTED (--accept-drift" in accepted.stdout
    assert "drift, feature 'sex': L-infinity distance" in accepted.stdout
    assert "pushed: version" in accepted.stdout
    report = run_tfxp("report", "--model", "census", "--pipeline-root", str(workdir / "home"),
                      "--out", str(workdir / "reports"))
    assert report.returncode == 0, report.stdout + report.stderr
    page = next((workdir / "reports").glob("census-*.html")).read_text()
    assert 'id="drift-accepted"' in page and 'data-feature="sex" data-comparison="drift"' in page


def test_an_empty_training_file_is_stopped_naming_the_split_and_row_count(workdir, first_run):
    result = _run(workdir, _data(workdir, "empty", _train_lines()[:1]))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "split 'train' has 0 rows; the model needs at least 100" in result.stdout


def _log_requests_while_serving(workdir, prefix: str, bodies) -> None:
    """Serve the pushed census versions with request logging to `prefix` (sampling 1.0), send
    each REST body, and stop the server once every request is in the log."""
    models = workdir / "models"
    config = configs.read_models_config(models / configs.MODELS_CONFIG)
    logging_config = configs.model_entry(config, "census").logging_config
    logging_config.sampling_config.sampling_rate = 1.0
    logging_config.log_collector_config.filename_prefix = prefix
    configs.write_models_config(models, config)
    server = local_server(models)
    try:
        for path, body in bodies:
            status, answer = http(server, "POST", path, body)
            assert status == 200, answer
        for _ in range(100):
            try:
                if len(list(request_log.read_prediction_logs(models / prefix))) == len(bodies):
                    break
            except FileNotFoundError:
                pass
            time.sleep(0.1)
    finally:
        server.stop()
    assert len(list(request_log.read_prediction_logs(models / prefix))) == len(bodies)


def _json_row(row):
    return {k: int(v) if k in CENSUS_NUMERIC else v for k, v in row.items() if k != "income"}


def test_served_requests_are_logged_and_tfxp_skew_finds_one_race_not_eval_rows(workdir, first_run):
    """serve -> requests -> request logs -> `tfxp skew` -> report, with the local server."""
    rows = [_json_row(r) for r in census_sample_rows("eval")]
    batches = [rows[i:i + 100] for i in range(0, len(rows), 100)]
    _log_requests_while_serving(workdir, "request_logs/eval/census", [
        ("/v1/models/census/versions/1:predict",
         {"signature_name": "serving_raw", "instances": batch}) for batch in batches])
    _log_requests_while_serving(workdir, "request_logs/one_race/census", [
        ("/v1/models/census/versions/1:predict",
         {"signature_name": "serving_raw", "instances": [dict(r, race="Black") for r in batch]})
        for batch in batches])

    arguments = ["skew", "--model", "census", "--version", "1", "--models-root",
                 str(workdir / "models"), "--pipeline-root", str(workdir / "home")]
    clean = run_tfxp(*arguments, "--logs", str(workdir / "models" / "request_logs" / "eval"))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no serving skew" in clean.stdout and f"{len(rows)} request rows" in clean.stdout

    skewed = run_tfxp(*arguments)  # the logs models.config names now: the one-race requests
    assert skewed.returncode == skew.EXIT_SKEW, skewed.stdout + skewed.stderr
    race_line = next(line for line in skewed.stdout.splitlines() if line.startswith("race "))
    assert "L-infinity" in race_line and "SKEW" in race_line and "Black: 100%" in race_line
    assert "serving skew in 1 feature(s): race" in skewed.stdout

    report = run_tfxp("report", "--model", "census", "--pipeline-root", str(workdir / "home"),
                      "--out", str(workdir / "skew_report"))
    assert report.returncode == 0, report.stdout + report.stderr
    page = next((workdir / "skew_report").glob("census-*.html")).read_text()
    assert 'id="serving-skew"' in page
    assert 'data-feature="race" data-comparison="serving-skew"' in page
    assert "<svg" in page.split('id="serving-skew"')[1]
