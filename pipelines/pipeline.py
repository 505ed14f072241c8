"""The one pipeline factory every runner (local, Beam, Kubeflow) uses.

ExampleGen -> StatisticsGen -> ImportSchemaGen|SchemaGen -> ExampleValidator -> DataGate ->
Transform -> [Tuner] -> Trainer -> StableBaseline -> Evaluator, HoldoutEvaluator -> JointBlessing ->
TrainingDataStamp -> LocalInfraValidator -> Pusher
"""
import json
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence

from tfx import v1 as tfx
from tfx.proto import example_gen_pb2

from components.data_gate import DataGate
from components.holdout import HoldoutEvaluator, JointBlessing, change_thresholds_only
from components.infra_validator import LocalInfraValidator
from components.pusher import VersionedPusher
from components.stable_baseline import Evaluator, StableBaseline
from components.training_data import TrainingDataStamp

EXAMPLE_GEN_BY_FORMAT = {
    "csv": tfx.components.CsvExampleGen,
    "tfrecord": tfx.components.ImportExampleGen,
}
HASH_SPLIT = {"train": 2, "eval": 1}
BASELINES = ("stable", "none")


def _example_gen(data_root: str, example_format: str, splits: Optional[Sequence[str]]):
    try:
        example_gen_class = EXAMPLE_GEN_BY_FORMAT[example_format]
    except KeyError:
        raise ValueError(f"example_format must be one of {sorted(EXAMPLE_GEN_BY_FORMAT)}, "
                         f"got {example_format!r}") from None
    if splits:
        input_config = example_gen_pb2.Input(splits=[
            example_gen_pb2.Input.Split(name=name, pattern=f"{name}/*") for name in splits])
        return example_gen_class(input_base=data_root, input_config=input_config)
    output_config = example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(splits=[
        example_gen_pb2.SplitConfig.Split(name=name, hash_buckets=buckets)
        for name, buckets in HASH_SPLIT.items()]))
    return example_gen_class(input_base=data_root, output_config=output_config)


def create_pipeline(
    pipeline_name: str,
    pipeline_root: str,
    data_root: str,
    example_format: str,
    schema_path: Optional[str],
    preprocessing_fn: str,
    run_fn: str,
    train_steps: int,
    eval_steps: int,
    eval_config: Any,
    serving_model_dir: str,
    splits: Optional[Sequence[str]] = ("train", "eval"),
    hyperparameters: Optional[Mapping[str, Any]] = None,
    tuner_fn: Optional[str] = None,
    infra_validation: bool = True,
    baseline: str = "stable",
    code_fingerprint: str = "",
    metadata_connection_config: Any = None,
    beam_pipeline_args: Optional[List[str]] = None,
    enable_cache: bool = True,
    model_name: str = "",
    min_split_examples: Optional[Mapping[str, int]] = None,
    accept_drift: bool = False,
    rollout: str = "canary",
    holdout_file: str = "",
    latency_ratio: float = 1.25,
    skip_latency_gate: bool = False,
) -> tfx.dsl.Pipeline:
    """Builds the TFX pipeline from plain arguments.

    `splits` names sub-folders of `data_root` holding each split's files (the first is the
    training split, the second the evaluation split); None hash-splits all files 2:1.
    `tuner_fn` adds a Tuner whose best hyperparameters the Trainer then uses.
    `baseline` picks the model the Evaluator compares with: "stable" (the version labelled
    stable in the push destination's models.config, read by `StableBaseline`: no resolver, no
    metadata query, so the same spec runs on every runner) or "none" (value thresholds only).
    `code_fingerprint` (a hash of the model code) goes into Transform's and Trainer's
    custom_config so that a code change invalidates their cached results.
    The data gate checks each split's row count against `min_split_examples` and the training
    data's drift against the version labelled stable for `model_name` in the models.config
    beside `serving_model_dir` (`accept_drift`: let drifted data through, recorded).
    `rollout` is how the Pusher labels a new version in that models.config: "canary" (the first
    version ever becomes stable), "stable", or "none" (leave the serving config alone).
    With the stable baseline, candidate and baseline are also judged on the golden holdout
    (components.holdout): the stable version's recorded one, or `holdout_file` when given.
    The infra validator's latency gate serves the candidate beside the stable version and
    passes it only if its p95 is at most `latency_ratio` times stable's (`skip_latency_gate`).
    """
    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {BASELINES}, got {baseline!r}")
    train_split, eval_split = (list(splits) if splits else list(HASH_SPLIT))[:2]
    data = _data_stages(data_root, example_format, splits, schema_path, serving_model_dir,
                        model_name, min_split_examples, accept_drift, train_split, eval_split)
    transform = _transform(data, preprocessing_fn, code_fingerprint)
    training = _training(data, transform, run_fn, tuner_fn, hyperparameters, code_fingerprint,
                         train_split, eval_split, train_steps, eval_steps)
    trainer = training[-1]
    evaluation = _evaluation(data, trainer, eval_config, baseline, serving_model_dir, eval_split,
                             holdout_file)
    delivery = _delivery(data, trainer, evaluation, infra_validation, serving_model_dir,
                         rollout, train_split, eval_split,
                         dict(latency_ratio=latency_ratio, skip_latency_gate=skip_latency_gate))
    components = list(data) + [transform] + training + evaluation + delivery

    return tfx.dsl.Pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        components=components,
        enable_cache=enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args or [],
    )


class DataStages(NamedTuple):
    """The data half of the pipeline, in order: everything the gate needs before Transform."""

    example_gen: Any
    statistics_gen: Any
    schema_gen: Any
    example_validator: Any
    data_gate: Any


