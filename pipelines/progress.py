"""Terminal progress for a pipeline run, with the library logging sent to a file.

TFX, Beam, TensorFlow and absl log thousands of lines per run. While a run is in progress this
module sends all of it (Python logging and the process's stderr, where TensorFlow's C++ code
writes) to a log file, and prints one line per component event to the terminal instead.
"""
import contextlib
import logging
import os
import re
import sys
import time
from typing import Dict, Iterator, List, Optional, TextIO

# LocalDagRunner logs "Component X is running.", BeamDagRunner "node X is running."
_NODE_EVENT = re.compile(r"^(?:Component|node) (?P<node>\S+) is (?P<event>running|finished)\.$")
_CACHED = re.compile(r"^A cached execution \d+ is used\.$")


class ProgressHandler(logging.Handler):
    """Turns the orchestrator's log records into 'started / done / cached' lines."""

    def __init__(self, stream: TextIO):
        super().__init__(level=logging.INFO)
        self.stream = stream
        self.t0 = time.monotonic()
        self.started: Dict[str, float] = {}
        self.cached: List[str] = []
        self.current: Optional[str] = None

    def _print(self, text: str) -> None:
        self.stream.write(f"[{time.monotonic() - self.t0:7.1f}s] {text}\n")
        self.stream.flush()

    def emit(self, record: logging.LogRecord) -> None:
        """Logging override: a progress line when a TFX component starts or finishes (cached or
        run), from the log records TFX writes anyway."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed third-party log call must not break the run
            return
        match = _NODE_EVENT.match(message)
        if match:
            node, event = match["node"], match["event"]
            if event == "running":
                self.started[node] = time.monotonic()
                self.current = node
                self._print(f"{node:<34} started")
            else:
                elapsed = time.monotonic() - self.started.get(node, time.monotonic())
                state = "cached" if node in self.cached else "done"
                self._print(f"{node:<34} {state} in {elapsed:.1f}s")
            return
        if _CACHED.match(message) and self.current:
            self.cached.append(self.current)


@contextlib.contextmanager
def captured_logs(log_path: str, verbose: bool = False, stream: TextIO = sys.stdout
                  ) -> Iterator[ProgressHandler]:
    """Route logging, print() output and fd 2 to `log_path` (all also to the terminal when
    `verbose`); progress lines go to `stream`."""
    from absl import logging as absl_logging

    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    absl_logging.set_verbosity(absl_logging.INFO)
    log_file = open(log_path, "a", buffering=1)
    file_handler = logging.StreamHandler(log_file)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    progress = ProgressHandler(stream)
    root.handlers = [file_handler, progress]
    root.setLevel(logging.INFO)
    saved_stderr = None
    if verbose:
        root.addHandler(logging.StreamHandler(sys.stderr))
    else:
        sys.stderr.flush()
        saved_stderr = os.dup(2)
        os.dup2(log_file.fileno(), 2)
    try:
        with contextlib.redirect_stdout(stream if verbose else log_file):
            yield progress
    finally:
        if saved_stderr is not None:
            sys.stderr.flush()
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
        root.handlers, root.level = saved_handlers, saved_level
        log_file.close()
