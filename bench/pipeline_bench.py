"""P1/P2 and peak memory for the census pipeline on the full data.

P1 = fresh pipeline run / plain Keras script (bench/plain_keras_census.py), target <= 2.0.
P2 = unchanged re-run (cache on) / fresh run, target <= 0.25.
Each is a separate process started from here, so times include start-up and imports on both
sides and peak RSS is the process's own maximum resident set.
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from data.common import PROJECT_ROOT

TARGETS = {"P1": 2.0, "P2": 0.25}


def _timed(cmd):
    """(seconds, peak RSS MiB, stdout) of a child process."""
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
    wrapper = [sys.executable, "-c",
               "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
               "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
               "file=sys.stderr); sys.exit(r.returncode)", *cmd]
    started = time.monotonic()
    result = subprocess.run(wrapper, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {result.returncode}:\n"
                           f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    peak_kb = int(result.stderr.rsplit("PEAK_RSS_KB", 1)[1].split()[0])
    return seconds, peak_kb / 1024, result.stdout


def run(work_dir: str = None) -> dict:
    work_dir = work_dir or tempfile.mkdtemp(prefix="tfxp-bench-")
    tfxp = [sys.executable, "-m", "pipelines.cli", "run", "--model", "census",
            "--pipeline-root", os.path.join(work_dir, "home"),
            "--serving-dir", os.path.join(work_dir, "serving"), "--rollout", "none"]
    fresh_s, fresh_mb, fresh_out = _timed(tfxp)
    cached_s, cached_mb, _ = _timed(tfxp)
    plain_s, plain_mb, plain_out = _timed(
        [sys.executable, "-m", "bench.plain_keras_census", os.path.join(work_dir, "plain")])
    plain = json.loads(plain_out.strip().splitlines()[-1])
    trainer_line = next((line for line in fresh_out.splitlines()
                         if line.strip().startswith("Trainer ")), "")
    results = {
        "fresh_pipeline_s": fresh_s, "cached_rerun_s": cached_s, "plain_keras_s": plain_s,
        "plain_keras_fit_s": plain["fit_seconds"], "plain_keras_auc": plain["auc"],
        "pipeline_trainer_line": trainer_line.strip(),
        "P1": fresh_s / plain_s, "P2": cached_s / fresh_s,
        "peak_rss_mb_pipeline": fresh_mb, "peak_rss_mb_plain": plain_mb,
    }
    print("census pipeline benchmark (full data, 2 cores)")
    print(f"  fresh pipeline run       {fresh_s:7.1f} s   peak RSS {fresh_mb:7.0f} MiB")
    print(f"  unchanged re-run (cache) {cached_s:7.1f} s   peak RSS {cached_mb:7.0f} MiB")
    print(f"  plain Keras script       {plain_s:7.1f} s   peak RSS {plain_mb:7.0f} MiB "
          f"(fit {plain['fit_seconds']:.1f} s, AUC {plain['auc']:.4f})")
    for name in ("P1", "P2"):
        verdict = "ok" if results[name] <= TARGETS[name] else "MISSED"
        print(f"  {name} = {results[name]:.2f}  (target <= {TARGETS[name]})  {verdict}")
    return results
