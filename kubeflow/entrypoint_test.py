"""The entrypoint accepts the ExecutorInput as OSS KFP v2 (2.5) and Vertex AI write it: one test
per variation, each built as that backend builds it (see kubeflow/entrypoint.py)."""
import argparse
import json
import pathlib

import pytest

from data import settings
from kubeflow import entrypoint

EXAMPLES_SCHEMA = "title: tfx.Examples\ntype: object\n"
ANOMALIES_SCHEMA = "title: tfx.ExampleAnomalies\ntype: object\n"
DATA_GATE = "components.data_gate.DataGate_Executor"


def _inputs_spec(**artifacts):
    return {"artifacts": {name: {"artifactType": {"instanceSchema": schema}}
                          for name, schema in artifacts.items()}}


def _oss_input(tmp_path: pathlib.Path, input_type, extra_outputs=True):
    """DataGate's ExecutorInput as the OSS driver and launcher write it: the upstream artifact
    is named by its MLMD id, carries its custom properties as metadata, and has the type
    `input_type`; the launcher adds `executor-logs`."""
    anomalies = tmp_path / "ExampleValidator" / "anomalies"
    anomalies.mkdir(parents=True)
    artifact = {"name": "17", "uri": str(anomalies),
                "metadata": {"split_names": "[]", "display_name": "anomalies",
                             "store_session_info": "{}"}}
    if input_type is not None:
        artifact["type"] = input_type
    outputs = {"outputFile": str(tmp_path / "DataGate" / "executor_output.json")}
    if extra_outputs:
        outputs["artifacts"] = {"executor-logs": {"artifacts": [{
            "type": {"schemaTitle": "system.Artifact"},
            "uri": str(tmp_path / "DataGate" / "executor-logs")}]}}
    return {"inputs": {"artifacts": {"anomalies": {"artifacts": [artifact]}}},
            "outputs": outputs}


def _args(executor_input, inputs_spec=None, executor=DATA_GATE):
    return argparse.Namespace(
        executor_class_path=executor,
        json_serialized_invocation_args=json.dumps(executor_input),
        json_serialized_inputs_spec_args=json.dumps(inputs_spec) if inputs_spec else None)


def test_tfx_alone_fails_on_the_oss_shape(tmp_path):
    """The reason this module exists (tensorflow/tfx#7768): an empty instanceSchema."""
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor

    executor_input = _oss_input(tmp_path, {"instanceSchema": ""}, extra_outputs=False)
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'get'"):
        kubeflow_v2_run_executor.main((_args(executor_input, _inputs_spec(
            anomalies=ANOMALIES_SCHEMA)), []))


def test_upstream_input_with_empty_instance_schema_takes_the_declared_type(tmp_path):
    executor_input = _oss_input(tmp_path, {"instanceSchema": ""})
    fixed, _ = entrypoint.normalise(executor_input, _inputs_spec(anomalies=ANOMALIES_SCHEMA))
    artifact = fixed["inputs"]["artifacts"]["anomalies"]["artifacts"][0]
    assert artifact["type"] == {"instanceSchema": ANOMALIES_SCHEMA}
    assert executor_input["inputs"]["artifacts"]["anomalies"]["artifacts"][0]["type"] == {
        "instanceSchema": ""}, "the original is left alone"


def test_upstream_input_without_any_type_takes_the_declared_type(tmp_path):
    fixed, _ = entrypoint.normalise(_oss_input(tmp_path, None),
                                    _inputs_spec(anomalies=ANOMALIES_SCHEMA))
    assert entrypoint.schema_title(
        fixed["inputs"]["artifacts"]["anomalies"]["artifacts"][0]["type"]) == "tfx.ExampleAnomalies"


def test_untyped_input_the_spec_does_not_declare_is_a_clear_error(tmp_path):
    with pytest.raises(entrypoint.ExecutorInputError, match="'anomalies'.*recompile"):
        entrypoint.normalise(_oss_input(tmp_path, {"instanceSchema": ""}), {})


