"""`make bench`: every benchmark, results printed and saved under bench/results/."""
import argparse
import json
import os
import time

from data.common import PROJECT_ROOT

SUITES = ("pipeline", "serving")


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
        else:
            from bench import serving_bench

            results["serving"] = serving_bench.run()
    out_dir = PROJECT_ROOT / "bench" / "results"
    os.makedirs(out_dir, exist_ok=True)
    out = out_dir / time.strftime("bench-%Y%m%d-%H%M%S.json")
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
