"""serving.server.server helpers that lean on library behaviour: fail loudly when the library changes."""
import argparse
import logging

import pytest

from serving.config import configs
from serving.server.server import (ModelServer, add_server_flags, parse_channel_arguments,
                                   session_config, session_parallelism)


def _server_args(argv):
    parser = argparse.ArgumentParser()
    add_server_flags(parser)
    return parser.parse_args(argv)


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
    args = _server_args(["--port=0", "--rest_api_port=0", f"--model_base_path={tmp_path}",
                         flag.format(tmp=tmp_path)])
    assert args.ignored_flags == []
    with pytest.raises(configs.ConfigError, match=needle):
        ModelServer(args)


def test_the_native_front_end_refuses_channel_arguments_it_cannot_apply(tmp_path):
    args = _server_args(["--grpc_frontend=native", f"--model_base_path={tmp_path}",
                         "--grpc_channel_arguments=grpc.max_concurrent_streams=10"])
    with pytest.raises(configs.ConfigError, match="--grpc_channel_arguments: the native gRPC"):
        ModelServer(args)


@pytest.mark.parametrize("flags, expected", [
    ([], (0, 0)),
    (["--tensorflow_session_parallelism=3"], (3, 3)),
    (["--tensorflow_intra_op_parallelism=2"], (2, 0)),
    (["--tensorflow_session_parallelism=3", "--tensorflow_inter_op_parallelism=1"], (0, 1)),
    (["--tensorflow_intra_op_parallelism=2", "--tensorflow_inter_op_parallelism=4"], (2, 4)),
    (["--tensorflow_intra_op_parallelism=1", "--tensorflow_inter_op_parallelism=-1"], (1, -1)),
    (["--tensorflow_session_parallelism=2", "--tensorflow_inter_op_parallelism=-1"], (2, 2)),
])
def test_session_parallelism_flags_combine_as_tensorflow_model_server_combines_them(
        flags, expected):
    args = _server_args(flags)
    assert args.ignored_flags == []
    assert session_parallelism(args) == expected


def test_setting_all_three_parallelism_flags_is_refused_in_tf_servings_words():
    args = _server_args(["--tensorflow_session_parallelism=1",
                         "--tensorflow_intra_op_parallelism=1",
                         "--tensorflow_inter_op_parallelism=1"])
    with pytest.raises(configs.ConfigError, match="You cannot configure all"):
        session_parallelism(args)


@pytest.mark.parametrize("flags, named", [
    (["--tensorflow_session_parallelism=-1"], "--tensorflow_session_parallelism"),
    (["--tensorflow_intra_op_parallelism=-2", "--tensorflow_inter_op_parallelism=2"],
     "--tensorflow_intra_op_parallelism"),
])
def test_a_negative_intra_op_count_is_refused_at_start_up_not_left_to_abort_tensorflow(
        flags, named):
    with pytest.raises(configs.ConfigError, match=f"^{named}: a negative intra-op thread count "
                                                  r"\(-\d\) aborts TensorFlow's thread pool"):
        session_parallelism(_server_args(flags))


def test_a_negative_count_that_tensorflow_model_server_would_ignore_is_named_in_a_warning(
        caplog):
    args = _server_args(["--tensorflow_inter_op_parallelism=-1"])
    with caplog.at_level(logging.WARNING, logger="tfxp.serving"):
        assert session_parallelism(args) == (0, 0)
    assert "--tensorflow_inter_op_parallelism=-1: neither is positive" in caplog.text


def test_the_native_sessions_get_the_threads_as_a_config_proto():
    from tensorflow.core.protobuf import config_pb2
    assert session_config(0, 0) == b""
    config = config_pb2.ConfigProto.FromString(session_config(1, 2))
    assert (config.intra_op_parallelism_threads, config.inter_op_parallelism_threads) == (1, 2)
    config = config_pb2.ConfigProto.FromString(session_config(1, -1))
    assert (config.intra_op_parallelism_threads, config.inter_op_parallelism_threads) == (1, -1)