def test_executor_logs_output_of_a_system_type_is_left_out(tmp_path):
    fixed, dropped = entrypoint.normalise(_oss_input(tmp_path, {"instanceSchema": ""}),
                                          _inputs_spec(anomalies=ANOMALIES_SCHEMA))
    assert dropped == ["executor-logs"]
    assert "executor-logs" not in fixed["outputs"]["artifacts"]


def test_vertex_shape_passes_unchanged(tmp_path):
    """Vertex AI hands TFX-typed artifacts and no executor-logs output."""
    executor_input = _oss_input(tmp_path, {"instanceSchema": ANOMALIES_SCHEMA},
                                extra_outputs=False)
    fixed, dropped = entrypoint.normalise(executor_input, _inputs_spec(anomalies=ANOMALIES_SCHEMA))
    assert fixed == executor_input and dropped == []


def test_oss_shape_runs_a_real_tfx_executor_end_to_end(tmp_path):
    """The whole path in process: an upstream Model with an empty schema, the launcher's
    executor-logs output, TFX's entrypoint and the project's StableBaseline executor."""
    candidate = tmp_path / "Trainer" / "model"
    candidate.mkdir(parents=True)
    output_file = tmp_path / "StableBaseline" / "executor_output.json"
    executor_input = {
        "inputs": {
            "artifacts": {"candidate": {"artifacts": [
                {"name": "21", "uri": str(candidate), "type": {"instanceSchema": ""},
                 "metadata": {"display_name": "model", "store_session_info": "{}"}}]}},
            "parameterValues": {"serving_model_dir": str(tmp_path / "models" / "census")}},
        "outputs": {
            "artifacts": {
                "baseline": {"artifacts": [{"type": {"schemaTitle": "tfx.Model"},
                                            "uri": str(tmp_path / "StableBaseline" / "baseline")}]},
                "holdout": {"artifacts": [{"type": {"schemaTitle": "tfx.Examples"},
                                           "uri": str(tmp_path / "StableBaseline" / "holdout")}]},
                "executor-logs": {"artifacts": [{
                    "type": {"schemaTitle": "system.Artifact"},
                    "uri": str(tmp_path / "StableBaseline" / "executor-logs")}]}},
            "outputFile": str(output_file)}}
    entrypoint.run(_args(executor_input, _inputs_spec(candidate="title: tfx.Model\ntype: object\n"),
                         executor="components.stable_baseline.StableBaseline_Executor"), [])
    output = json.loads(output_file.read_text())
    assert sorted(output["artifacts"]) == ["baseline", "holdout"], \
        "executor-logs is left out, the executor's outputs kept"
    (baseline,) = output["artifacts"]["baseline"]["artifacts"]
    assert baseline["uri"] == str(tmp_path / "StableBaseline" / "baseline")


def test_remote_uris_are_read_under_the_launcher_mounts_and_recorded_remote(tmp_path):
    output_file = str(tmp_path / "kfp_outputs" / "output_metadata.json")
    executor_input = {
        "inputs": {"artifacts": {"examples": {"artifacts": [
            {"name": "3", "uri": "minio://mlpipeline/v2/artifacts/census/run/CsvExampleGen/examples",
             "type": {"instanceSchema": EXAMPLES_SCHEMA}}]}}},
        "outputs": {"artifacts": {
            "statistics": {"artifacts": [{"uri": "gs://bucket/p/run/StatisticsGen/statistics",
                                          "type": {"instanceSchema": "title: tfx.ExampleStatistics\n"}}]},
            "other": {"artifacts": [{"uri": "s3://bucket/x", "type": {"schemaTitle": "tfx.Model"}}]}},
            "outputFile": output_file}}
    fixed, _ = entrypoint.normalise(executor_input, None)
    assert fixed["inputs"]["artifacts"]["examples"]["artifacts"][0]["uri"] == \
        "/minio/mlpipeline/v2/artifacts/census/run/CsvExampleGen/examples"
    assert fixed["outputs"]["artifacts"]["statistics"]["artifacts"][0]["uri"] == \
        "/gcs/bucket/p/run/StatisticsGen/statistics"
    assert fixed["outputs"]["artifacts"]["other"]["artifacts"][0]["uri"] == "/s3/bucket/x"
    assert fixed["outputs"]["outputFile"] == output_file
    written = {"artifacts": {"statistics": {"artifacts": [
        {"uri": "/gcs/bucket/p/run/StatisticsGen/statistics"}]}}}
    restored = entrypoint.restore_remote_uris(written, entrypoint.remote_uris(executor_input))
    assert restored["artifacts"]["statistics"]["artifacts"][0]["uri"] == \
        "gs://bucket/p/run/StatisticsGen/statistics"


