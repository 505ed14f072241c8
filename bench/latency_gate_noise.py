"""The latency gate's own noise: the gate run against a copy of the stable model, many times.

Two servers (components.infra_validator.model_server, the gate's own) serve the same SavedModel;
each repetition runs the gate (latency_gate.measure_and_decide: its rounds, and a confirmation
measurement when the first says "slower") against both. Every failure is a false failure. The
first measurement's per-round latencies are kept, so the rate without the confirmation is also
reported for fewer rounds (the first k pairs of the same data) and other ratios:
`python -m bench.latency_gate_noise --repetitions 300` prints a table used to choose the
defaults (docs/latency_gate.md).
"""
import argparse
import contextlib
import json
import pathlib
import tempfile
import time
from typing import Dict, List, Optional

import numpy as np

from components import infra_validator, latency_gate


def _requests(model_dir: pathlib.Path, count: int):
    from serving.server import testing

    rows = [testing.example(dict(testing.SAMPLE_ROW, age=20 + i % 50)) for i in range(count)]
    return infra_validator.predict_requests(str(model_dir), rows, "serving_default")


def run(repetitions: int = 300, model_dir: Optional[str] = None,
        settings: latency_gate.GateSettings = latency_gate.GateSettings(),
        ratios=(1.1, 1.25, 1.5), round_counts=(50,)) -> Dict[str, object]:
    """False-failure rates of the gate against a copy of the stable model."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    from serving.server import testing

    ratios_seen: List[List[List[List[float]]]] = []
    with tempfile.TemporaryDirectory(prefix="gate-noise-") as tmp, contextlib.ExitStack() as stack:
        model = pathlib.Path(model_dir) if model_dir else \
            testing.build_census_like(pathlib.Path(tmp) / "model")
        requests = _requests(model, 200)
        sends = []
        for name in ("candidate", "stable"):
            folder = pathlib.Path(tmp) / name
            folder.mkdir()
            address = stack.enter_context(infra_validator.model_server(str(model), folder))
            stub = prediction_service_pb2_grpc.PredictionServiceStub(
                stack.enter_context(grpc.insecure_channel(address)))
            sends.append((lambda s: lambda i: s.Predict(requests[i], timeout=30))(stub))
        started = time.monotonic()
        gate_failures, confirmations = 0, 0
        for _ in range(repetitions):
            verdict = latency_gate.measure_and_decide(
                lambda: latency_gate.measure(sends[0], sends[1], len(requests), settings),
                settings.ratio)
            gate_failures += not verdict.passed
            confirmations += len(verdict.measurements) - 1
            first_candidate, first_stable = verdict.measurements[0]
            ratios_seen.append([first_candidate.rounds, first_stable.rounds])
        seconds = time.monotonic() - started
    table = {}
    for rounds in sorted({r for r in round_counts if r <= settings.rounds} | {settings.rounds}):
        scored = [latency_gate.p95_ratio(c[:rounds], s[:rounds]) for c, s in ratios_seen]
        for rule, measured in (("point estimate", [m[0] for m in scored]),
                               ("CI lower end (the gate's rule)", [m[1] for m in scored])):
            table[f"p95 ratio {rule}, {rounds} rounds"] = {
                "p50": round(float(np.median(measured)), 3),
                "p99": round(float(np.percentile(measured, 99)), 3),
                "max": round(float(np.max(measured)), 3),
                **{f"false_failures_at_{ratio:g}": int(sum(m > ratio for m in measured))
                   for ratio in ratios}}
    return {"repetitions": repetitions, "model": str(model_dir or "census-like test model"),
            f"false_failures_of_the_gate_at_{settings.ratio:g}": gate_failures,
            "confirmation_measurements": confirmations,
            "concurrency": settings.concurrency, "requests_per_round": settings.requests_per_round,
            "seconds_per_repetition": round(seconds / repetitions, 2), "by_rounds": table}


def main() -> None:
    """`python -m bench.latency_gate_noise`: prints the false-failure table as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.latency_gate_noise")
    parser.add_argument("--repetitions", type=int, default=300)
    parser.add_argument("--model-dir", help="a SavedModel (default: the census-like test model)")
    parser.add_argument("--rounds", type=int, default=latency_gate.DEFAULT_ROUNDS)
    parser.add_argument("--requests-per-round", type=int,
                        default=latency_gate.DEFAULT_REQUESTS_PER_ROUND)
    parser.add_argument("--concurrency", type=int, default=latency_gate.DEFAULT_CONCURRENCY)
    args = parser.parse_args()
    settings = latency_gate.GateSettings(rounds=args.rounds,
                                         requests_per_round=args.requests_per_round,
                                         concurrency=args.concurrency)
    print(json.dumps(run(args.repetitions, args.model_dir, settings), indent=1))


if __name__ == "__main__":
    main()
