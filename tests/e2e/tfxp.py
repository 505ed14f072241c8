"""Running `tfxp` as a user does (a subprocess), for the end-to-end, fault and cluster tests."""
import os
import pathlib
import re
import signal
import subprocess
import sys
import threading
import time

from data.settings import PROJECT_ROOT


def run_tfxp(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout)


TIMEOUT = 900


class TfxpRun:
    """A `tfxp run` subprocess whose output lines are collected as they arrive."""

    def __init__(self, home, serving_dir, *extra, prefix=()):
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2",
                   PYTHONUNBUFFERED="1")
        command = [*prefix, sys.executable, "-m", "pipelines.cli", "run", "--model", "census",
                   "--sample", "--pipeline-root", str(home), "--serving-dir", str(serving_dir),
                   "--no-infra-validation", *extra]
        self.logs = pathlib.Path(home) / "logs"
        self._earlier_logs = set(self.logs.glob("run-*.log"))
        self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.output, re.MULTILINE):
            assert self.process.poll() is None or self._reader.is_alive(), \
                f"tfxp ended before {pattern!r}:\n{self.output}"
            assert time.monotonic() < deadline, f"no {pattern!r} in time:\n{self.output}"
            time.sleep(0.05)

    def wait_for_execution(self, component: str, timeout: float = TIMEOUT) -> None:
        """Until `component` has started (its progress line) and TFX has registered its execution
        in ML Metadata (the run log's next "Going to run a new execution"): from then on a
        signal or a kill lands in that component, and the summary names it."""
        self.wait_for(rf"{component}\s+started", timeout)
        registered = re.compile(rf"Component {component} is running\.(?:.|\n)*?"
                                r"Going to run a new execution \d+")
        deadline = time.monotonic() + timeout
        while not any(registered.search(log.read_text(errors="replace"))
                      for log in set(self.logs.glob("run-*.log")) - self._earlier_logs):
            assert self.process.poll() is None, f"tfxp ended before {component} ran:\n{self.output}"
            assert time.monotonic() < deadline, f"{component} never ran:\n{self.output}"
            time.sleep(0.2)

    def signal(self, signum) -> None:
        self.process.send_signal(signum)

    def kill_minus_9(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.finish()

    def finish(self, timeout: float = TIMEOUT) -> int:
        code = self.process.wait(timeout)
        self._reader.join(30)
        print(f"--- tfxp exited {code}:\n{self.output}")  # shown by pytest when a case fails
        return code


def numbered_folders(destination: pathlib.Path):
    return sorted(int(p.name) for p in destination.iterdir() if p.name.isdigit()) \
        if destination.is_dir() else []
