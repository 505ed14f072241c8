"""Slower census variants: BeamDagRunner and the Tuner (`make test-runners`, run by .ci/run;
also in `make test-slow`)."""
import json
import pathlib

import pytest

from pipelines import run_info
from tests.e2e.tfxp import run_tfxp

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.runners]


def test_beam_dag_runner_runs_the_same_pipeline_and_pushes(tmp_path):
    result = run_tfxp("run", "--model", "census", "--sample", "--runner", "beam",
                      "--pipeline-root", str(tmp_path / "home"), "--serving-dir",
                      str(tmp_path / "serving"), "--rollout", "none")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(beam runner)" in result.stdout
    assert "Transform                          started" in result.stdout
    assert (tmp_path / "serving" / "1" / "saved_model.pb").exists()


def test_tuner_chooses_hyperparameters_the_trainer_uses(tmp_path):
    result = run_tfxp("run", "--model", "census", "--sample", "--tune", "--no-infra-validation",
                      "--pipeline-root", str(tmp_path / "home"), "--serving-dir",
                      str(tmp_path / "serving"), "--rollout", "none")
    assert result.returncode == 0, result.stdout + result.stderr
    info = run_info.load_run(str(tmp_path / "home" / "metadata.sqlite"), "census-sample")
    assert info.component("Tuner").state == "executed"
    best = info.output("Tuner", "best_hyperparameters")
    values = json.loads((pathlib.Path(best.uri) / "best_hyperparameters.txt").read_text())["values"]
    assert values["variant"] in ("logistic", "dnn")
    assert {"learning_rate", "dropout"} <= set(values)
