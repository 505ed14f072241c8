"""The run guard: the metadata check before a run, and signals that stop it."""
import os
import signal
import time

import pytest

from models import registry
from pipelines import run_guard, run_paths


def _paths(tmp_path):
    return run_paths.default_paths(registry.get("census"), sample=True, home=str(tmp_path / "home"))


def test_a_fresh_home_or_a_healthy_database_passes_the_metadata_check(tmp_path):
    """A real ML Metadata store holding an artifact passes, and the check only reads it."""
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    paths = _paths(tmp_path)
    assert run_guard.check_metadata(paths) is None
    assert not paths.home.exists(), "checking a fresh home creates nothing"
    paths.home.mkdir(parents=True)
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(paths.metadata_path)
    store = metadata_store.MetadataStore(config)
    type_id = store.put_artifact_type(metadata_store_pb2.ArtifactType(name="Examples"))
    store.put_artifacts([metadata_store_pb2.Artifact(type_id=type_id, uri="/data/examples")])
    del store
    written = paths.metadata_path.read_bytes()
    assert run_guard.check_metadata(paths) is None
    assert paths.metadata_path.read_bytes() == written


def test_a_corrupt_database_names_what_to_delete(tmp_path):
    paths = _paths(tmp_path)
    paths.home.mkdir(parents=True)
    paths.metadata_path.write_bytes(b"this is not sqlite " * 100)
    with pytest.raises(run_guard.MetadataUnusable) as raised:
        run_guard.check_metadata(paths)
    message = str(raised.value)
    assert f"{paths.metadata_path} is unreadable" in message
    assert f"delete {paths.pipeline_root} and {paths.metadata_path}" in message


def test_a_missing_database_beside_old_artifacts_names_what_to_delete(tmp_path):
    paths = _paths(tmp_path)
    (paths.pipeline_root / "Trainer" / "model" / "7").mkdir(parents=True)
    with pytest.raises(run_guard.MetadataUnusable, match=f"{paths.metadata_path} is missing but "
                                                      f"{paths.pipeline_root} holds artifacts"):
        run_guard.check_metadata(paths)


def test_an_interruption_a_library_swallows_is_raised_again_until_it_stops_the_run():
    with pytest.raises(run_guard.RunInterrupted) as stopped:
        with run_guard.stop_on_signals() as guard:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)
            except run_guard.RunInterrupted:
                pass  # what Beam or TFX may do: catch it, wrap it, carry on
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                time.sleep(0.01)
    assert guard.state.signum == signal.SIGTERM and stopped.value.exit_code == 143
    assert signal.getsignal(signal.SIGTERM) is not None


def test_a_window_records_its_own_stop_and_a_later_signal_interrupts_afresh():
    """What runner.run relies on: the orchestrator's window says which signal stopped it even
    when a library wrapped the RunInterrupted; after the window the re-raising is over, and a
    signal while the summary is written stops the workflow with its own state."""
    before = signal.getsignal(signal.SIGINT)
    with run_guard.stop_on_signals() as guard:
        with pytest.raises(RuntimeError, match="wrapped"):
            with guard.window() as window:
                try:
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(1)
                except run_guard.RunInterrupted as stop:
                    raise RuntimeError("wrapped by Beam") from stop
        assert window.signum == signal.SIGINT
        time.sleep(2 * run_guard.RERAISE_SECONDS)  # no re-raise once the window is left
        assert guard.state.signum is None
        with pytest.raises(run_guard.RunInterrupted) as later:
            os.kill(os.getpid(), signal.SIGINT)  # the same kind: still ours, not the default
            time.sleep(1)
        assert later.value.exit_code == 130 and guard.state.signum == signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is before
