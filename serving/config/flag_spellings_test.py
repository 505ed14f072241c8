"""Renamed flags: the old spelling still sets the value, says once that it is deprecated, and
stays out of --help."""
import argparse

from serving.config.flag_spellings import add_flag


def _parser():
    parser = argparse.ArgumentParser(prog="tfxp canary")
    add_flag(parser, "--models-root", "--models_root", default="serving/models")
    add_flag(parser, "--stable-metrics", "--stable_metrics", action="append", default=None)
    return parser


def test_the_old_spelling_sets_the_same_value_and_warns_once(capsys):
    args = _parser().parse_args(["--models_root", "/srv/models", "--stable_metrics=a",
                                 "--stable_metrics=b", "--stable-metrics=c"])
    assert args.models_root == "/srv/models" and args.stable_metrics == ["a", "b", "c"]
    assert capsys.readouterr().err.splitlines() == [
        "tfxp canary: --models_root is deprecated and goes in the next release; use --models-root",
        "tfxp canary: --stable_metrics is deprecated and goes in the next release; "
        "use --stable-metrics"]


def test_the_new_spelling_is_silent(capsys):
    args = _parser().parse_args(["--models-root=/srv/models"])
    assert args.models_root == "/srv/models" and args.stable_metrics is None
    assert capsys.readouterr().err == ""


def test_help_shows_only_the_new_spelling():
    text = _parser().format_help()
    assert "--models-root" in text and "--stable-metrics" in text
    assert "--models_root" not in text and "--stable_metrics" not in text
