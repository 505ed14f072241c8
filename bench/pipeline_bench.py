"""P1/P2, peak memory and a per-component table for the census pipeline on the full data.

P1 = fresh pipeline run / plain Keras script (bench/plain_keras_census.py), target <= 2.0.
P2 = unchanged re-run (cache on) / fresh run, target <= 0.25.
Each is a separate process started from here, so times include start-up and imports on both
sides and peak RSS is the process's own maximum resident set. Each component's seconds come from
its execution in ML Metadata (what the run summary prints), so a regression points at a component.
A third run retrains against the first version labelled stable, so the infra validator's latency
gate runs; its seconds (inside LocalInfraValidator) get their own row.
"""
import dataclasses
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence

from data.settings import PROJECT_ROOT

TARGETS = {"P1": 2.0, "P2": 0.25}


@dataclasses.dataclass
class Measured:
    """One child process: wall seconds, CPU seconds of its whole tree (user + system; on a shared
    machine they vary far less with the load than wall time), the largest resident set of any
    one process in the tree (Beam's multi-processing workers included), and its stdout."""

    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    stdout: str
PIPELINE_NAME = "census"
GATE_ROW = "  latency gate (in LocalInfraValidator)"


def timed(cmd) -> Measured:
    """Runs `cmd` in a child process and measures it (wall and CPU time, peak memory)."""
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
    wrapper = [sys.executable, "-c",
               "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
               "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
               "print('PEAK_RSS_KB', u.ru_maxrss, 'CPU_S', u.ru_utime + u.ru_stime, "
               "file=sys.stderr); sys.exit(r.returncode)", *cmd]
    started = time.monotonic()
    result = subprocess.run(wrapper, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {result.returncode}:\n"
                           f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    usage = result.stderr.rsplit("PEAK_RSS_KB", 1)[1].split()
    return Measured(seconds, float(usage[2]), int(usage[0]) / 1024, result.stdout)


def tfxp_run_command(home: str, data_dir: Optional[str] = None,
                     beam_args: Sequence[str] = (), extra: Sequence[str] = ()) -> List[str]:
    """`tfxp run` of the census pipeline with its own home and push destination."""
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--model", "census",
           "--pipeline-root", os.path.join(home, "home"),
           "--serving-dir", os.path.join(home, "serving"), "--rollout", "none"]
    if data_dir:
        cmd += ["--data", data_dir]
    for arg in beam_args:
        cmd.append(f"--beam-arg={arg}")
    return cmd + list(extra)


def component_seconds(home: str) -> Dict[str, float]:
    """{component: seconds} of the latest run under `home`, read from its ML Metadata."""
    from pipelines import run_info

    run = run_info.load_run(os.path.join(home, "home", "metadata.sqlite"), PIPELINE_NAME)
    seconds = {component.node_id: round(component.seconds, 2) for component in run.components}
    infra = run.output("LocalInfraValidator", "blessing")
    if infra is not None and infra.properties.get("latency_gate_seconds") is not None:
        seconds[GATE_ROW] = round(float(infra.properties["latency_gate_seconds"]), 2)
    return seconds


def format_component_table(columns: Dict[str, Dict[str, float]]) -> List[str]:
    """Rows of a table: one line per component, one column per run (e.g. fresh, cached)."""
    names = list(columns)
    widths = {name: max(10, len(name) + 2) for name in names}
    components: List[str] = []
    for seconds in columns.values():
        components += [c for c in seconds if c not in components]
    lines = [f"    {'component':<34}" + "".join(f"{name:>{widths[name]}}" for name in names)]
    for component in components:
        cells = "".join(f"{columns[name][component]:{widths[name] - 1}.1f}s"
                        if component in columns[name] else f"{'-':>{widths[name]}}"
                        for name in names)
        lines.append(f"    {component:<34}{cells}")
    sums = {name: sum(v for c, v in columns[name].items() if c != GATE_ROW)  # in the validator's
            for name in names}
    totals = "".join(f"{sums[name]:{widths[name] - 1}.1f}s" for name in names)
    lines.append(f"    {'sum of components':<34}{totals}")
    return lines


def run(work_dir: str = None) -> dict:
    """The P1/P2 measurements: a fresh `tfxp run`, a cached re-run and the plain Keras script,
    in `work_dir` (a new temporary folder by default)."""
    work_dir = work_dir or tempfile.mkdtemp(prefix="tfxp-bench-")
    tfxp = tfxp_run_command(work_dir)
    fresh = timed(tfxp)
    fresh_components = component_seconds(work_dir)
    cached = timed(tfxp)
    cached_components = component_seconds(work_dir)
    from serving.rollout import canary

    canary.on_push(pathlib.Path(work_dir), "serving", 1)  # the gate needs a stable version
    timed(tfxp_run_command(work_dir, extra=["--hparam", "learning_rate=0.011"]))
    retrained_components = component_seconds(work_dir)
    plain = timed([sys.executable, "-m", "bench.plain_keras_census",
                   os.path.join(work_dir, "plain")])
    plain_result = json.loads(plain.stdout.strip().splitlines()[-1])
    results = {
        "fresh_pipeline_s": fresh.seconds, "cached_rerun_s": cached.seconds,
        "plain_keras_s": plain.seconds, "plain_keras_fit_s": plain_result["fit_seconds"],
        "plain_keras_auc": plain_result["auc"],
        "fresh_pipeline_cpu_s": fresh.cpu_seconds, "cached_rerun_cpu_s": cached.cpu_seconds,
        "plain_keras_cpu_s": plain.cpu_seconds,
        "P1": fresh.seconds / plain.seconds, "P2": cached.seconds / fresh.seconds,
        "P1_cpu": fresh.cpu_seconds / plain.cpu_seconds,
        "peak_rss_mb_pipeline": fresh.peak_rss_mb, "peak_rss_mb_plain": plain.peak_rss_mb,
        "components_fresh_s": fresh_components, "components_cached_s": cached_components,
        "components_retrained_s": retrained_components,
        "latency_gate_s": retrained_components.get(GATE_ROW),
    }
    print("census pipeline benchmark (full data, 2 cores; wall time, CPU time of the process tree)")
    for name, measured in (("fresh pipeline run", fresh), ("unchanged re-run (cache)", cached),
                           ("plain Keras script", plain)):
        print(f"  {name:<24} {measured.seconds:7.1f} s  CPU {measured.cpu_seconds:7.1f} s  "
              f"peak RSS {measured.peak_rss_mb:7.0f} MiB")
    print(f"  (plain Keras: fit {plain_result['fit_seconds']:.1f} s, AUC {plain_result['auc']:.4f})")
    print("  per component (wall seconds, from ML Metadata)")
    print("\n".join(format_component_table({"fresh": fresh_components,
                                            "cached": cached_components,
                                            "retrained": retrained_components})))
    for name in ("P1", "P2"):
        verdict = "ok" if results[name] <= TARGETS[name] else "MISSED"
        print(f"  {name} = {results[name]:.2f}  (target <= {TARGETS[name]})  {verdict}")
    print(f"  P1 by CPU time = {results['P1_cpu']:.2f}  (less sensitive to other load)")
    return results
