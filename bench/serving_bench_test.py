"""The serving and router benchmarks run end to end on a few requests, so that a refactor of the
serving code cannot leave `make bench` broken until someone next measures (the figures themselves
are only meaningful from `make bench`)."""
import pytest

from bench import serving_bench


@pytest.fixture
def nothing_pushed(tmp_path, monkeypatch):
    """An empty census push destination: the benchmarks measure the stand-in only if asked."""
    monkeypatch.setattr(serving_bench, "CENSUS_ROOT", tmp_path / "census")


def test_without_a_pushed_model_the_benchmarks_stop_unless_a_stand_in_is_asked_for(
        nothing_pushed, capsys):
    for benchmark in (serving_bench.run, serving_bench.run_router):
        with pytest.raises(serving_bench.NoBenchModel,
                           match="no pushed census model under .*census to benchmark: run "
                                 "`make run` first.*--stand-in"):
            benchmark(n=20)
    with pytest.raises(SystemExit, match="2"):
        serving_bench.main(["--requests", "20"])
    assert "pass --stand-in to measure" in capsys.readouterr().err


def test_serving_benchmark_measures_every_ratio_it_has_a_target_for(nothing_pushed):
    result = serving_bench.run(n=20, seconds=0.3, stand_in=True)
    assert result["model"].startswith("stand-in census-like model")
    assert set(result["targets"]) <= set(result["ratios"])
    assert all(result[path]["p50_ms"] > 0 for path in ("in_process", "grpc", "rest"))
    assert result["request_logging"]["records_logged"] > 0
    assert all(ms > 0 for ms in result["native_first_call_ms"].values())
    assert set(result["native_first_call_ms"]) == {"warmup_on", "warmup_off"}
    assert all(us > 0 for us in result["server_cpu_us_per_request"].values())
    assert all(cores > 0 for cores in result["server_cores"].values())
    assert all(0 < busy <= 100 for busy in result["machine_busy_pct"].values())
    reference = "native_tuned_half_plus_two_batching_on_vs_native_tuned_no_model"
    assert result["limits"][reference] > 0 and result["limits"][f"{reference}_if_cpu_bound"] > 0


@pytest.mark.requires("nginx")
def test_router_benchmark_measures_both_apis_direct_and_through_nginx(nothing_pushed):
    result = serving_bench.run_router(n=20, stand_in=True)
    for api in ("rest", "grpc"):
        assert result[f"{api}_direct"]["p50_ms"] > 0 and result[f"{api}_via_nginx"]["p50_ms"] > 0
    assert set(result["added_ms"]) == {"rest_p50", "rest_p99", "grpc_p50", "grpc_p99"}


@pytest.mark.slow
def test_soak_runs_through_the_router_and_reports_what_it_promises():
    result = serving_bench.run_soak(seconds=4, rate=20, window_s=2, stand_in=True)
    assert result["requests"] == 80 and result["failed"] == 0, result["windows"]
    assert set(result["rss_growth_mb"]) == {"stable", "canary"}
    assert len(result["p99_ms_by_window"]) == 2 and result["p99_drift"] > 0
