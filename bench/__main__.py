"""`make bench`: every benchmark, results printed and saved under bench/results/."""
import argparse
import json
import os
import time

from data.common import PROJECT_ROOT

SUITES = ("pipeline", "growth", "serving")


def _print_serving(result: dict) -> None:
    print(f"serving benchmark ({result['model']})")
    for path in ("in_process", "grpc", "rest"):
        print(f"  {path:<11} single-row predict  p50 {result[path]['p50_ms']:6.3f} ms   "
              f"p99 {result[path]['p99_ms']:6.3f} ms")
    for name, rps in result["throughput_rps"].items():
        print(f"  {name:<32} {rps:10.1f} rows/s")
    for name, target in result["targets"].items():
        print(f"  {name} = {result['ratios'][name]}  (target {target})")
    print(f"  transport floor (no model): {result['limits']}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", choices=SUITES, action="append",
                        help="run only this suite (repeatable)")
    args = parser.parse_args()
    results = {}
    for suite in args.only or SUITES:
        if suite == "pipeline":
            from bench import pipeline_bench

            results["pipeline"] = pipeline_bench.run()
        elif suite == "growth":
            from bench import growth_bench

            results["growth"] = growth_bench.run()
        else:
            from bench import serving_bench

            results["serving"] = serving_bench.run()
            _print_serving(results["serving"])
    out_dir = PROJECT_ROOT / "bench" / "results"
    os.makedirs(out_dir, exist_ok=True)
    out = out_dir / time.strftime("bench-%Y%m%d-%H%M%S.json")
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
