"""serving.server.process: the one way to start `python -m serving`; it says why a server did not
become ready (exited, or a model failed to load) with the server's own log lines."""
import os

import pytest

from serving.server.process import (REPO_ROOT, ServerProcess, ServerProcessError, free_ports,
                                    server_env)


def test_children_get_this_repository_first_and_the_legacy_keras_flavour():
    env = server_env({"PYTHONPATH": "/elsewhere", "HOME": "/h"})
    assert env["PYTHONPATH"] == f"{REPO_ROOT}{os.pathsep}/elsewhere"
    assert env["TF_USE_LEGACY_KERAS"] == "1" and env["HOME"] == "/h"


def test_a_model_that_cannot_load_is_named_with_the_servers_words(tmp_path):
    (tmp_path / "m" / "1").mkdir(parents=True)
    (tmp_path / "m" / "1" / "saved_model.pb").write_bytes(b"not a SavedModel")
    server = ServerProcess(["--model_name=m", f"--model_base_path={tmp_path / 'm'}"])
    with pytest.raises(ServerProcessError, match="model m failed to load: ") as info:
        server.wait_ready(["m"], timeout=120)
    assert "--- server log tail ---" in str(info.value)
    assert server.process.poll() is not None and not server.log_path.exists()


def test_a_server_that_exits_is_reported_with_its_exit_code(tmp_path):
    with ServerProcess([f"--model_base_path={tmp_path}", "--grpc_channel_arguments=nonsense"],
                       log_path=tmp_path / "server.log") as server:
        with pytest.raises(ServerProcessError, match=r"model server exited with code 1 \(log: "):
            server.wait_ready(timeout=120)
    assert "is not key=value" in (tmp_path / "server.log").read_text()


def test_free_ports_are_distinct_and_skip_the_excluded():
    """Picked one at a time, six ports repeat about once in a thousand picks; held together they
    cannot."""
    for _ in range(2000):
        first = free_ports(2)
        ports = free_ports(6, exclude=first)
        assert len(set(ports)) == 6 and not set(ports) & set(first)
