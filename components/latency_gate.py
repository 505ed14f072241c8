"""The infra validator's latency gate: the candidate against the version labelled stable, served
side by side on this machine with the same server configuration.

The same request set (the stable version's logged requests when there are any, else rows of the
eval split, as serialized tf.Examples to `serving_default`) is replayed against both at a fixed
concurrency, in alternating rounds (A/B, B/A, A/B, ...) so that the machine's noise falls on both
alike. Per version: p50/p95/p99 latency and error rate with bootstrap confidence intervals.

The candidate passes only if it failed no request and its p95 is within `ratio` times stable's:
it fails when the p95 ratio over all rounds is beyond `ratio` with 99% confidence, from a
bootstrap that resamples round pairs, in two measurements running (a candidate found slower is
measured again, and fails only if found slower again). Rounds are short (one request per client thread), so a
burst from another process on a shared machine lands on both versions alike; the interval
absorbs what is left of it instead of failing a candidate that is no slower.

Its false-failure rate (the gate run against a copy of the stable model) is measured by
`python -m bench.latency_gate_noise`; the defaults below keep it under 1 in 100 on a loaded
2-core machine (docs/push_gates.md).
"""
import dataclasses
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

DEFAULT_RATIO = 1.25
DEFAULT_ROUNDS = 100  # per version, alternating
DEFAULT_REQUESTS_PER_ROUND = 4
DEFAULT_CONCURRENCY = 4
BOOTSTRAP_RESAMPLES = 1000
CONFIDENCE = 99  # the gate fails a candidate whose p95 ratio is beyond the limit at this level
PERCENTILES = (50, 95, 99)


@dataclasses.dataclass(frozen=True)
class GateSettings:
    """How the gate measures and decides (ModelSpec.latency_p95_ratio sets `ratio`)."""

    ratio: float = DEFAULT_RATIO
    rounds: int = DEFAULT_ROUNDS
    requests_per_round: int = DEFAULT_REQUESTS_PER_ROUND
    concurrency: int = DEFAULT_CONCURRENCY

    def __post_init__(self):
        if self.ratio < 1.0:
            raise ValueError(f"latency ratio must be >= 1.0 (candidate p95 / stable p95), "
                             f"got {self.ratio}")
        if min(self.rounds, self.requests_per_round, self.concurrency) < 1:
            raise ValueError("latency gate rounds, requests per round and concurrency must be "
                             f">= 1, got {self.rounds}, {self.requests_per_round}, "
                             f"{self.concurrency}")


@dataclasses.dataclass
class VersionLatency:
    """One version's replay: latencies of answered requests (ms) and the failure count."""

    latencies_ms: List[float]
    failures: int = 0
    first_error: str = ""
    rounds: List[List[float]] = dataclasses.field(default_factory=list)  # per measured round

    @property
    def requests(self) -> int:
        """Requests sent."""
        return len(self.latencies_ms) + self.failures

    @property
    def error_rate(self) -> float:
        """Failed requests / requests sent."""
        return self.failures / self.requests if self.requests else 0.0

    def percentiles(self, seed: int = 0) -> Dict[str, Tuple[float, float, float]]:
        """{"p50"|"p95"|"p99": (value, CI low, CI high)} in ms, 95% bootstrap intervals."""
        values = np.asarray(self.latencies_ms, dtype=float)
        if not len(values):
            return {f"p{p}": (float("nan"),) * 3 for p in PERCENTILES}
        rng = np.random.default_rng(seed)
        samples = values[rng.integers(0, len(values), size=(BOOTSTRAP_RESAMPLES, len(values)))]
        result = {}
        for p in PERCENTILES:
            boot = np.percentile(samples, p, axis=1)
            result[f"p{p}"] = (float(np.percentile(values, p)),
                               float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5)))
        return result


