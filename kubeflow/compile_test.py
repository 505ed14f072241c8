"""kubeflow.compile's rules that need no compiled spec: cluster paths, KFP pipeline names and the
executor kinds open-source KFP v2 rejects (whole compiled specs: tests/kubeflow/test_compile.py)."""
import dataclasses

import pytest

from data import settings
from kubeflow import compile as kubeflow_compile
from models import registry


def test_rejected_executor_kinds_are_found():
    spec = {"deploymentSpec": {"executors": {
        "a": {"container": {}}, "b": {"resolver": {}}, "c": {"customJob": {}}, "d": {"importer": {}}}}}
    assert kubeflow_compile.oss_rejected_executors(spec) == ["b", "c"]


def test_paths_point_at_the_cluster_and_the_image():
    spec = registry.get("census")
    paths = kubeflow_compile.cluster_paths(spec, "gs://bucket/tfxp/")
    assert paths.pipeline_root == "gs://bucket/tfxp/pipelines/census"
    assert paths.data_root == "gs://bucket/tfxp/data/census"
    assert paths.serving_model_dir == "gs://bucket/tfxp/serving/census"
    assert paths.schema_path == f"{kubeflow_compile.IMAGE_PROJECT_DIR}/data/schemas/census.pbtxt"
    other = kubeflow_compile.cluster_paths(spec, "gs://b/r", data_root="gs://lake/{model}/v2")
    assert other.data_root == "gs://lake/census/v2"
    with pytest.raises(ValueError, match="--pipeline-root"):
        kubeflow_compile.cluster_paths(spec, "/")


def test_pipeline_names_follow_the_kfp_rule():
    assert kubeflow_compile.kfp_pipeline_name("fashion_cnn") == "fashion-cnn"
    assert kubeflow_compile.kfp_pipeline_name("Stock_Trend") == "stock-trend"
    with pytest.raises(ValueError, match="no valid KFP pipeline name"):
        kubeflow_compile.kfp_pipeline_name("___")


def test_a_plug_in_schema_is_read_from_the_image_models_folder(tmp_path, monkeypatch):
    package = tmp_path / "search" / "toy_plugin"
    package.mkdir(parents=True)
    for name in ("__init__.py", "spec.py", "schema.pbtxt"):
        (package / name).write_text("")
    monkeypatch.setattr(settings, "USER_MODELS_PATH", [tmp_path / "search"])
    spec = dataclasses.replace(registry.get("census"), name="toy_plugin",
                               schema_path=package / "schema.pbtxt")
    paths = kubeflow_compile.cluster_paths(spec, "gs://bucket/tfxp")
    assert paths.schema_path == \
        f"{kubeflow_compile.IMAGE_PROJECT_DIR}/user_models/toy_plugin/schema.pbtxt"
    stray = dataclasses.replace(spec, schema_path=tmp_path / "schema.pbtxt")
    with pytest.raises(ValueError, match="neither in the project nor in the model's plug-in"):
        kubeflow_compile.cluster_paths(stray, "gs://bucket/tfxp")
