"""The run/push lock: held by another process it names the holder; a holder killed with -9
leaves a lock that the next process takes over and reports."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from serving.config import file_lock

_HOLD = textwrap.dedent("""
    import sys, time
    from serving.config import file_lock
    with file_lock.exclusive(sys.argv[1], "test holder"):
        print("held", flush=True)
        time.sleep(60)
""")


def _holder_process(path):
    child = subprocess.Popen([sys.executable, "-c", _HOLD, str(path)], stdout=subprocess.PIPE,
                             text=True, env=dict(os.environ))
    assert child.stdout.readline().strip() == "held"
    return child


def test_a_held_lock_names_its_holder_and_no_wait_refuses(tmp_path):
    path = tmp_path / "run.lock"
    child = _holder_process(path)
    try:
        with pytest.raises(file_lock.LockBusy, match=f"pid {child.pid} on host .*test holder"):
            with file_lock.exclusive(path, "second", wait=False):
                pass
        assert file_lock.read_holder(path).pid == child.pid
    finally:
        child.kill()
        child.wait()


def test_a_waiter_is_told_once_and_gets_the_lock_when_the_holder_ends(tmp_path):
    path = tmp_path / "run.lock"
    child = _holder_process(path)
    told = []
    started = time.monotonic()
    subprocess.Popen(["sh", "-c", f"sleep 1; kill -TERM {child.pid}"])
    with file_lock.exclusive(path, "waiter", on_wait=told.append, poll_seconds=0.1) as me:
        assert me.pid == os.getpid()
        assert time.monotonic() - started >= 0.9
    child.wait()
    assert [holder.pid for holder in told] == [child.pid]


def test_a_lock_left_by_a_killed_process_is_taken_over_and_reported(tmp_path):
    path = tmp_path / "run.lock"
    child = _holder_process(path)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    taken_from = []
    with file_lock.exclusive(path, "next run", wait=False, on_takeover=taken_from.append):
        assert file_lock.read_holder(path).purpose == "next run"
    assert [holder.pid for holder in taken_from] == [child.pid]
    assert file_lock.read_holder(path) is None


def test_a_clean_release_leaves_nothing_to_take_over(tmp_path):
    path = tmp_path / "run.lock"
    with file_lock.exclusive(path, "first"):
        pass
    taken_from = []
    with file_lock.exclusive(path, "second", on_takeover=taken_from.append):
        pass
    assert taken_from == []


def test_an_unwritable_place_for_the_lock_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(file_lock.LockUnavailable, match="cannot create the lock file .*a-file"):
        with file_lock.exclusive(blocker / "run.lock", "x"):
            pass
