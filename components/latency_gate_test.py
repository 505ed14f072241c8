"""The latency gate: its statistics and verdict, and real servers side by side: a candidate with a
heavy op added to its serving signature fails, a copy of the stable model passes."""
import json
import os
import pathlib

import pytest
import tensorflow as tf
from tfx.types import standard_artifacts

from components import infra_validator, latency_gate
from serving.rollout import canary
from serving.server import testing


def test_percentiles_come_with_bootstrap_intervals_around_them():
    side = latency_gate.VersionLatency([float(v) for v in range(1, 101)])
    figures = side.percentiles()
    value, low, high = figures["p95"]
    assert value == pytest.approx(95.05)
    assert low <= value <= high and high - low < 20
    assert figures["p50"][0] < figures["p95"][0] < figures["p99"][0]


def test_verdict_needs_zero_failures_and_p95_within_the_ratio():
    stable = latency_gate.VersionLatency([10.0] * 100)
    assert latency_gate.decide(latency_gate.VersionLatency([12.0] * 100), stable, 1.25)[0]
    slow, reason = latency_gate.decide(latency_gate.VersionLatency([13.0] * 100), stable, 1.25)
    assert not slow and "1.30x" in reason and "beyond the allowed 1.25x" in reason
    failing = latency_gate.VersionLatency([5.0] * 99, failures=1, first_error="RpcError: boom")
    passed, reason = latency_gate.decide(failing, stable, 1.25)
    assert not passed and "failed 1 of 100 requests (RpcError: boom)" in reason
    with pytest.raises(ValueError, match="latency ratio must be >= 1.0"):
        latency_gate.GateSettings(ratio=0.5)


def test_rounds_alternate_and_both_versions_get_the_same_requests():
    calls, seen = [], {"c": [], "s": []}

    def sender(name):
        def send(index):
            calls.append(name)
            seen[name].append(index)
        return send

    settings = latency_gate.GateSettings(rounds=4, requests_per_round=5, concurrency=1)
    candidate, stable = latency_gate.measure(sender("c"), sender("s"), 7, settings)
    rounds = [calls[i:i + 5] for i in range(0, len(calls), 5)]
    assert ["".join(sorted(set(r))) for r in rounds] == \
        ["c", "s", "c", "s", "s", "c", "c", "s", "s", "c"]  # warm-up pair, then A/B, B/A, ...
    assert sorted(seen["c"]) == sorted(seen["s"])
    assert candidate.requests == stable.requests == 20 and len(candidate.rounds) == 4


def _rounds(*latencies_ms: float) -> latency_gate.VersionLatency:
    """A version's measurement: one round per latency, four requests each."""
    side = latency_gate.VersionLatency([])
    for value in latencies_ms:
        side.rounds.append([value] * 4)
        side.latencies_ms += [value] * 4
    return side


def test_a_candidate_found_slower_is_measured_again_and_fails_only_if_slower_twice():
    stable = _rounds(*[10.0] * 20)
    burst_then_quiet = iter([(_rounds(*[60.0] * 20), stable), (_rounds(*[10.5] * 20), stable)])
    verdict = latency_gate.measure_and_decide(lambda: next(burst_then_quiet), 1.25)
    assert verdict.passed and len(verdict.measurements) == 2
    assert "a confirmation measurement; the first was not: candidate p95 60.00 ms" in verdict.reason
    verdict = latency_gate.measure_and_decide(lambda: (_rounds(*[60.0] * 20), stable), 1.25)
    assert not verdict.passed and len(verdict.measurements) == 2
    assert "(confirmation measurement; the first: candidate p95 60.00 ms" in verdict.reason
    verdict = latency_gate.measure_and_decide(lambda: (_rounds(*[10.0] * 20), stable), 1.25)
    assert verdict.passed and len(verdict.measurements) == 1
    failing = _rounds(*[10.0] * 20)
    failing.failures, failing.first_error = 1, "RpcError: boom"
    verdict = latency_gate.measure_and_decide(lambda: (failing, stable), 1.25)
    assert not verdict.passed and len(verdict.measurements) == 1  # a failed request: no retry


