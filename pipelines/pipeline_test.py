"""The pipeline factory's graph: every standard component, the gate before Transform."""
import pytest

from models.census import SPEC
from pipelines.pipeline import create_pipeline


def _pipeline(tmp_path, **overrides):
    arguments = dict(
        pipeline_name="census-test", pipeline_root=str(tmp_path / "root"),
        data_root=str(SPEC.sample_dir), example_format="csv", schema_path=str(SPEC.schema_path),
        preprocessing_fn=SPEC.preprocessing_fn, run_fn=SPEC.run_fn, train_steps=10, eval_steps=2,
        eval_config=SPEC.eval_config(SPEC.sample_thresholds),
        serving_model_dir=str(tmp_path / "serving"), infra_validation=False)
    arguments.update(overrides)
    return create_pipeline(**arguments)


def _upstream(pipeline):
    return {c.id: sorted(u.id for u in c.upstream_nodes) for c in pipeline.components}


def test_standard_components_in_order_with_the_gate_before_transform(tmp_path):
    pipeline = _pipeline(tmp_path)
    ids = [c.id for c in pipeline.components]
    assert set(ids) == {"CsvExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator",
                        "DataGate", "Transform", "Trainer", "StableBaseline",
                        "Evaluator", "HoldoutEvaluator", "JointBlessing", "TrainingDataStamp",
                        "VersionedPusher"}
    assert ids.index("DataGate") < ids.index("Transform") < ids.index("Trainer") \
        < ids.index("Evaluator") < ids.index("VersionedPusher")
    upstream = _upstream(pipeline)
    assert "DataGate" in upstream["Transform"]
    assert upstream["DataGate"] == ["ExampleValidator", "ImportSchemaGen", "StatisticsGen"]
    assert set(upstream["Evaluator"]) == {"CsvExampleGen", "Trainer", "StableBaseline"}
    assert upstream["StableBaseline"] == ["Trainer"]
    assert set(upstream["HoldoutEvaluator"]) == {"Trainer", "StableBaseline"}
    assert set(upstream["JointBlessing"]) == {"Evaluator", "HoldoutEvaluator"}
    assert set(upstream["TrainingDataStamp"]) == {"Trainer", "StatisticsGen", "ImportSchemaGen",
                                                  "CsvExampleGen", "StableBaseline"}
    assert set(upstream["VersionedPusher"]) == {"TrainingDataStamp", "JointBlessing"}


def test_model_without_curated_schema_infers_one(tmp_path):
    ids = [c.id for c in _pipeline(tmp_path, schema_path=None).components]
    assert "SchemaGen" in ids and "ImportSchemaGen" not in ids


def test_tuner_feeds_the_trainer_and_tfrecord_uses_import_example_gen(tmp_path):
    pipeline = _pipeline(tmp_path, tuner_fn="models.census.tuner.tuner_fn",
                         example_format="tfrecord")
    upstream = _upstream(pipeline)
    assert "Tuner" in upstream["Trainer"]
    assert "ImportExampleGen" in upstream["StatisticsGen"]


def test_code_fingerprint_reaches_transform_and_trainer(tmp_path):
    pipeline = _pipeline(tmp_path, code_fingerprint="abc123")
    by_id = {c.id: c for c in pipeline.components}
    assert "abc123" in by_id["Transform"].exec_properties["custom_config"]
    assert "abc123" in by_id["Trainer"].exec_properties["custom_config"]


def test_unknown_example_format_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="example_format must be one of"):
        _pipeline(tmp_path, example_format="parquet")


def test_infra_validation_gates_the_push_with_the_warmup_stamped_model(tmp_path):
    upstream = _upstream(_pipeline(tmp_path, infra_validation=True))
    assert set(upstream["LocalInfraValidator"]) == {"TrainingDataStamp", "CsvExampleGen"}
    assert set(upstream["VersionedPusher"]) == {"JointBlessing", "LocalInfraValidator"}


def test_without_a_baseline_the_evaluator_has_no_baseline_input(tmp_path):
    upstream = _upstream(_pipeline(tmp_path, baseline="none"))
    assert "StableBaseline" not in upstream
    assert set(upstream["Evaluator"]) == {"CsvExampleGen", "Trainer"}


def test_no_resolver_in_any_variant(tmp_path):
    from tfx.dsl.components.common import resolver

    for baseline in ("stable", "none"):
        assert not any(isinstance(c, resolver.Resolver)
                       for c in _pipeline(tmp_path, baseline=baseline).components)
    with pytest.raises(ValueError, match="baseline must be one of"):
        _pipeline(tmp_path, baseline="oldest")


def test_the_gate_gets_row_minimums_the_stable_version_lookup_and_accept_drift(tmp_path):
    pipeline = _pipeline(tmp_path, model_name="census", min_split_examples={"train": 100},
                         accept_drift=True)
    gate = {c.id: c for c in pipeline.components}["DataGate"].exec_properties
    assert gate["min_split_examples"] == '{"train": 100}'
    assert gate["models_root"] == str(tmp_path)
    assert gate["model_name"] == "census"
    assert gate["accept_drift"] in (True, 1)
    assert (gate["train_split"], gate["eval_split"]) == ("train", "eval")
