"""RunOptions: one frozen object with the CLI's defaults, refusing a runner or roll-out it lacks."""
import dataclasses

import pytest

from pipelines import cli
from pipelines.run_options import RunOptions


def test_the_cli_builds_the_options_of_a_run():
    args = cli.build_parser().parse_args(
        ["run", "--sample", "--runner", "beam", "--serving-dir", "/srv/census", "--no-cache",
         "--beam-arg=--direct_num_workers=2", "--hparam", "learning_rate=0.02", "--no-wait"])
    options = cli.run_options(args)
    assert options == RunOptions(sample=True, runner="beam", serving_dir="/srv/census",
                                 enable_cache=False, beam_args=("--direct_num_workers=2",),
                                 hyperparameters={"learning_rate": 0.02}, wait=False)
    assert cli.run_options(cli.build_parser().parse_args(["run"])) == RunOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.sample = False


def test_an_unknown_runner_or_rollout_is_refused_by_name():
    with pytest.raises(ValueError,
                       match=r"runner must be one of \('local', 'beam', 'flink', 'spark'\)"):
        RunOptions(runner="dask")
    with pytest.raises(ValueError, match="rollout must be one of"):
        RunOptions(rollout="blue-green")
