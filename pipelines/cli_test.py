"""Argument handling of `tfxp` (parsing only; runs are covered by tests/e2e)."""
import argparse

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


def _options_shown(parser, path=()):
    """(command path, option) for every option `tfxp ... --help` lists."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options_shown(sub, path + (name,))
        elif action.help != argparse.SUPPRESS:
            long_options = [o for o in action.option_strings if o.startswith("--")]
            assert len(long_options) <= 1, f"tfxp {' '.join(path)} shows {long_options}"
            yield from ((" ".join(path), option) for option in action.option_strings)


def test_help_shows_one_dashed_spelling_per_flag_outside_tfxp_serve():
    shown = list(_options_shown(cli.build_parser()))
    underscored = [f"tfxp {path} {option}" for path, option in shown
                   if "_" in option and path != "serve"]
    assert not underscored
    assert ("skew", "--models-root") in shown and ("skew", "--serving-dir") not in shown
    assert ("run", "--serving-dir") in shown and ("serve", "--models-root") in shown
    assert ("serve", "--models_root") not in shown and ("canary", "--models-root") in shown


@pytest.mark.parametrize("old, new", [
    (["skew", "--model", "census", "--serving-dir", "/srv/m"], "--models-root"),
    (["canary", "--models_root", "/srv/m", "status"], "--models-root"),
    (["shadow", "report", "census", "--models_root", "/srv/m"], "--models-root"),
    (["router", "--models_root", "/srv/m"], "--models-root"),
    (["serve", "--models_root=/srv/m"], "--models-root"),
])
def test_old_models_root_spellings_still_work_with_one_notice(capsys, old, new):
    args = cli.build_parser().parse_args(old)
    assert str(args.models_root) == "/srv/m"
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].endswith(f"is deprecated and goes in the next release; "
                                             f"use {new}")
