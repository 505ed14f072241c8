"""`tfxp kubeflow compile`: every registered model gives a valid KFP v2 spec whose tasks import
from the installed project and whose DAG is the local pipeline's."""
import re

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from data import settings
from kubeflow import compile as kubeflow_compile
from kubeflow import verify
from models import registry
from tests.kubeflow.conftest import IMAGE, ROOT

MODELS = registry.names()
PROJECT_ENTRYPOINT = ["python", "-m", "kubeflow.entrypoint"]


@pytest.mark.parametrize("model", MODELS)
def test_every_model_compiles_to_a_named_spec(compiled_specs, model):
    entry = compiled_specs[model].require()
    assert entry.path.name == f"{model}.yaml"
    name = entry.spec["pipelineInfo"]["name"]
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,127}", name)
    assert name == model.replace("_", "-")
    assert entry.spec["schemaVersion"] == "2.1.0"
    assert entry.spec["defaultPipelineRoot"] == f"{ROOT}/pipelines/{name}"


@pytest.mark.parametrize("model", MODELS)
def test_spec_parses_with_the_pipeline_spec_protos(compiled_specs, model):
    entry = compiled_specs[model].require()
    proto = json_format.ParseDict(entry.spec, pipeline_spec_pb2.PipelineSpec())
    assert set(proto.root.dag.tasks) == set(entry.spec["root"]["dag"]["tasks"])
    data_root = proto.root.input_definitions.parameters[kubeflow_compile.DATA_ROOT_PARAMETER]
    assert data_root.default_value.string_value == f"{ROOT}/data/{model}"
    assert data_root.is_optional


@pytest.mark.parametrize("model", MODELS)
def test_spec_loads_with_kfp(compiled_specs, model):
    from kfp import components

    entry = compiled_specs[model].require()
    component = components.load_component_from_file(str(entry.path))
    assert component.name == entry.spec["pipelineInfo"]["name"]
    assert set(component.pipeline_spec.root.dag.tasks) == set(entry.spec["root"]["dag"]["tasks"])


@pytest.mark.parametrize("model", MODELS)
def test_every_task_runs_project_code_in_the_image(compiled_specs, model):
    entry = compiled_specs[model].require()
    executors = entry.spec["deploymentSpec"]["executors"]
    containers = {label: e["container"] for label, e in executors.items() if "container" in e}
    assert containers, "no container tasks"
    for label, container in containers.items():
        assert container["image"] == IMAGE, label
        assert container["command"] == PROJECT_ENTRYPOINT, label
    assert verify.problems(entry.spec, IMAGE) == []
    points = {(p.kind, p.path) for p in verify.entry_points(entry.spec)}
    spec = registry.get(model)
    assert ("run_fn", spec.run_fn) in points
    assert ("preprocessing_fn", spec.preprocessing_fn) in points
    assert ("executor class", "components.pusher.Executor") in points
    assert ("executor class", "components.data_gate.DataGate_Executor") in points
    assert ("executor class", "components.stable_baseline.StableBaseline_Executor") in points
    assert ("module", "kubeflow.entrypoint") in points


@pytest.mark.parametrize("model", MODELS)
def test_no_spec_uses_an_executor_the_oss_backend_rejects(compiled_specs, model):
    """The OSS compiler (argocompiler) refuses resolver and customJob executors; the baseline is
    a container task (StableBaseline), so every spec runs on OSS KFP and on Vertex AI."""
    entry = compiled_specs[model].require()
    for label, executor in entry.spec["deploymentSpec"]["executors"].items():
        assert set(executor) == {"container"}, label
    assert kubeflow_compile.oss_rejected_executors(entry.spec) == []
    assert entry.result.rejected_executors == []
    tasks = entry.spec["root"]["dag"]["tasks"]
    assert tasks["Evaluator"]["inputs"]["artifacts"]["baseline_model"]["taskOutputArtifact"] == {
        "outputArtifactKey": "baseline", "producerTask": "StableBaseline"}


def test_verify_reports_a_path_that_does_not_import(compiled_specs):
    spec = yaml.safe_load(compiled_specs["census"].require().path.read_text())
    args = spec["deploymentSpec"]["executors"]["Trainer_executor"]["container"]["args"]
    args[args.index("--executor_class_path") + 1] = "models.census.model.NoSuchExecutor"
    spec["root"]["dag"]["tasks"]["Transform"]["inputs"]["parameters"]["preprocessing_fn"] = {
        "runtimeValue": {"constant": "models.no_such_model.preprocessing.preprocessing_fn"}}
    found = verify.problems(spec, "other.example/image:1")
    assert any("models.census.model.NoSuchExecutor" in p for p in found)
    assert any("models.no_such_model" in p for p in found)
    assert any("image 'registry.example/tfxp:test', expected 'other.example/image:1'" in p
               for p in found)


def _node(task: str, node_ids) -> str:
    """Compiled task -> local node id (one task per node)."""
    assert task in node_ids, task
    return task


def compiled_graph(spec, node_ids):
    edges = set()
    for name, task in spec["root"]["dag"]["tasks"].items():
        upstream = set(task.get("dependentTasks", []))
        for kind in ("artifacts", "parameters"):
            for value in task.get("inputs", {}).get(kind, {}).values():
                producer = value.get("taskOutputArtifact", value.get("taskOutputParameter", {}))
                if producer.get("producerTask"):
                    upstream.add(producer["producerTask"])
        node = _node(name, node_ids)
        edges |= {(_node(u, node_ids), node) for u in upstream if _node(u, node_ids) != node}
    return {_node(t, node_ids) for t in spec["root"]["dag"]["tasks"]}, edges


