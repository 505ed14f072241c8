"""serving.server.server helpers that lean on library behaviour: fail loudly when the library changes."""
import argparse

import pytest

from serving.config import configs
from serving.server.server import ModelServer, add_server_flags, parse_channel_arguments


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
