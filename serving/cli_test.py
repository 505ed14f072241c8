"""The serve/predict/canary subcommands on a parent parser: tensorflow_model_server's flag forms,
clear flag errors, and the canary commands' exit codes (no server needed)."""
import argparse
import json

import pytest

from serving import cli
from serving.config.testing import fake_versions
from serving.rollout import canary
from serving.server.server import add_server_flags


def test_serve_accepts_tensorflow_model_server_flags_and_warns_on_the_rest():
    args = cli.parse_flags(cli.serving_parser(), [
        "serve", "--port=9000", "--rest_api_port=9001", "--model_config_file=/srv/tfs/m.config",
        "--enable_batching", "--allow_version_labels_for_unavailable_models=false",
        "--model_config_file_poll_wait_seconds=5", "--use_tfrt=true",
        "--per_process_gpu_memory_fraction=0.5", "--made_up_flag=1"])
    assert (args.port, args.rest_api_port, args.model_config_file) == (9000, 9001, "/srv/tfs/m.config")
    assert args.enable_batching is True
    assert args.allow_version_labels_for_unavailable_models is False
    assert args.model_config_file_poll_wait_seconds == 5
    assert args.ignored_flags == ["--use_tfrt=true", "--per_process_gpu_memory_fraction=0.5",
                                  "--made_up_flag=1"]
    assert args.host == "127.0.0.1"
    assert args.func is cli._serve


def test_bad_flag_values_are_clear_errors(capsys):
    with pytest.raises(SystemExit):
        cli.serving_parser().parse_args(["serve", "--enable_batching=maybe"])
    assert "expected true or false" in capsys.readouterr().err


def _canary(models_root, *words) -> int:
    """`tfxp canary --models-root ROOT WORDS...` through the serving CLI's parser; its exit code."""
    args = cli.serving_parser().parse_args(["canary", f"--models-root={models_root}", *words])
    return args.func(args)


def _census_stable_1_of_2(models_root) -> None:
    fake_versions(models_root, "census", 1, 2)
    canary.on_push(models_root, "census", 1)


def test_canary_cli_round_trip(tmp_path, capsys):
    _census_stable_1_of_2(tmp_path)
    assert _canary(tmp_path, "start", "census") == 0
    assert json.loads(capsys.readouterr().out)["census"]["canary"] == 2
    assert _canary(tmp_path, "promote", "census") == 0
    capsys.readouterr()
    assert _canary(tmp_path, "promote", "census") == 1
    assert "no canary to promote" in capsys.readouterr().err


def test_canary_shadow_says_when_the_model_logs_no_requests_for_the_report(tmp_path, capsys):
    _census_stable_1_of_2(tmp_path)
    assert _canary(tmp_path, "shadow", "census") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["census"]["shadow"] == 2
    assert "note: census logs no requests, so `tfxp shadow report census` will have nothing " \
           "to compare: add a logging_config" in captured.err
    config = tmp_path / "models.config"
    config.write_text(config.read_text().replace(
        'base_path: "/models/census"',
        'base_path: "/models/census" logging_config { log_collector_config '
        f'{{ filename_prefix: "{tmp_path / "logs" / "census"}" }} '
        'sampling_config { sampling_rate: 1.0 } }'))
    assert _canary(tmp_path, "shadow", "census") == 0
    assert "logs no requests" not in capsys.readouterr().err


def _main_parser():
    main = argparse.ArgumentParser(prog="tfxp")
    sub = main.add_subparsers(dest="command")
    add_server_flags(sub.add_parser("serve"))
    sub.add_parser("run").add_argument("--model")
    return main


def test_unknown_flags_of_the_serve_command_become_warnings():
    args = cli.parse_flags(_main_parser(), ["serve", "--port=1", "--no_such_flag=3",
                                            "--use_tfrt=true"])
    assert args.port == 1
    assert args.ignored_flags == ["--use_tfrt=true", "--no_such_flag=3"]


def test_unknown_flags_of_another_command_stay_an_error(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.parse_flags(_main_parser(), ["run", "--model=census", "--no_such_flag=3"])
    assert stop.value.code == 2
    assert "unrecognized arguments: --no_such_flag=3" in capsys.readouterr().err


def test_the_stand_alone_server_parser_keeps_unknown_flags():
    args = cli.parse_flags(cli.server_parser(), ["--rest_api_port=0", "--made_up=1"])
    assert args.rest_api_port == 0 and args.ignored_flags == ["--made_up=1"]
