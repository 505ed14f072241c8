"""kubeflow.compile's rules that need no compiled spec: cluster paths, KFP pipeline names and the
executor kinds open-source KFP v2 rejects (whole compiled specs: tests/kubeflow/test_compile.py)."""
import pytest

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
