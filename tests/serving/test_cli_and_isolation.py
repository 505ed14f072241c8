"""CLI registration on a parent parser, tensorflow_model_server flag forms, and no TFX import."""
import argparse
import json
import os
import subprocess
import sys

import pytest

from serving import cli, canary
from tests.serving.conftest import REPO
from tests.serving.test_configs_and_canary import _fake_versions


def _main_parser():
    parser = argparse.ArgumentParser(prog="tfxp")
    subparsers = parser.add_subparsers(dest="command", required=True)
    cli.add_serve_parser(subparsers)
    cli.add_predict_parser(subparsers)
    cli.add_canary_parser(subparsers)
    return parser


def test_serve_accepts_tensorflow_model_server_flags_and_warns_on_the_rest():
    args = _main_parser().parse_args([
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
        _main_parser().parse_args(["serve", "--enable_batching=maybe"])
    assert "expected true or false" in capsys.readouterr().err


def test_canary_cli_round_trip(tmp_path, capsys):
    _fake_versions(tmp_path, "census", 1, 2)
    canary.on_push(tmp_path, "census", 1)
    parser = _main_parser()
    args = parser.parse_args(["canary", f"--models_root={tmp_path}", "start", "census"])
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["census"]["canary"] == 2
    args = parser.parse_args(["canary", f"--models_root={tmp_path}", "promote", "census"])
    assert args.func(args) == 0
    capsys.readouterr()
    args = parser.parse_args(["canary", f"--models_root={tmp_path}", "promote", "census"])
    assert args.func(args) == 1
    assert "no canary to promote" in capsys.readouterr().err


def test_predict_cli_rest_and_grpc_agree(server, tmp_path, capsys):
    rows = tmp_path / "rows.csv"
    rows.write_text("age,hours_per_week,workclass,sex\n39,40,State-gov,Male\n50,13,Private,Female\n")
    host, rest_port = server.rest.rsplit(":", 1)
    grpc_port = server.grpc.rsplit(":", 1)[1]
    common = ["predict", "--model=census", f"--csv={rows}", f"--host={host}",
              f"--rest_port={rest_port}", f"--grpc_port={grpc_port}"]
    parser = _main_parser()
    outputs = []
    for extra in ([], ["--grpc"], ["--signature=serving_raw"]):
        args = parser.parse_args(common + extra)
        assert args.func(args) == 0
        outputs.append(json.loads(capsys.readouterr().out)["probabilities"])
    assert outputs[0] == outputs[1] == outputs[2]
    args = parser.parse_args(common + ["--canary-fraction=0.5", "--requests=6"])
    assert args.func(args) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["stable"]["errors"] + report["canary"]["errors"] == 6
    assert "Unrecognized servable version label" in (report["stable"]["last_error"] or
                                                     report["canary"]["last_error"])


def test_canary_split_reports_per_label(server, tmp_path, capsys):
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps({"instances": [[1.0, 2.0]]}))
    host, port = server.rest.rsplit(":", 1)
    args = _main_parser().parse_args(["predict", "--model=half", f"--json={rows}",
                                      f"--host={host}", f"--rest_port={port}",
                                      "--canary-fraction=0.3", "--requests=20"])
    assert args.func(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["stable"]["count"] + report["canary"]["count"] == 20
    assert report["stable"]["mean_output"] == 2.0 and report["canary"]["mean_output"] == 3.0
    assert report["canary"]["p50_ms"] > 0


def test_server_modules_never_import_tfx():
    code = ("import sys\n"
            "import serving.server, serving.grpc_server, serving.rest, serving.dataplane, "
            "serving.repository, serving.batching, serving.client, serving.cli, serving.canary, "
            "serving.warmup, serving.protos\n"
            "bad = sorted(m for m in sys.modules if m == 'tfx' or m.startswith('tfx.'))\n"
            "assert not bad, bad\n")
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
