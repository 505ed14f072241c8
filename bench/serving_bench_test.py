"""The serving and router benchmarks run end to end on a few requests, so that a refactor of the
serving code cannot leave `make bench` broken until someone next measures (the figures themselves
are only meaningful from `make bench`)."""
import pytest

from bench import serving_bench


def test_serving_benchmark_measures_every_ratio_it_has_a_target_for():
    result = serving_bench.run(n=20, seconds=0.3)
    assert set(result["targets"]) <= set(result["ratios"])
    assert all(result[path]["p50_ms"] > 0 for path in ("in_process", "grpc", "rest"))
    assert result["request_logging"]["records_logged"] > 0


def test_router_benchmark_measures_both_apis_direct_and_through_nginx():
    result = serving_bench.run_router(n=20)
    for api in ("rest", "grpc"):
        assert result[f"{api}_direct"]["p50_ms"] > 0 and result[f"{api}_via_nginx"]["p50_ms"] > 0
    assert set(result["added_ms"]) == {"rest_p50", "rest_p99", "grpc_p50", "grpc_p99"}


@pytest.mark.slow
def test_soak_runs_through_the_router_and_reports_what_it_promises():
    result = serving_bench.run_soak(seconds=4, rate=20, window_s=2)
    assert result["requests"] == 80 and result["failed"] == 0, result["windows"]
    assert set(result["rss_growth_mb"]) == {"stable", "canary"}
    assert len(result["p99_ms_by_window"]) == 2 and result["p99_drift"] > 0
