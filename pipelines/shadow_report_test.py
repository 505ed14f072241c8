"""The shadow report's thresholds, on reports built by hand: each breach is named in words and
turns the exit code to 4 (the served end-to-end test judges agreement, with a lax 100x p95 ratio)."""
from pipelines.shadow_report import ShadowReport, ShadowThresholds, breaches


def _report(pairs=100, agreeing=100, stable_p95=2.0, shadow_p95=2.0, shadow_errors=(0.0, 100.0)):
    return ShadowReport(model="census", stable=1, shadow=2, pairs=pairs, agreeing=agreeing,
                        kind="classification", max_difference=0.0, mean_difference=0.0,
                        disagreements=[],
                        latency_ms={1: {"p50": 1.0, "p95": stable_p95, "p99": 3.0},
                                    2: {"p50": 1.0, "p95": shadow_p95, "p99": 3.0}},
                        errors={1: (0.0, 100.0), 2: shadow_errors}, breaches=[])


def _judged(report, thresholds=ShadowThresholds()):
    report.breaches = breaches(report, thresholds)
    return report


def test_a_shadow_within_every_threshold_passes():
    report = _judged(_report(stable_p95=2.0, shadow_p95=2.5))
    assert report.breaches == [] and report.exit_code == 0


def test_a_slow_shadow_is_named_with_both_p95s():
    report = _judged(_report(stable_p95=2.0, shadow_p95=2.6))
    assert report.breaches == ["shadow p95 2.60 ms is over 1.25x stable's 2.00 ms"]
    assert report.exit_code == 4
    assert _judged(_report(stable_p95=2.0, shadow_p95=2.6),
                   ShadowThresholds(max_p95_ratio=1.5)).exit_code == 0


def test_latency_is_not_judged_without_a_p95_for_both_versions():
    assert _judged(_report(stable_p95=None, shadow_p95=50.0)).breaches == []
    assert _judged(_report(stable_p95=2.0, shadow_p95=None)).breaches == []


def test_shadow_errors_and_disagreement_are_each_named():
    report = _judged(_report(agreeing=98, shadow_errors=(1.0, 100.0)))
    assert report.breaches == ["agreement 98.00% is below 99.00%",
                               "shadow failed 1 of 100 requests"]
    assert report.exit_code == 4


def test_no_pairs_is_a_breach_not_a_pass():
    report = _judged(_report(pairs=0, agreeing=0))
    assert report.exit_code == 4 and "no request was answered by both" in report.breaches[0]
