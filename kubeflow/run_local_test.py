"""run-local's KFP rules that need no task to run: order, cache key, mounts, upstream artifacts."""
import io
import json
import pathlib

import pytest

from kubeflow import run_local


def _task(*upstream, producer=None):
    task = {"dependentTasks": list(upstream)}
    if producer:
        task["inputs"] = {"artifacts": {"x": {"taskOutputArtifact": {
            "producerTask": producer, "outputArtifactKey": "out"}}}}
    return task


def test_tasks_run_after_every_task_they_name():
    tasks = {"c": _task("b"), "b": _task(producer="a"), "a": _task(), "d": _task()}
    order = run_local.topological_order(tasks)
    assert order.index("a") < order.index("b") < order.index("c")
    assert sorted(order) == ["a", "b", "c", "d"]


def test_a_cycle_is_refused():
    with pytest.raises(run_local.RunLocalError, match="cycle"):
        run_local.topological_order({"a": _task("b"), "b": _task("a")})


def test_upstream_artifacts_arrive_as_oss_hands_them(tmp_path):
    record = run_local.MetadataRecord(tmp_path / "record.json")
    artifact_id = record.put_artifact({"uri": "/x", "metadata": {"span": 0},
                                       "type": {"instanceSchema": "title: tfx.Examples\n"}})
    artifact = run_local._upstream_artifact(record, artifact_id)  # pylint: disable=protected-access
    assert artifact == {"name": artifact_id, "uri": "/x", "metadata": {"span": 0},
                        "type": {"instanceSchema": ""}}


def test_cache_key_changes_with_inputs_and_parameters_only():
    container = {"image": "i", "command": ["python"], "args": ["{{$}}"]}

    def executor_input(artifact_id="1", value="a"):
        return {"inputs": {"artifacts": {"m": {"artifacts": [{"name": artifact_id}]}},
                           "parameterValues": {"p": value}},
                "outputs": {"artifacts": {"o": {"artifacts": [
                    {"uri": "/run1/o", "type": {"instanceSchema": "t"}}]}}}}

    same = executor_input()
    same["outputs"]["artifacts"]["o"]["artifacts"][0]["uri"] = "/run2/o"
    key = run_local.cache_key(executor_input(), container)
    assert run_local.cache_key(same, container) == key, "a new run's output URI is not in the key"
    assert run_local.cache_key(executor_input(artifact_id="2"), container) != key
    assert run_local.cache_key(executor_input(value="b"), container) != key
    assert run_local.cache_key(executor_input(), {**container, "image": "j"}) != key


def test_bucket_and_image_paths_map_to_this_machine(tmp_path):
    mounts = run_local.LocalMounts("gs://b/tfxp", tmp_path, pathlib.Path("/checkout"))
    assert mounts.map('{"base_directory": "gs://b/tfxp/serving/census"}') == \
        f'{{"base_directory": "{tmp_path}/serving/census"}}'
    assert mounts.map("/opt/tfxp/data/schemas/census.pbtxt") == "/checkout/data/schemas/census.pbtxt"
    assert mounts.map(6.0) == 6.0
    spec = {"defaultPipelineRoot": "gs://b/tfxp/pipelines/census", "pipelineInfo": {"name": "census"}}
    assert run_local.spec_root(spec) == "gs://b/tfxp"


def test_a_missing_spec_says_how_to_compile_it(tmp_path):
    with pytest.raises(run_local.RunLocalError, match="tfxp kubeflow compile"):
        run_local.load_spec(tmp_path / "census.yaml")


def _one_task_spec():
    container = {"image": "registry.example/tfxp:1", "command": ["python", "-m", "kubeflow.entrypoint"],
                 "args": ["--executor_input", "{{$}}", "--task", "{{$.pipeline_task_name}}"],
                 "env": [{"name": "MODE", "value": "oss"}]}
    return {"pipelineInfo": {"name": "p"}, "defaultPipelineRoot": "gs://b/tfxp/pipelines/p",
            "root": {"dag": {"tasks": {"t": {"componentRef": {"name": "comp-t"},
                                             "taskInfo": {"name": "t"}}}}},
            "components": {"comp-t": {"executorLabel": "exec-t", "outputDefinitions": {
                "artifacts": {"out": {"artifactType": {"schemaTitle": "system.Artifact"}}}}}},
            "deploymentSpec": {"executors": {"exec-t": {"container": container}}}}


def test_a_task_becomes_image_command_args_and_env_in_one_place(tmp_path):
    spec = _one_task_spec()
    executor_input = {"inputs": {}, "outputs": {"artifacts": {}, "outputFile": str(tmp_path / "o")}}
    launch = run_local.task_launch("t", spec["deploymentSpec"]["executors"]["exec-t"]["container"],
                                   spec["components"]["comp-t"], executor_input, "p",
                                   str(tmp_path), "run-1")
    assert launch.image == "registry.example/tfxp:1"
    assert launch.command == ["python", "-m", "kubeflow.entrypoint"]
    assert launch.args[0] == "--executor_input" and launch.args[2:] == ["--task", "t"]
    assert json.loads(launch.args[1])["outputs"]["outputFile"] == str(tmp_path / "o")
    assert launch.env == {"MODE": "oss"}


def test_run_spec_hands_every_task_to_the_launcher_and_stops_on_its_exit_code(tmp_path):
    launched = []

    def launcher(launch, log_path):
        launched.append(launch)
        log_path.write_text("launched\n")
        return 0 if len(launched) == 1 else 3

    result = run_local.run_spec(_one_task_spec(), tmp_path, stream=io.StringIO(),
                                launcher=launcher)
    assert [t.state for t in result.tasks] == ["executed"] and launched[0].task == "t"
    with pytest.raises(run_local.RunLocalError, match="task t failed .exit code 3."):
        run_local.run_spec(_one_task_spec(), tmp_path, stream=io.StringIO(), launcher=launcher)
