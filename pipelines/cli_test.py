"""Argument handling of `tfxp` (parsing only; runs are covered by tests/e2e)."""
import pytest

from pipelines import cli


def test_beam_args_may_be_given_as_separate_dash_led_values():
    argv = cli._join_option_values(["run", "--beam-arg", "--runner=FlinkRunner",
                                    "--beam-arg=--parallelism=4"])
    args = cli.build_parser().parse_args(argv)
    assert args.beam_arg == ["--runner=FlinkRunner", "--parallelism=4"]


def test_run_defaults_to_census_on_the_local_runner():
    args = cli.build_parser().parse_args(["run"])
    assert (args.model, args.runner, args.sample, args.rollout) == ("census", "local", False,
                                                                   "canary")


def test_hyperparameters_are_json_values():
    args = cli.build_parser().parse_args(
        ["run", "--hparam", "learning_rate=0.02", "--hparam", "variant=dnn",
         "--hparam", "hidden_units=[8,4]"])
    assert dict(args.hparam) == {"learning_rate": 0.02, "variant": "dnn", "hidden_units": [8, 4]}


def test_bad_hyperparameter_syntax_is_a_usage_error(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["run", "--hparam", "novalue"])
    assert "expected KEY=VALUE" in capsys.readouterr().err


def test_unknown_model_is_an_error_naming_the_registered_ones(capsys):
    assert cli.main(["run", "--model", "nope", "--sample"]) == 1
    assert "registered models: census" in capsys.readouterr().err
