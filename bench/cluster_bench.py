"""The census pipeline on the local Flink cluster against the in-process DirectRunner, 1x and 10x
the training rows (issue 20's scale-out curve).

Each size runs fresh on both runners one after the other. The Flink runs get a cluster of their
own, started for the run and stopped after it, so that the JVMs' CPU time and their peak resident
set (VmHWM) belong to that run alone. CPU is the `tfxp` process tree's (the LOOPBACK SDK workers
run in it) plus the three JVMs' (JobManager, TaskManager, Beam's job server). On 2 cores Flink is
not expected to win: the figures are the start of a scale-out curve, not a verdict.
"""
import os
import pathlib
import tempfile
from typing import Dict, List, Optional

from bench.growth_bench import SCALED_DATA_RUN_ARGS, write_scaled_census
from bench.pipeline_bench import component_seconds, format_component_table, timed, \
    tfxp_run_command
from data.settings import PREPARED_ROOT

FACTORS = (1, 10)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one live process, from /proc/PID/stat."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_peak_rss_mb(pid: int) -> float:
    """The largest resident set the process has had since it started (VmHWM), in MiB."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no VmHWM for pid {pid}")


def _cluster_pids(cluster) -> List[int]:
    from pipelines.cluster import flink

    pids = flink.jobmanager_pids(cluster) + flink.taskmanager_pids(cluster)
    job_server = flink.job_server_pid(cluster)
    return pids + ([job_server] if job_server else [])


def _measure_direct(home: pathlib.Path, data_dir: pathlib.Path) -> Dict:
    measured = timed(tfxp_run_command(str(home), str(data_dir), extra=SCALED_DATA_RUN_ARGS))
    return {"seconds": measured.seconds, "cpu_seconds": measured.cpu_seconds,
            "peak_rss_mb": measured.peak_rss_mb, "components_s": component_seconds(str(home))}


def _measure_flink(home: pathlib.Path, data_dir: pathlib.Path) -> Dict:
    """A fresh cluster under `home`, the run on it, the cluster stopped; JVM figures included."""
    from pipelines.cluster import flink

    cluster_home = home / "cluster"
    previous = os.environ.get("TFXP_CLUSTER_HOME")
    os.environ["TFXP_CLUSTER_HOME"] = str(cluster_home)
    try:
        cluster = flink.up(cluster_home)
        pids = _cluster_pids(cluster)
        cpu_before = {pid: process_cpu_seconds(pid) for pid in pids}
        measured = timed(tfxp_run_command(str(home), str(data_dir), extra=[*SCALED_DATA_RUN_ARGS, "--runner", "flink"]))
        jvm_cpu = sum(process_cpu_seconds(pid) - cpu_before[pid] for pid in pids)
        jvm_peak = {pid: process_peak_rss_mb(pid) for pid in pids}
    finally:
        flink.down(cluster_home)
        if previous is None:
            os.environ.pop("TFXP_CLUSTER_HOME", None)
        else:
            os.environ["TFXP_CLUSTER_HOME"] = previous
    return {"seconds": measured.seconds, "cpu_seconds": measured.cpu_seconds + jvm_cpu,
            "tfxp_cpu_seconds": measured.cpu_seconds, "jvm_cpu_seconds": jvm_cpu,
            "peak_rss_mb": measured.peak_rss_mb + sum(jvm_peak.values()),
            "tfxp_peak_rss_mb": measured.peak_rss_mb, "jvm_peak_rss_mb": sum(jvm_peak.values()),
            "components_s": component_seconds(str(home))}


def _print_run(name: str, measured: Dict) -> None:
    jvm = (f"  (JVMs: CPU {measured['jvm_cpu_seconds']:.1f} s, peak {measured['jvm_peak_rss_mb']:.0f}"
           " MiB)" if "jvm_cpu_seconds" in measured else "")
    print(f"  {name:<12} {measured['train_rows']:>8,} train rows  {measured['seconds']:7.1f} s  "
          f"CPU {measured['cpu_seconds']:7.1f} s  peak RSS {measured['peak_rss_mb']:7.0f} MiB{jvm}",
          flush=True)


def run(work_dir: Optional[str] = None, factors=FACTORS) -> dict:
    """Both runners at each size, printed as measured; ratios Flink / DirectRunner per size."""
    work_dir = pathlib.Path(work_dir or tempfile.mkdtemp(prefix="tfxp-cluster-bench-"))
    runs: Dict[str, Dict] = {}
    print("census pipeline: Flink cluster (parallelism 2) vs DirectRunner, fresh runs, 2 cores",
          flush=True)
    for factor in factors:
        data_dir = work_dir / f"data-{factor}x"
        train_rows = write_scaled_census(PREPARED_ROOT / "census", data_dir, factor)
        for runner, measure in (("direct", _measure_direct), ("flink", _measure_flink)):
            name = f"{runner} {factor}x"
            runs[name] = dict(measure(work_dir / f"{runner}-{factor}x", data_dir),
                              train_rows=train_rows)
            _print_run(name, runs[name])
    ratios = {}
    for factor in factors:
        flink_run, direct_run = runs[f"flink {factor}x"], runs[f"direct {factor}x"]
        for figure in ("seconds", "cpu_seconds", "peak_rss_mb"):
            ratios[f"flink_over_direct_{figure}_{factor}x"] = round(
                flink_run[figure] / direct_run[figure], 2)
    print("  per component (wall seconds, from ML Metadata)")
    print("\n".join(format_component_table({name: measured["components_s"]
                                            for name, measured in runs.items()})))
    for name, ratio in ratios.items():
        print(f"  {name} = {ratio:.2f}")
    return {"runs": runs, "ratios": ratios}
