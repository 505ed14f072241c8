"""Decision rules and Prometheus histogram quantiles of `tfxp canary watch`."""
import pytest

from serving.canary_watch import Rules, VersionStats, decide, parse_duration, parse_steps
from serving.configs import ConfigError


def stats(requests, errors=0, p99_bucket=0.005):
    """All successful requests in the bucket ending at p99_bucket."""
    ok = requests - errors
    return VersionStats(requests, errors, {0.001: 0, p99_bucket: ok, float("inf"): ok})


def test_quantile_interpolates_inside_the_bucket_like_histogram_quantile():
    s = VersionStats(100, 0, {0.01: 50, 0.02: 100, float("inf"): 100})
    assert s.quantile(0.5) == pytest.approx(0.01)
    assert s.quantile(0.75) == pytest.approx(0.015)
    assert VersionStats().quantile(0.99) is None


def test_rules():
    rules = Rules(max_error_margin=0.01, max_p99_ratio=1.5, latency_floor=0.005, min_requests=100)
    assert decide(stats(1000), stats(50), rules)[0] == "hold"
    assert decide(stats(1000), stats(120), rules)[0] == "pass"
    # 3 failures already exceed 1% of the 100 required requests: no need to wait for the rest
    assert decide(stats(1000), stats(20, errors=3), rules)[0] == "rollback"
    assert decide(stats(1000, errors=50), stats(120, errors=6), rules)[0] == "pass"
    assert decide(stats(1000), stats(120, p99_bucket=0.05), rules)[0] == "rollback"
    # below the latency floor, bucket noise cannot trip the ratio
    assert decide(stats(1000, p99_bucket=0.001), stats(120, p99_bucket=0.005), rules)[0] == "pass"


def test_arguments_are_checked():
    assert parse_duration("30s") == 30 and parse_duration("500ms") == 0.5
    assert parse_duration("2m") == 120 and parse_duration(3) == 3
    assert parse_steps("10,25,50,100") == [10, 25, 50, 100]
    for bad in ("0,50", "50,25", "10,200", "x"):
        with pytest.raises(ConfigError):
            parse_steps(bad)
    with pytest.raises(ConfigError, match="invalid duration"):
        parse_duration("soon")
