"""Bring your own data, end to end, on datasets the project was not designed for: scikit-learn's
bundled CSVs (read from the installed package, offline). CSV -> `tfxp model new` -> `tfxp run` ->
blessed and pushed -> REST and gRPC predictions from `tfxp serve` -> `tfxp report`; a shuffled
copy of the CSV then runs from the cache. Wine runs in the default suite; breast cancer and
diabetes (the same path, plus the one-command `tfxp run --csv`) run under the `slow` marker."""
import json
import os
import pathlib
import subprocess
import sys
import time
import urllib.request

import pandas as pd
import pytest

from data.settings import PROJECT_ROOT
from serving.server.process import free_ports
from tests.e2e.tfxp import run_tfxp

pytestmark = pytest.mark.e2e


def _sklearn_frame(dataset: str) -> pd.DataFrame:
    """The dataset as scikit-learn's loaders read it from the files inside the package."""
    from sklearn import datasets

    if dataset == "diabetes":
        return datasets.load_diabetes(as_frame=True, scaled=False).frame
    return getattr(datasets, f"load_{dataset}")(as_frame=True).frame


# dataset -> (task, the evaluation metric, whether it must be above or below the baseline)
DATASETS = {
    "wine": ("multiclass", "sparse_categorical_accuracy", "accuracy"),
    "breast_cancer": ("binary", "binary_accuracy", "accuracy"),
    "diabetes": ("regression", "mean_squared_error", "mean_squared_error"),
}


@pytest.fixture(scope="module")
def byod_env(tmp_path_factory):
    """Every path the CLI writes (homes, models root, prepared data, reports, the model search
    path) in a temporary folder, for the subprocesses this module starts."""
    root = tmp_path_factory.mktemp("byod")
    env = {"TFXP_HOME": root / "home", "TFXP_SERVING_ROOT": root / "serving",
           "TFXP_DATA_ROOT": root / "prepared", "TFXP_REPORTS_DIR": root / "reports",
           "TFXP_MODELS_PATH": root / "models"}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, str(value))
        yield root


class Served:
    """`tfxp serve` on free ports for the models root, stopped on exit."""

    def __init__(self, models_root: pathlib.Path, log: pathlib.Path):
        self.rest, self.grpc = free_ports(2)
        self._log = open(log, "w")
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "serve", f"--port={self.grpc}",
             f"--rest_api_port={self.rest}",
             f"--model_config_file={models_root / 'models.config'}"],
            cwd=PROJECT_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_available(self, model: str, log: pathlib.Path, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{self.rest}/v1/models/{model}", timeout=5) as response:
                    status = json.loads(response.read())
                if any(v["state"] == "AVAILABLE" for v in status["model_version_status"]):
                    return status
            except OSError:
                pass
            time.sleep(1)
        raise AssertionError(f"{model} never became AVAILABLE:\n{log.read_text()}")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)
        self._log.close()


