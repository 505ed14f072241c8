"""Running `tfxp` as a user does (a subprocess), for the end-to-end tests."""
import os
import subprocess
import sys

from data.settings import PROJECT_ROOT


def run_tfxp(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout)
