"""An exclusive lock on a file, with the holder named, for runs and pushes that must not overlap.

The lock is the kernel's (`flock`), so it dies with its holder: a `kill -9`, a crash or a reboot
releases it and nobody has to guess whether a lock file is stale from a pid or a timestamp. On a
volume shared between machines (NFS) Linux turns `flock` into a lock held by the file server,
which releases it when the holding machine stops renewing its lease, so a lock left by a dead
machine is taken over after that lease expires (about 90 s on NFSv4) and a live holder on
another machine is never mistaken for a dead one. The holder writes who it is (pid, host, start
time) into the file; a clean release empties it, so a new holder that finds a name there knows it
took over from a process that died holding the lock, and says so.

Serving code imports this module too (models.config rewrites), so it stays free of TFX.
"""
import contextlib
import dataclasses
import errno
import fcntl
import json
import os
import socket
import time
from typing import Callable, Iterator, Optional


class LockBusy(RuntimeError):
    """Another process holds the lock and the caller chose not to wait."""


class LockUnavailable(OSError):
    """The lock file cannot be created or locked (read-only or full volume, no lock support).
    `strerror` is the system's reason; the message also says what was attempted."""

    def __init__(self, error: OSError, doing: str, path: str):
        super().__init__(error.errno, error.strerror, path)
        self.doing = doing

    def __str__(self) -> str:
        return f"{self.doing} {self.filename}: {self.strerror}"


@dataclasses.dataclass
class Holder:
    """Who holds (or last held) the lock, as written into the lock file, so a waiting or taking
    over process can name it."""

    pid: int
    host: str
    started: str
    purpose: str

    def describe(self) -> str:
        """One phrase for messages: "pid 12 on host h, started ... (purpose)"."""
        return f"pid {self.pid} on host {self.host}, started {self.started} ({self.purpose})"


def _read_holder(fd: int) -> Optional[Holder]:
    try:
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
        fields = json.loads(text) if text else None
        return Holder(int(fields["pid"]), str(fields["host"]), str(fields["started"]),
                      str(fields.get("purpose", "?"))) if fields else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_holder(path: os.PathLike) -> Optional[Holder]:
    """Who the lock file names (None when it is absent or empty)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return _read_holder(fd)
    finally:
        os.close(fd)


def _try_lock(fd: int, path) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except OSError as error:
        raise LockUnavailable(error, "cannot lock (the file system must support file locks)",
                              path) from error


@contextlib.contextmanager
def exclusive(path: os.PathLike, purpose: str, wait: bool = True,
              on_wait: Callable[[Holder], None] = lambda holder: None,
              on_takeover: Callable[[Holder], None] = lambda holder: None,
              poll_seconds: float = 0.5) -> Iterator[Holder]:
    """Hold the lock at `path` for the body. While another process holds it, call
    `on_wait(holder)` once and wait (or raise LockBusy when `wait` is False). When the file names
    a holder that no longer holds the lock (it died), call `on_takeover(that holder)`."""
    path = os.fspath(path)
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as error:
        raise LockUnavailable(error, "cannot create the lock file", path) from error
    try:
        announced = False
        while not _try_lock(fd, path):
            holder = _read_holder(fd) or Holder(0, "?", "?", "unknown holder")
            if not wait:
                raise LockBusy(f"{path} is held by {holder.describe()}")
            if not announced:
                on_wait(holder)
                announced = True
            time.sleep(poll_seconds)
        previous = _read_holder(fd)
        if previous is not None:
            on_takeover(previous)
        me = Holder(os.getpid(), socket.gethostname(),
                    time.strftime("%Y-%m-%d %H:%M:%S %Z"), purpose)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(dataclasses.asdict(me)).encode() + b"\n", 0)
        except OSError as error:
            if error.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
        try:
            yield me
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)
