"""The per-process figures the cluster bench adds for the JVMs, read from /proc."""
import os
import time

from bench import cluster_bench


def test_process_cpu_seconds_grows_with_work_done():
    before = cluster_bench.process_cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        sum(range(10000))
    assert cluster_bench.process_cpu_seconds(os.getpid()) - before >= 0.2


def test_process_peak_rss_covers_memory_touched_since_start():
    block = bytearray(200 * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])
    assert cluster_bench.process_peak_rss_mb(os.getpid()) >= 200
    del block
