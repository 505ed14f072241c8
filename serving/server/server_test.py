"""serving.server.server helpers that lean on library behaviour: fail loudly when the library changes."""
import argparse

import pytest

from serving.config import configs
from serving.server.server import (ModelServer, add_server_flags, build_parser,
                                   parse_channel_arguments, parse_flags)


def _main_parser():
    main = argparse.ArgumentParser(prog="tfxp")
    sub = main.add_subparsers(dest="command")
    add_server_flags(sub.add_parser("serve"))
    sub.add_parser("run").add_argument("--model")
    return main


def test_unknown_flags_of_the_serve_command_become_warnings():
    args = parse_flags(_main_parser(), ["serve", "--port=1", "--no_such_flag=3", "--use_tfrt=true"])
    assert args.port == 1
    assert args.ignored_flags == ["--use_tfrt=true", "--no_such_flag=3"]


def test_unknown_flags_of_another_command_stay_an_error(capsys):
    with pytest.raises(SystemExit) as stop:
        parse_flags(_main_parser(), ["run", "--model=census", "--no_such_flag=3"])
    assert stop.value.code == 2
    assert "unrecognized arguments: --no_such_flag=3" in capsys.readouterr().err


def test_the_stand_alone_server_parser_keeps_unknown_flags():
    args = parse_flags(build_parser(), ["--rest_api_port=0", "--made_up=1"])
    assert args.rest_api_port == 0 and args.ignored_flags == ["--made_up=1"]


def test_channel_arguments_parse_like_tf_serving():
    assert parse_channel_arguments("") == []
    parsed = parse_channel_arguments("grpc.max_concurrent_streams=100, grpc.lb_policy=pick_first")
    assert parsed == [("grpc.max_concurrent_streams", 100), ("grpc.lb_policy", "pick_first")]
    with pytest.raises(configs.ConfigError, match="not key=value"):
        parse_channel_arguments("nonsense")


@pytest.mark.parametrize("flag, needle", [
    ("--use_alts_credentials=true", "--use_alts_credentials: ALTS"),
    ("--ssl_config_file={tmp}/ssl.config", "server_key holds no PEM block"),
    ("--ssl_config_file={tmp}/absent.config", "No such file"),
])
def test_trust_flags_that_cannot_be_honoured_stop_start_up(tmp_path, flag, needle):
    """Refused while the server is built, before any port opens (run() then exits 1)."""
    (tmp_path / "ssl.config").write_text('server_key: "/etc/tls/server.key" '
                                         'server_cert: "/etc/tls/server.crt"\n')
    args = parse_flags(build_parser(), ["--port=0", "--rest_api_port=0",
                                        f"--model_base_path={tmp_path}",
                                        flag.format(tmp=tmp_path)])
    assert args.ignored_flags == []
    with pytest.raises(configs.ConfigError, match=needle):
        ModelServer(args)