def _data_stages(data_root, example_format, splits, schema_path, serving_model_dir, model_name,
                 min_split_examples, accept_drift, train_split, eval_split) -> DataStages:
    """ExampleGen, statistics, the (curated or inferred) schema, validation and the data gate,
    which checks drift against the stable version in the models.config beside the destination."""
    example_gen = _example_gen(data_root, example_format, splits)
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    if schema_path:
        schema_gen = tfx.components.ImportSchemaGen(schema_file=schema_path)
    else:
        schema_gen = tfx.components.SchemaGen(
            statistics=statistics_gen.outputs["statistics"], infer_feature_shape=False)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
    models_root, _, serving_name = serving_model_dir.rstrip("/").rpartition("/")  # keeps gs://
    data_gate = DataGate(
        anomalies=example_validator.outputs["anomalies"],
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"],
        min_split_examples=json.dumps(dict(min_split_examples or {}), sort_keys=True),
        models_root=models_root, model_name=model_name or serving_name,
        accept_drift=accept_drift, train_split=train_split, eval_split=eval_split)
    return DataStages(example_gen, statistics_gen, schema_gen, example_validator, data_gate)


def _transform(data: DataStages, preprocessing_fn: str, code_fingerprint: str):
    """Transform, which only starts once the data gate has passed."""
    transform = tfx.components.Transform(
        examples=data.example_gen.outputs["examples"], schema=data.schema_gen.outputs["schema"],
        preprocessing_fn=preprocessing_fn,
        custom_config={"code_fingerprint": code_fingerprint},
        disable_statistics=True)
    transform.add_upstream_node(data.data_gate)
    return transform


def _training(data: DataStages, transform, run_fn, tuner_fn, hyperparameters, code_fingerprint,
              train_split, eval_split, train_steps, eval_steps) -> List[Any]:
    """[Tuner,] Trainer: the Trainer takes the Tuner's best hyperparameters when there is one."""
    custom_config: Dict[str, Any] = {"hyperparameters": dict(hyperparameters or {}),
                                     "code_fingerprint": code_fingerprint}
    common = dict(examples=transform.outputs["transformed_examples"],
                  transform_graph=transform.outputs["transform_graph"],
                  schema=data.schema_gen.outputs["schema"],
                  train_args=tfx.proto.TrainArgs(splits=[train_split], num_steps=train_steps),
                  eval_args=tfx.proto.EvalArgs(splits=[eval_split], num_steps=eval_steps),
                  custom_config=custom_config)
    stages = []
    if tuner_fn:
        stages.append(tfx.components.Tuner(tuner_fn=tuner_fn, **common))
    stages.append(tfx.components.Trainer(
        run_fn=run_fn,
        hyperparameters=stages[0].outputs["best_hyperparameters"] if stages else None, **common))
    return stages


def _evaluation(data: DataStages, trainer, eval_config, baseline, serving_model_dir,
                eval_split, holdout_file) -> List[Any]:
    """Evaluator alone, or StableBaseline, Evaluator, HoldoutEvaluator, JointBlessing: the
    candidate against the served stable version on the new eval split and the golden holdout;
    the last stage's `blessing` is the verdict."""
    if baseline != "stable":
        return [Evaluator(examples=data.example_gen.outputs["examples"],
                          example_splits=[eval_split], model=trainer.outputs["model"],
                          eval_config=eval_config)]
    stable_baseline = StableBaseline(candidate=trainer.outputs["model"],
                                     serving_model_dir=serving_model_dir,
                                     holdout_file=holdout_file)
    evaluator = Evaluator(
        examples=data.example_gen.outputs["examples"],
        example_splits=[eval_split],
        model=trainer.outputs["model"],
        baseline_model=stable_baseline.outputs["baseline"],
        eval_config=eval_config)
    holdout_evaluator = HoldoutEvaluator(
        examples=stable_baseline.outputs["holdout"],
        example_splits=["holdout"],
        model=trainer.outputs["model"],
        baseline_model=stable_baseline.outputs["baseline"],
        eval_config=change_thresholds_only(eval_config)).with_id("HoldoutEvaluator")
    joint = JointBlessing(evaluation_blessing=evaluator.outputs["blessing"],
                          holdout_blessing=holdout_evaluator.outputs["blessing"])
    return [stable_baseline, evaluator, holdout_evaluator, joint]


def _delivery(data: DataStages, trainer, evaluation, infra_validation, serving_model_dir,
              rollout, train_split, eval_split, latency_gate: Mapping[str, Any]) -> List[Any]:
    """TrainingDataStamp, [LocalInfraValidator,] Pusher. The pushed copy carries its training
    split's statistics and the schema in assets.extra; with infra validation, the Pusher pushes
    the infra-blessed copy that also carries the warmup requests."""
    holdout = evaluation[0].outputs["holdout"] if len(evaluation) > 1 else None
    stamped = TrainingDataStamp(model=trainer.outputs["model"],
                                statistics=data.statistics_gen.outputs["statistics"],
                                schema=data.schema_gen.outputs["schema"], train_split=train_split,
                                examples=data.example_gen.outputs["examples"], holdout=holdout,
                                eval_split=eval_split)
    stages = [stamped]
    push_inputs = {"model_blessing": evaluation[-1].outputs["blessing"]}
    if infra_validation:
        infra_validator = LocalInfraValidator(model=stamped.outputs["stamped_model"],
                                              examples=data.example_gen.outputs["examples"],
                                              serving_model_dir=serving_model_dir,
                                              **latency_gate)
        stages.append(infra_validator)
        push_inputs["infra_blessing"] = infra_validator.outputs["blessing"]
    else:
        push_inputs["model"] = stamped.outputs["stamped_model"]
    stages.append(VersionedPusher(
        rollout=rollout,
        **push_inputs,
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=serving_model_dir))))
    return stages