@dataclasses.dataclass
class GateResult:
    """The gate's verdict with the figures it was decided from."""

    passed: bool
    reason: str
    settings: GateSettings
    candidate: VersionLatency
    stable: VersionLatency
    stable_version: Optional[int]
    request_source: str
    seconds: float
    measurements: int = 1  # 2 when a first "slower" was measured again

    def figures(self) -> Dict[str, object]:
        """Flat numbers for the blessing's properties and the report (ms, rates)."""
        out: Dict[str, object] = {
            "passed": int(self.passed), "reason": self.reason, "ratio": self.settings.ratio,
            "rounds": self.settings.rounds, "concurrency": self.settings.concurrency,
            "requests_per_round": self.settings.requests_per_round,
            "stable_version": self.stable_version or 0, "request_source": self.request_source,
            "seconds": round(self.seconds, 2), "measurements": self.measurements}
        measured = p95_ratio(self.candidate.rounds, self.stable.rounds)
        out["p95_ratio"] = round(measured[0], 3)
        out["p95_ratio_ci"] = f"{measured[1]:.3f}-{measured[2]:.3f}"
        for name, side in (("candidate", self.candidate), ("stable", self.stable)):
            out[f"{name}_requests"] = side.requests
            out[f"{name}_error_rate"] = side.error_rate
            for key, (value, low, high) in side.percentiles().items():
                out[f"{name}_{key}_ms"] = round(value, 3)
                out[f"{name}_{key}_ci_ms"] = f"{low:.3f}-{high:.3f}"
        return out


def p95_ratio(candidate_rounds: Sequence[Sequence[float]],
              stable_rounds: Sequence[Sequence[float]], seed: int = 0
              ) -> Tuple[float, float, float]:
    """(candidate p95 / stable p95 over all rounds, CI low, CI high): a 98% interval from a
    bootstrap that resamples round pairs (A/B rounds run next to each other share the machine's
    state, so pairs, not requests, are the independent units)."""
    pairs = [(np.asarray(c, dtype=float), np.asarray(s, dtype=float))
             for c, s in zip(candidate_rounds, stable_rounds) if len(c) and len(s)]
    if not pairs:
        return (float("inf"),) * 3

    def ratio(chosen) -> float:
        candidate = np.concatenate([pairs[i][0] for i in chosen])
        stable = np.concatenate([pairs[i][1] for i in chosen])
        return float(np.percentile(candidate, 95) / np.percentile(stable, 95))

    rng = np.random.default_rng(seed)
    boot = [ratio(rng.integers(0, len(pairs), size=len(pairs)))
            for _ in range(BOOTSTRAP_RESAMPLES)]
    return (ratio(range(len(pairs))), float(np.percentile(boot, 100 - CONFIDENCE)),
            float(np.percentile(boot, CONFIDENCE)))


def decide(candidate: VersionLatency, stable: VersionLatency, ratio: float) -> Tuple[bool, str]:
    """(passed, reason in words): the candidate fails on any failed request, or when its p95 is
    beyond `ratio` times stable's with 99% confidence (the lower end of p95_ratio's interval)."""
    if candidate.failures:
        return False, (f"the candidate failed {candidate.failures} of {candidate.requests} "
                       f"requests ({candidate.first_error})")
    if not stable.latencies_ms:
        return False, f"the stable version answered no request ({stable.first_error})"
    measured, low, high = p95_ratio(candidate.rounds or [candidate.latencies_ms],
                                    stable.rounds or [stable.latencies_ms])
    passed = low <= ratio
    verdict = "within" if passed else "beyond"
    return passed, (
        f"candidate p95 {np.percentile(candidate.latencies_ms, 95):.2f} ms is {measured:.2f}x "
        f"stable's {np.percentile(stable.latencies_ms, 95):.2f} ms (98% CI {low:.2f}-{high:.2f}), "
        f"{verdict} the allowed {ratio:g}x")


