"""`--param` of `tfxp kubeflow schedule/run-once`: checked against the spec and typed before any
request (the requests themselves: tests/kubeflow/test_schedule_api.py)."""
import pathlib

import pytest

from kubeflow import schedule

SPEC = schedule.CompiledSpec(
    pathlib.Path("census.yaml"), "census", "digest",
    {"data_root": {"parameterType": "STRING"}, "train_steps": {"parameterType": "NUMBER_INTEGER"},
     "use_cache": {"parameterType": "BOOLEAN"}, "splits": {"parameterType": "LIST"}})


def test_parameters_take_the_type_the_spec_declares():
    values = schedule.parse_parameters(
        SPEC, ["data_root=gs://lake/a=b", "train_steps=20", "use_cache=False", "splits=[1,2]"])
    assert values == {"data_root": "gs://lake/a=b", "train_steps": 20, "use_cache": False,
                      "splits": [1, 2]}


@pytest.mark.parametrize("pair,message", [
    ("data_root", "--param: expected KEY=VALUE, got 'data_root'"),
    ("dataroot=x", "pipeline census has no run parameter 'dataroot'"),
    ("train_steps=many", "--param train_steps: 'many' is not a valid NUMBER_INTEGER"),
])
def test_a_bad_parameter_is_one_line_naming_it(pair, message):
    with pytest.raises(schedule.KubeflowError, match=message):
        schedule.parse_parameters(SPEC, [pair])
