"""The census sample spec, compiled exactly as `tfxp kubeflow compile` writes it, runs end to end
through `tfxp kubeflow run-local` with the ExecutorInput the open-source KFP v2 backend builds:
data gate, Transform, Trainer, Evaluator, infra validation, push. A second run with a retrained
candidate (one hyperparameter changed, so KFP's cache serves ExampleGen to Transform) compares
it with the stable version the first run pushed and pushes it as the canary; running that spec
again is cached from ExampleGen to the Pusher."""
import pathlib

import pytest
import yaml

from kubeflow import compile as kubeflow_compile
from kubeflow import run_local
from serving.config import configs
from tests.kubeflow.conftest import IMAGE, ROOT

pytestmark = pytest.mark.e2e
UPSTREAM_OF_TRAINER = ["CsvExampleGen", "ImportSchemaGen", "StatisticsGen", "ExampleValidator",
                       "DataGate", "Transform"]
FROM_TRAINER = ["Trainer", "StableBaseline", "Evaluator", "HoldoutEvaluator", "JointBlessing",
                "TrainingDataStamp", "LocalInfraValidator", "VersionedPusher"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from pipelines import cli

    out_dir = tmp_path_factory.mktemp("specs")
    root = tmp_path_factory.mktemp("kfp-root")
    assert cli.main(["kubeflow", "compile", "--model", "census", "--sample", "--image", IMAGE,
                     "--pipeline-root", ROOT, "--out-dir", str(out_dir)]) == 0
    first_spec = out_dir / "census-sample.yaml"
    first = run_local.run_model("census", sample=True, spec_file=str(first_spec),
                                local_root=str(root))
    labels_after_first = _labels(root)
    retrained = kubeflow_compile.compile_model(
        "census", image=IMAGE, pipeline_root=ROOT, out_dir=tmp_path_factory.mktemp("retrain"),
        sample=True, hyperparameters={"learning_rate": 0.012})
    second = run_local.run_model("census", sample=True, spec_file=str(retrained.path),
                                 local_root=str(root))
    labels_after_second = _labels(root)
    third = run_local.run_model("census", sample=True, spec_file=str(retrained.path),
                                local_root=str(root))
    return dict(root=root, spec=yaml.safe_load(first_spec.read_text()), first=first,
                second=second, third=third, labels=[labels_after_first, labels_after_second,
                                                     _labels(root)])


def _labels(root: pathlib.Path):
    models_root = root / "serving"
    return {label: (configs.labelled_version_dir(models_root, "census", label) or
                    pathlib.Path("none")).name for label in (configs.STABLE, configs.CANARY)}


def _states(result):
    return {t.task: t.state for t in result.tasks}


def _overall(result):
    from pipelines import run_info

    return run_info.evaluation_metrics(result.outputs["Evaluator"]["evaluation"]["uri"])["Overall"]


def test_the_compiled_spec_uses_the_project_entrypoint_and_no_resolver(runs):
    executors = runs["spec"]["deploymentSpec"]["executors"]
    assert all(set(e) == {"container"} for e in executors.values())
    assert all(e["container"]["command"] == ["python", "-m", "kubeflow.entrypoint"]
               for e in executors.values())


def test_first_run_executes_every_task_and_pushes_the_first_stable(runs):
    first = runs["first"]
    assert set(_states(first).values()) == {"executed"}
    assert set(_states(first)) == set(UPSTREAM_OF_TRAINER + FROM_TRAINER)
    assert "stable_version" not in first.outputs["StableBaseline"]["baseline"]["metadata"]
    assert "baseline" not in _overall(first)
    assert first.outputs["Evaluator"]["blessing"]["metadata"]["blessed"] == 1
    assert run_local.push_outcome(first).version == 1
    assert runs["labels"][0] == {"stable": "1", "canary": "none"}


def test_example_gen_recorded_span_and_fingerprint_without_the_vertex_hook(runs):
    metadata = runs["first"].outputs["CsvExampleGen"]["examples"]["metadata"]
    assert metadata.get("span", metadata.get("custom:span")) == 0
    assert "split:train" in metadata["input_fingerprint"]


def test_every_task_got_the_launchers_executor_logs_output(runs):
    for task in runs["first"].tasks:
        assert (runs["first"].run_root / task.task / run_local.EXECUTOR_LOGS).is_file(), task.task


def test_second_run_compares_with_the_stable_version_and_pushes_a_canary(runs):
    second = runs["second"]
    states = _states(second)
    assert all(states[t] == "cached" for t in UPSTREAM_OF_TRAINER), states
    assert all(states[t] == "executed" for t in FROM_TRAINER), states
    assert second.outputs["StableBaseline"]["baseline"]["metadata"]["stable_version"] == 1
    overall = _overall(second)
    assert overall["baseline"]["auc"] == pytest.approx(_overall(runs["first"])["candidate"]["auc"])
    assert overall["candidate"]["auc"] != overall["baseline"]["auc"]
    assert run_local.push_outcome(second).version == 2
    assert runs["labels"][1] == {"stable": "1", "canary": "2"}


def test_unchanged_rerun_is_cached_from_example_gen_to_the_pusher(runs):
    third = runs["third"]
    assert set(_states(third).values()) == {"cached"}
    assert third.outputs["Evaluator"]["evaluation"]["id"] == \
        runs["second"].outputs["Evaluator"]["evaluation"]["id"]
    assert runs["labels"][2] == runs["labels"][1]
