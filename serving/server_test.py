"""serving.server helpers that lean on library behaviour: fail loudly when the library changes."""
import argparse

import pytest

from serving import configs
from serving.server import add_server_flags, make_tolerant, parse_channel_arguments


def test_make_tolerant_turns_unknown_flags_of_a_subparser_into_warnings():
    main = argparse.ArgumentParser(prog="tfxp")
    sub = main.add_subparsers(dest="command")
    serve = sub.add_parser("serve")
    add_server_flags(serve)
    assert make_tolerant(serve) is serve
    args = main.parse_args(["serve", "--port=1", "--no_such_flag=3", "--use_tfrt=true"])
    assert args.port == 1
    assert args.ignored_flags == ["--use_tfrt=true", "--no_such_flag=3"]
    assert isinstance(serve, argparse.ArgumentParser)


def test_channel_arguments_parse_like_tf_serving():
    assert parse_channel_arguments("") == []
    parsed = parse_channel_arguments("grpc.max_concurrent_streams=100, grpc.lb_policy=pick_first")
    assert parsed == [("grpc.max_concurrent_streams", 100), ("grpc.lb_policy", "pick_first")]
    with pytest.raises(configs.ConfigError, match="not key=value"):
        parse_channel_arguments("nonsense")
