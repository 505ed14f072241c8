"""What must hold before and while a run executes: SIGINT/SIGTERM become RunInterrupted (the only
place the run path touches signal handlers), one run per pipeline root (its lock), and an ML
Metadata database TFX can use."""
import contextlib
import signal
import sqlite3
import sys
import threading
from typing import Iterator, Optional

from pipelines.run_paths import RunPaths

RUN_LOCK = "run.lock"

# While a stop is pending the interruption is raised again this often: TFX, Beam and
# tf.Transform run user code under handlers that can catch or wrap an exception raised at an
# arbitrary point, and one raise is not always enough to unwind a component.
RERAISE_SECONDS = 0.5


class RunInterrupted(BaseException):
    """SIGINT or SIGTERM arrived during a run (a BaseException, so no library swallows it)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal number, the shell's convention (130 SIGINT, 143 SIGTERM)."""
        return 128 + self.signum


class SignalState:
    """The signal that stopped a stretch of the run, if one did (None until then)."""

    signum: Optional[int] = None


class SignalGuard:
    """SIGINT/SIGTERM for one `tfxp run` of a model, installed once by `stop_on_signals`.

    The first signal raises RunInterrupted in the main thread, again every RERAISE_SECONDS until
    it leaves the block (or the current `window`); a second signal of the same kind takes its
    default action."""

    _WATCHED = (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)

    def __init__(self, active: bool):
        self.active = active
        self.state = SignalState()
        self._saved = {signum: signal.getsignal(signum) for signum in self._WATCHED} \
            if active else {}

    def install(self) -> None:
        """Our handlers on SIGINT, SIGTERM and the re-raise timer's SIGALRM."""
        signal.signal(signal.SIGINT, self._handler)
        signal.signal(signal.SIGTERM, self._handler)
        signal.signal(signal.SIGALRM, self._reraise)

    def restore(self) -> None:
        """The re-raise timer off and the handlers that were there before."""
        signal.setitimer(signal.ITIMER_REAL, 0)
        for signum, previous in self._saved.items():
            signal.signal(signum, previous)

    def _handler(self, signum, frame):
        state = self.state
        if state.signum is None:
            state.signum = signum
            signal.signal(signum, self._saved[signum] if signum != signal.SIGINT
                          else signal.default_int_handler)
            signal.setitimer(signal.ITIMER_REAL, RERAISE_SECONDS, RERAISE_SECONDS)
        raise RunInterrupted(state.signum)

    def _reraise(self, signum, frame):
        if self.state.signum is not None:
            raise RunInterrupted(self.state.signum)

    @contextlib.contextmanager
    def window(self) -> Iterator[SignalState]:
        """A stretch that settles its own interruption (the orchestrator's run): the yielded state
        says which signal stopped it, also when a library wrapped the RunInterrupted into another
        exception; after it the re-raising stops and a later signal interrupts afresh."""
        state = self.state = SignalState()
        try:
            yield state
        finally:
            if self.active:
                signal.setitimer(signal.ITIMER_REAL, 0)
                self.install()
            self.state = SignalState()


@contextlib.contextmanager
def stop_on_signals() -> Iterator[SignalGuard]:
    """Turn SIGINT/SIGTERM into RunInterrupted inside the block. Outside the main thread Python
    cannot install signal handlers: the guard then changes nothing and its windows stay empty."""
    guard = SignalGuard(threading.current_thread() is threading.main_thread())
    if not guard.active:
        yield guard
        return
    guard.install()
    try:
        yield guard
    finally:
        guard.restore()


class PipelineBusy(RuntimeError):
    """Another run holds the pipeline root and the caller chose not to wait."""


@contextlib.contextmanager
def exclusive_pipeline_root(paths: RunPaths, wait: bool = True, stream=sys.stdout
                            ) -> Iterator[None]:
    """One run of a pipeline root at a time (see serving.config.file_lock for why a dead holder's
    lock is never mistaken for a live one). Raises PipelineBusy when `wait` is False."""
    from serving.config import file_lock

    def waiting(holder):
        stream.write(f"Waiting for the run that holds {paths.home}: {holder.describe()}. "
                     "This run starts when it ends (Ctrl-C to give up; --no-wait to exit "
                     "instead).\n")
        stream.flush()

    def taking_over(holder):
        stream.write(f"Taking over {paths.home} from a run that ended without releasing it "
                     f"({holder.describe()}); its finished steps come from the cache.\n")
        stream.flush()

    try:
        with file_lock.exclusive(paths.home / RUN_LOCK, f"tfxp run {paths.pipeline_name}",
                                 wait=wait, on_wait=waiting, on_takeover=taking_over):
            yield
    except file_lock.LockBusy:
        holder = file_lock.read_holder(paths.home / RUN_LOCK)
        raise PipelineBusy(f"{paths.home} is in use by another run"
                           + (f" ({holder.describe()})" if holder else "")
                           + "; not waiting (--no-wait). Run again when it has finished.") from None


class MetadataUnusable(RuntimeError):
    """The ML Metadata database is missing or corrupt while the pipeline root holds artifacts."""


def check_metadata(paths: RunPaths) -> None:
    """Refuses to start a run TFX would turn into a traceback or silently get wrong: a corrupt
    database, or a deleted one beside the artifacts it described (new execution ids would reuse
    their folders)."""
    database = paths.metadata_path
    fresh_start = (f"To start this pipeline afresh (its cache and run history are lost; pushed "
                   f"models stay), delete {paths.pipeline_root} and {database}.")
    if not database.exists():
        if paths.pipeline_root.is_dir() and any(paths.pipeline_root.iterdir()):
            raise MetadataUnusable(f"the ML Metadata database {database} is missing but "
                                   f"{paths.pipeline_root} holds artifacts of earlier runs. "
                                   + fresh_start)
        return
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as error:
        verdict = str(error)
    if verdict != "ok":
        raise MetadataUnusable(f"the ML Metadata database {database} is unreadable ({verdict}). "
                               + fresh_start)


@contextlib.contextmanager
def guarded(paths: RunPaths, wait: bool = True, stream=sys.stdout) -> Iterator[SignalGuard]:
    """Signals handled, the pipeline root held and its metadata checked, in that order (a signal
    while waiting for the lock stops the wait)."""
    with stop_on_signals() as guard, exclusive_pipeline_root(paths, wait=wait, stream=stream):
        check_metadata(paths)
        yield guard