class _Heavier(tf.Module):
    """The census-like model's serving_default plus a heavy matmul chain whose result it adds
    (times 1e-30, not zero: Grappler would remove that and the matmuls) to the output: the same
    answers, much slower."""

    def __init__(self, inner_path: pathlib.Path, size: int = 500, repeats: int = 4):
        super().__init__()
        self.inner = tf.saved_model.load(str(inner_path))
        self.matrix = tf.Variable(tf.random.stateless_normal([size, size], seed=[1, 2]) / size)
        self.repeats = repeats

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(self, examples):
        product = self.matrix
        for _ in range(self.repeats):
            product = tf.linalg.matmul(product, self.matrix)
        out = self.inner.signatures["serving_default"](examples=examples)
        return {"probabilities": out["probabilities"] + 1e-30 * tf.reduce_sum(product)}


def _serving_dir(tmp_path):
    root = tmp_path / "models"
    stable = testing.build_census_like(root / "census" / "1")
    canary.on_push(root, "census", 1)
    return root / "census", stable


def _candidate(tmp_path, builder):
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / "candidate")
    builder(pathlib.Path(model.uri) / "Format-Serving")
    examples = standard_artifacts.Examples()
    examples.uri = str(tmp_path / "examples")
    examples.split_names = '["train", "eval"]'
    split = pathlib.Path(examples.uri) / "Split-eval"
    split.mkdir(parents=True)
    with tf.io.TFRecordWriter(str(split / "data-00000.gz"), options="GZIP") as writer:
        for age in range(20, 60):
            writer.write(testing.example(dict(testing.SAMPLE_ROW, age=age)))
    blessing = standard_artifacts.InfraBlessing()
    blessing.uri = str(tmp_path / "blessing")
    os.makedirs(blessing.uri)
    return model, examples, blessing


def _validate(tmp_path, builder, serving_dir, skip=False):
    model, examples, blessing = _candidate(tmp_path, builder)
    gate = infra_validator.GateRequest(
        str(serving_dir), latency_gate.GateSettings(), skip)
    return infra_validator.run_validation(model, examples, blessing, 2, gate=gate), blessing


@pytest.mark.slow  # two gate runs with a ~50 ms-a-request candidate: `make test-push-gates`
def test_a_candidate_with_a_heavy_op_fails_the_gate_and_a_copy_of_stable_passes(tmp_path):
    serving_dir, stable = _serving_dir(tmp_path)

    def slow(path):
        module = _Heavier(stable)
        tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})

    passed, blessing = _validate(tmp_path / "slow", slow, serving_dir)
    assert not passed and blessing.get_int_custom_property("blessed") == 0
    assert blessing.get_string_custom_property("latency_gate") == "failed"
    figures = json.loads((pathlib.Path(blessing.uri) / "latency_gate.json").read_text())
    assert figures["p95_ratio"] > 1.25 and \
        figures["candidate_p95_ms"] > 1.25 * figures["stable_p95_ms"], figures
    assert figures["candidate_error_rate"] == 0 and figures["request_source"] == "40 eval rows"
    assert not (pathlib.Path(blessing.uri) / "stamped_model").exists()

    passed, blessing = _validate(tmp_path / "copy", testing.build_census_like, serving_dir)
    assert passed, blessing.get_string_custom_property("latency_gate_reason")
    assert blessing.get_string_custom_property("latency_gate") == "passed"
    assert blessing.get_float_custom_property("latency_gate_stable_p95_ms") > 0


def test_first_run_and_the_skip_flag_skip_the_gate_saying_why(tmp_path):
    passed, blessing = _validate(tmp_path / "first", testing.build_census_like, tmp_path / "none")
    assert passed and blessing.get_string_custom_property("latency_gate") == "skipped"
    assert "first run" in blessing.get_string_custom_property("latency_gate_reason")
    serving_dir, _ = _serving_dir(tmp_path)
    passed, blessing = _validate(tmp_path / "skip", testing.build_census_like, serving_dir, True)
    assert passed and blessing.get_string_custom_property(
        "latency_gate_reason") == "--skip-latency-gate"
