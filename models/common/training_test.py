"""Strategy and precision choice, hyperparameter merging and epoch scheduling."""
import json
import types

import pytest
import tensorflow as tf

from models.common import training

CLUSTER = json.dumps({"cluster": {"worker": ["w0:2222", "w1:2222"]},
                      "task": {"type": "worker", "index": 0}})


@pytest.mark.parametrize("gpus, tf_config, expected", [
    (0, None, "default"),
    (1, None, "default"),
    (4, None, "mirrored"),
    (0, CLUSTER, "multi_worker"),
    (4, CLUSTER, "multi_worker"),
    (0, json.dumps({"cluster": {"worker": ["only:2222"]}}), "default"),
])
def test_strategy_follows_the_machine_and_tf_config(gpus, tf_config, expected):
    assert training.choose_strategy_name("auto", num_gpus=gpus, tf_config=tf_config or "") == expected


def test_an_explicit_strategy_wins_and_a_bad_one_is_named():
    assert training.choose_strategy_name("mirrored", num_gpus=0) == "mirrored"
    with pytest.raises(ValueError, match="must be one of"):
        training.choose_strategy_name("tpu")


def test_this_cpu_machine_trains_with_the_default_strategy_in_float32():
    assert isinstance(training.make_strategy("auto"), type(tf.distribute.get_strategy()))
    assert training.choose_precision_policy("auto", num_gpus=0) == "float32"
    assert training.choose_precision_policy("auto", num_gpus=1) == "mixed_float16"
    assert training.apply_precision_policy("auto") == "float32"


def test_hyperparameters_merge_defaults_pipeline_config_and_tuner_values():
    fn_args = types.SimpleNamespace(
        custom_config={"hyperparameters": {"learning_rate": 0.5, "epochs": 3}},
        hyperparameters={"values": {"learning_rate": 0.1, "not_a_param": 1}})
    params = training.hyperparameters(fn_args, {"learning_rate": 0.01, "epochs": 10, "units": 4})
    assert params == {"learning_rate": 0.1, "epochs": 3, "units": 4}


def test_unknown_hyperparameter_from_the_command_line_is_rejected():
    fn_args = types.SimpleNamespace(custom_config={"hyperparameters": {"learning_rte": 0.5}},
                                    hyperparameters=None)
    with pytest.raises(ValueError, match="learning_rte"):
        training.hyperparameters(fn_args, {"learning_rate": 0.01})


def test_train_steps_are_split_into_epochs():
    assert training.epochs_and_steps(2550, 10) == {"epochs": 10, "steps_per_epoch": 255}
    assert training.epochs_and_steps(5, 10) == {"epochs": 5, "steps_per_epoch": 1}


@pytest.mark.parametrize("tf_config, expected", [
    (None, {"type": "chief", "index": 0, "chief": True}),
    (CLUSTER, {"type": "worker", "index": 0, "chief": True}),
    (json.dumps({"cluster": {"chief": ["c:1"], "worker": ["w:1"]},
                 "task": {"type": "worker", "index": 0}}),
     {"type": "worker", "index": 0, "chief": False}),
    (json.dumps({"cluster": {"chief": ["c:1"], "worker": ["w:1"]},
                 "task": {"type": "chief", "index": 0}}),
     {"type": "chief", "index": 0, "chief": True}),
])
def test_only_the_chief_or_worker_0_without_a_chief_writes_the_model(tf_config, expected):
    assert training.worker_role(tf_config or "") == expected