def _predict(model: str, rows_csv: pathlib.Path, served: Served, grpc: bool) -> dict:
    flags = ["--grpc", f"--grpc-port={served.grpc}"] if grpc else [f"--rest-port={served.rest}"]
    result = run_tfxp("predict", "--model", model, "--csv", str(rows_csv), *flags, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def _check_predictions(outputs: dict, task: str, eval_rows: pd.DataFrame, package_spec: dict):
    """The served model beats the naive baseline on the eval rows it was validated on."""
    labels = eval_rows["target"]
    baseline = package_spec["NAIVE_BASELINE"]
    if task == "regression":
        predictions = pd.Series([p[0] for p in outputs["predictions"]])
        mse = float(((predictions.values - labels.values) ** 2).mean())
        assert mse < baseline["mean_squared_error"]
        return mse
    if task == "binary":
        positive = package_spec["CLASSES"][1]
        guessed = [positive if p[0] > 0.5 else package_spec["CLASSES"][0]
                   for p in outputs["probabilities"]]
    else:
        guessed = [package_spec["CLASSES"][c] for c in outputs["classes"]]
    accuracy = float((pd.Series(guessed) == labels.astype(str).values).mean())
    assert accuracy > baseline["accuracy"]
    return accuracy


def _package_constants(package_dir: pathlib.Path) -> dict:
    """CLASSES and NAIVE_BASELINE as the generated package states them (read, not imported)."""
    import ast

    constants = {}
    for module in ("features.py", "spec.py"):
        for node in ast.parse((package_dir / module).read_text()).body:
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and \
                    node.targets[0].id in ("CLASSES", "NAIVE_BASELINE", "TASK"):
                constants[node.targets[0].id] = ast.literal_eval(node.value)
    return constants


def _bring_your_own_data(dataset: str, root: pathlib.Path, one_command: bool):
    task, _, _ = DATASETS[dataset]
    csv_path = root / f"{dataset}.csv"
    frame = _sklearn_frame(dataset)
    frame.to_csv(csv_path, index=False)
    name = f"{dataset}_byod"
    elsewhere = root / "elsewhere"
    started = time.monotonic()
    if one_command:
        result = run_tfxp("run", "--csv", str(csv_path), "--label", "target", "--model", name,
                          timeout=1800)
        package_dir = root / "models" / name
    else:
        new = run_tfxp("model", "new", name, "--csv", str(csv_path), "--label", "target",
                       "--out", str(elsewhere), timeout=900)
        assert new.returncode == 0, new.stdout + new.stderr
        assert f"task: {task} (" in new.stdout
        assert "naive baseline on the eval rows" in new.stdout
        package_dir = elsewhere / name
        listing = run_tfxp("model", "list")
        assert f"written by tfxp model new to {package_dir}" in listing.stdout
        result = run_tfxp("run", "--model", name, "--no-infra-validation", timeout=1800)
    wall = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "blessed: yes" in result.stdout and "pushed: version 1 at" in result.stdout, \
        result.stdout
    versions = sorted(p.name for p in (root / "serving" / name).iterdir() if p.name.isdigit())
    assert versions == ["1"], result.stdout
    if one_command:
        assert f"Model package: {package_dir}" in result.stdout

    constants = _package_constants(package_dir)
    assert constants["TASK"] == task
    eval_rows = pd.read_csv(package_dir / "sample" / "eval" / f"{name}_eval.csv")
    rows_csv = root / f"{name}_rows.csv"
    eval_rows.drop(columns=["target"]).to_csv(rows_csv, index=False)
    log = root / f"{name}_serve.log"
    served = Served(root / "serving", log)
    try:
        served.wait_available(name, log)
        by_rest = _predict(name, rows_csv, served, grpc=False)
        by_grpc = _predict(name, rows_csv, served, grpc=True)
    finally:
        served.stop()
    assert by_rest.keys() == by_grpc.keys()
    metric = _check_predictions(by_rest, task, eval_rows, constants)
    assert _check_predictions(by_grpc, task, eval_rows, constants) == pytest.approx(metric)

    report = run_tfxp("report", "--model", name, "--out", str(root / "reports"), timeout=600)
    assert report.returncode == 0, report.stdout + report.stderr
    assert list((root / "reports").rglob(f"*{name}*.html"))

    shuffled = root / f"{dataset}_shuffled.csv"
    frame.sample(frac=1.0, random_state=7).to_csv(shuffled, index=False)
    again = run_tfxp("run", "--csv", str(shuffled), "--label", "target", "--model", name,
                     "--no-infra-validation", timeout=1800)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Using the existing package" in again.stdout
    assert "Trainer                            cached" in again.stdout, again.stdout
    assert "no new version" in again.stdout
    print(f"{dataset}: task {task}, served metric {metric:.4f}, baseline "
          f"{constants['NAIVE_BASELINE']}, model new + first run {wall:.0f}s")


def test_wine_csv_becomes_a_served_blessed_model(byod_env):
    _bring_your_own_data("wine", byod_env, one_command=False)


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["breast_cancer", "diabetes"])
def test_one_command_from_csv_to_a_served_blessed_model(byod_env, dataset):
    _bring_your_own_data(dataset, byod_env, one_command=True)