def replay_round(send: Callable[[int], None], count: int, concurrency: int,
                 into: VersionLatency) -> None:
    """Sends requests 0..count-1 through `send` from `concurrency` threads; records each one's
    latency (ms) or its failure."""
    lock = threading.Lock()
    next_index = [0]

    def worker():
        while True:
            with lock:
                index = next_index[0]
                next_index[0] += 1
            if index >= count:
                return
            started = time.perf_counter()
            try:
                send(index)
            except Exception as error:  # any failed request counts against its version
                with lock:
                    into.failures += 1
                    into.first_error = into.first_error or f"{type(error).__name__}: {error}"[:300]
                continue
            elapsed = (time.perf_counter() - started) * 1000.0
            with lock:
                into.latencies_ms.append(elapsed)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def measure(send_candidate: Callable[[int], None], send_stable: Callable[[int], None],
            request_count: int, settings: GateSettings) -> Tuple[VersionLatency, VersionLatency]:
    """Alternating rounds A/B, B/A, ...: each round replays `requests_per_round` requests
    (cycling through the request set) against one version. One unmeasured warm-up round each."""
    candidate, stable = VersionLatency([]), VersionLatency([])
    offset = [0]

    def sender(send):
        base = offset[0]
        return lambda i: send((base + i) % request_count)

    for send in (send_candidate, send_stable):
        replay_round(sender(send), min(request_count, settings.requests_per_round),
                     settings.concurrency, VersionLatency([]))
    for round_index in range(settings.rounds):
        pair = [(send_candidate, candidate), (send_stable, stable)]
        for send, into in (pair if round_index % 2 == 0 else pair[::-1]):
            this_round = VersionLatency([])
            replay_round(sender(send), settings.requests_per_round, settings.concurrency,
                         this_round)
            into.latencies_ms += this_round.latencies_ms
            into.rounds.append(this_round.latencies_ms)
            into.failures += this_round.failures
            into.first_error = into.first_error or this_round.first_error
        offset[0] = (offset[0] + settings.requests_per_round) % request_count
    return candidate, stable


@dataclasses.dataclass
class Verdict:
    """The gate's decision over its measurements: the last one decides (a second is taken only
    when the first says "slower"), and every measurement is kept for the figures."""

    passed: bool
    reason: str
    measurements: List[Tuple[VersionLatency, VersionLatency]]


def measure_and_decide(measure_once: Callable[[], Tuple[VersionLatency, VersionLatency]],
                       ratio: float) -> Verdict:
    """Measures (`measure_once`: one run of `measure`, candidate and stable) and decides; a
    candidate found slower (with no failed request) is measured once more and fails only if the
    second measurement says so too. A real regression is slower in both; a burst from another
    process on a shared machine rarely strikes two measurements alike (measured:
    bench.latency_gate_noise, docs/push_gates.md)."""
    measurements = [measure_once()]
    passed, reason = decide(*measurements[0], ratio)
    if not passed and not measurements[0][0].failures and measurements[0][1].latencies_ms:
        first = reason
        measurements.append(measure_once())
        passed, reason = decide(*measurements[1], ratio)
        reason = (f"{reason} (confirmation measurement; the first: {first})" if not passed else
                  f"{reason} (a confirmation measurement; the first was not: {first})")
    return Verdict(passed, reason, measurements)


def serialized_examples_from_logs(logs: Sequence) -> List[bytes]:
    """The serialized tf.Examples of logged requests (PredictionLog: predict with one string
    input, classify, regress); other requests are left out."""
    import tensorflow as tf

    found: List[bytes] = []
    for log in logs:
        kind = log.WhichOneof("log_type")
        if kind == "predict_log":
            inputs = log.predict_log.request.inputs
            if len(inputs) == 1:
                tensor = next(iter(inputs.values()))
                if tensor.dtype == tf.string.as_datatype_enum:
                    found += list(tensor.string_val)
        elif kind in ("classify_log", "regress_log"):
            request_input = getattr(log, kind).request.input
            found += [e.SerializeToString() for e in request_input.example_list.examples]
    return found