def test_local_uris_stay_local(tmp_path):
    executor_input = _oss_input(tmp_path, {"instanceSchema": ANOMALIES_SCHEMA}, extra_outputs=False)
    assert entrypoint.remote_uris(executor_input) == set()


def test_example_gen_records_span_version_and_fingerprint_without_pre_cache_check(tmp_path):
    """OSS runs no lifecycle hook; the entrypoint runs TFX's file-based ExampleGen driver."""
    output_file = tmp_path / "CsvExampleGen" / "executor_output.json"
    executor_input = {
        "inputs": {"parameterValues": {
            "input_base": str(settings.SAMPLES_ROOT / "census"),
            "input_config": json.dumps({"splits": [{"name": "train", "pattern": "train/*"},
                                                   {"name": "eval", "pattern": "eval/*"}]}),
            "output_config": "{}", "output_data_format": 6.0, "output_file_format": 5.0}},
        "outputs": {"artifacts": {"examples": {"artifacts": [{
            "uri": str(tmp_path / "CsvExampleGen" / "examples"),
            "type": {"instanceSchema": EXAMPLES_SCHEMA}}]}},
            "outputFile": str(output_file)}}
    spec = {"parameters": {name: {"parameterType": kind} for name, kind in [
        ("input_base", "STRING"), ("input_config", "STRING"), ("output_config", "STRING"),
        ("output_data_format", "NUMBER_INTEGER"), ("output_file_format", "NUMBER_INTEGER")]}}
    executor = "tfx.components.example_gen.csv_example_gen.executor.Executor"
    assert entrypoint.is_file_based_example_gen(executor, executor_input)
    assert not entrypoint.is_file_based_example_gen(DATA_GATE, executor_input)
    entrypoint.record_span_and_fingerprint(json.dumps(executor_input), json.dumps(spec))
    driver_output = json.loads(output_file.read_text())
    values = driver_output["parameterValues"]
    assert values["span"] == 0
    assert "split:train,num_files:1" in values["input_fingerprint"]
    assert "split:eval,num_files:1" in values["input_fingerprint"]
    executor_output = {"artifacts": {"examples": {"artifacts": [
        {"uri": "/x", "metadata": {"split_names": '["train", "eval"]'}}]}}}
    merged = entrypoint.merge_driver_metadata(executor_output, driver_output)
    metadata = merged["artifacts"]["examples"]["artifacts"][0]["metadata"]
    # TFX names a custom property that shares a property's name "custom:<name>" in metadata.
    assert metadata["custom:span"] == 0
    assert metadata["input_fingerprint"] == values["input_fingerprint"]
    assert metadata["split_names"] == '["train", "eval"]'


def test_the_projects_custom_artifact_type_is_handed_to_tfx_as_its_class_path(tmp_path):
    """TFX's compiler wants `tfxp.DataGateResult`; its entrypoint imports the title."""
    executor_input = _oss_input(tmp_path, {"instanceSchema": ANOMALIES_SCHEMA}, extra_outputs=False)
    executor_input["outputs"]["artifacts"] = {"result": {"artifacts": [{
        "uri": str(tmp_path / "DataGate" / "result"),
        "type": {"instanceSchema": "title: tfxp.DataGateResult\ntype: object\n"}}]}}
    fixed, _ = entrypoint.normalise(executor_input, None)
    assert fixed["outputs"]["artifacts"]["result"]["artifacts"][0]["type"] == {
        "schemaTitle": "components.data_gate.DataGateResult"}