@pytest.fixture(scope="module")
def local_pipelines(compiled_specs, tmp_path_factory):
    """Each model's local pipeline, built by `tfxp run`'s code path (runner.build), named by the
    KFP rule so that TFX's compiler takes it for the parameter comparison."""
    import dataclasses

    from pipelines import run_paths, runner
    from pipelines.run_options import RunOptions

    pipelines = {}
    for model in MODELS:
        if compiled_specs[model].error is not None:
            continue
        spec = registry.get(model)
        paths = dataclasses.replace(
            run_paths.default_paths(spec, home=str(tmp_path_factory.mktemp(model))),
            pipeline_name=kubeflow_compile.kfp_pipeline_name(model))
        pipelines[model] = runner.build(spec, paths, spec.sample_dir, list(spec.splits),
                                       RunOptions(infra_validation=True))
    return pipelines


@pytest.mark.parametrize("model", MODELS)
def test_compiled_dag_is_the_local_pipeline(compiled_specs, local_pipelines, model):
    entry = compiled_specs[model].require()
    local = local_pipelines[model]
    node_ids = {c.id for c in local.components}
    local_edges = {(u.id, c.id) for c in local.components for u in c.upstream_nodes}
    nodes, edges = compiled_graph(entry.spec, node_ids)
    assert nodes == node_ids
    assert edges == local_edges


PATH_PARAMETERS = {"input_base", "schema_file", "push_destination", "serving_model_dir",
                   "models_root"}


@pytest.mark.parametrize("model", MODELS)
def test_compiled_parameters_are_the_local_pipelines(compiled_specs, local_pipelines, model):
    """Same steps, thresholds, eval config, user functions and code fingerprint as `tfxp run`:
    only the paths differ."""
    entry = compiled_specs[model].require()
    local_spec = kubeflow_compile.pipeline_spec_dict(local_pipelines[model], IMAGE)
    for name, task in entry.spec["root"]["dag"]["tasks"].items():
        ours = task.get("inputs", {}).get("parameters", {})
        theirs = local_spec["root"]["dag"]["tasks"][name].get("inputs", {}).get("parameters", {})
        assert set(ours) == set(theirs), name
        for key in set(ours) - PATH_PARAMETERS:
            assert ours[key] == theirs[key], f"{name}.{key}"


@pytest.mark.parametrize("model", MODELS)
def test_schema_is_baked_into_the_image_path(compiled_specs, model):
    entry = compiled_specs[model].require()
    spec = registry.get(model)
    tasks = entry.spec["root"]["dag"]["tasks"]
    if not spec.schema_path:
        assert "ImportSchemaGen" not in tasks
        return
    value = tasks["ImportSchemaGen"]["inputs"]["parameters"]["schema_file"]["runtimeValue"]
    relative = spec.schema_path.resolve().relative_to(settings.PROJECT_ROOT)
    assert value["constant"] == f"{kubeflow_compile.IMAGE_PROJECT_DIR}/{relative.as_posix()}"


def test_beam_args_and_options_reach_every_executor(tmp_path, compiled_specs):
    compiled_specs["census"].require()
    beam = ["--runner=DataflowRunner", "--project=p", "--region=europe-west1"]
    result = kubeflow_compile.compile_model(
        "census", image=IMAGE, pipeline_root=ROOT, out_dir=tmp_path, beam_args=beam,
        infra_validation=False, enable_cache=False)
    spec = yaml.safe_load(result.path.read_text())
    for label, executor in spec["deploymentSpec"]["executors"].items():
        if "container" in executor:
            assert executor["container"]["args"][-len(beam):] == beam, label
    tasks = spec["root"]["dag"]["tasks"]
    assert "LocalInfraValidator" not in tasks
    assert all(not t.get("cachingOptions", {}).get("enableCache") for t in tasks.values())


def test_compile_command_writes_specs(tmp_path, capsys, compiled_specs):
    from pipelines import cli

    compiled_specs["census"].require()
    code = cli.main(["kubeflow", "compile", "--model", "census", "--image", IMAGE,
                     "--pipeline-root", ROOT, "--beam-arg", "--runner=FlinkRunner",
                     "--no-infra-validation", "--out-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"census: wrote {tmp_path / 'census.yaml'}" in out
    spec = yaml.safe_load((tmp_path / "census.yaml").read_text())
    assert "--runner=FlinkRunner" in spec["deploymentSpec"]["executors"]["Transform_executor"][
        "container"]["args"]


def test_no_baseline_variant_has_no_baseline_task(tmp_path):
    result = kubeflow_compile.compile_model(
        "census", image="registry.example/tfxp:test", pipeline_root="gs://bucket/root",
        out_dir=tmp_path, baseline="none", sample=True)
    spec = yaml.safe_load(result.path.read_text())
    assert result.path.name == "census-sample.yaml"
    assert "StableBaseline" not in spec["root"]["dag"]["tasks"]
    assert "baseline_model" not in spec["root"]["dag"]["tasks"]["Evaluator"]["inputs"]["artifacts"]
