"""`make bench`: every benchmark, results printed and saved under bench/results/."""
import argparse
import functools
import json
import os
import time

from data.settings import PROJECT_ROOT
from pipelines import quiet

# `cluster` (the census run on the local Flink cluster vs the DirectRunner) needs `make
# cluster-tools` and about an hour; `make bench` leaves it out, `--only cluster` runs it.
SUITES = ("pipeline", "growth", "serving", "native", "router", "soak")
OPT_IN_SUITES = ("cluster",)


def _print_serving(result: dict) -> None:
    print(f"serving benchmark ({result['model']})")
    for path in ("in_process", "grpc", "grpc_native", "grpc_native_tuned", "rest"):
        print(f"  {path:<17} single-row predict  p50 {result[path]['p50_ms']:6.3f} ms   "
              f"p99 {result[path]['p99_ms']:6.3f} ms")
    for name, rps in result["throughput_rps"].items():
        print(f"  {name:<36} {rps:10.1f} rows/s")
    for name, target in result["targets"].items():
        print(f"  {name} = {result['ratios'][name]}  (target {target})")
    first = result.get("native_first_call_ms")
    if first:
        print(f"  native first call after load (ms): {first}")
    print(f"  limits (transport floor, model-free ceilings, half_plus_two): {result['limits']}")
    print(f"  server CPU per request (us): {result['server_cpu_us_per_request']}")
    print(f"  client CPU per request (us): {result['client_cpu_us_per_request']}")
    print(f"  server cores busy: {result['server_cores']}, "
          f"machine busy (%): {result['machine_busy_pct']}")
    logging = result.get("request_logging")
    if logging:
        print(f"  request logging at sampling 1.0: gRPC p50 {logging['grpc_p50_ms']}, 16 clients "
              f"{logging['grpc_16_clients_rps']} rows/s, {logging['records_logged']} records; "
              f"{logging['request_path_us_per_record']} us/record on the request thread, "
              f"{logging['writer_us_per_record']} us/record on the writer thread")


def _print_native(result: dict) -> None:
    print(f"one serving_default call, C API vs Python ({result['model']}, "
          f"{result['iterations']} calls per round)")
    for rows, figures in result["rows"].items():
        calls = ", ".join(f"{name} {figures[name]['cpu_us']:.0f} us CPU / "
                          f"{figures[name]['wall_us']:.0f} us wall"
                          for name in ("c_api", "python_function", "python_session"))
        print(f"  {rows} rows: {calls}; C API / function CPU "
              f"{figures['c_api_cpu_vs_python_function']}; outputs agree: "
              f"{figures['outputs_agree']}")


def _print_router(result: dict) -> None:
    print(f"canary router added latency ({result['model']})")
    for api in ("rest", "grpc"):
        direct, routed = result[f"{api}_direct"], result[f"{api}_via_nginx"]
        print(f"  {api:<4} direct p50 {direct['p50_ms']:6.3f} ms p99 {direct['p99_ms']:6.3f} ms | "
              f"via nginx p50 {routed['p50_ms']:6.3f} ms p99 {routed['p99_ms']:6.3f} ms")
    print(f"  added: {result['added_ms']}")


def _print_soak(result: dict) -> None:
    print(f"soak through the router ({result['model']}): {result['seconds']:.0f} s at "
          f"{result['rate_rps']} req/s, {result['requests']} requests, {result['failed']} failed")
    print(f"  RSS MiB per group (first window -> last): {result['rss_mb']}; growth "
          f"{result['rss_growth_mb']}")
    print(f"  p99 ms per {result['window_s']:.0f} s window: {result['p99_ms_by_window']}; drift "
          f"{result['p99_drift']}")


def _measure_served(parser, benchmark, stand_in: bool) -> dict:
    """A serving benchmark's figures; with no model to measure, `make bench` stops saying why."""
    from bench import serving_bench

    try:
        return benchmark(stand_in=stand_in)
    except serving_bench.NoBenchModel as error:
        parser.exit(2, f"{parser.prog}: {error}\n")


def main() -> None:
    """`python -m bench`: runs the suites and prints their results as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", choices=SUITES + OPT_IN_SUITES, action="append",
                        help="run only this suite (repeatable)")
    parser.add_argument("--soak-seconds", type=float, default=600.0,
                        help="length of the soak (default 600 s)")
    parser.add_argument("--soak-rate", type=float, default=50.0,
                        help="fixed offered rate of the soak, requests/s (default 50)")
    parser.add_argument("--stand-in", action="store_true",
                        help="serving/router/soak: with no pushed census model, measure a small "
                             "census-like stand-in (otherwise they stop and say so)")
    args = parser.parse_args()
    if args.soak_seconds <= 0 or args.soak_rate <= 0:
        parser.error("--soak-seconds and --soak-rate must be positive")
    quiet.import_tensorflow_quietly()
    results = {}
    for suite in args.only or SUITES:
        if suite == "pipeline":
            from bench import pipeline_bench

            results["pipeline"] = pipeline_bench.run()
        elif suite == "growth":
            from bench import growth_bench

            results["growth"] = growth_bench.run()
        elif suite == "cluster":
            from bench import cluster_bench

            results["cluster"] = cluster_bench.run()
        elif suite == "serving":
            from bench import serving_bench

            results["serving"] = _measure_served(parser, serving_bench.run, args.stand_in)
            _print_serving(results["serving"])
        elif suite == "native":
            from bench import native_call

            results["native"] = _measure_served(parser, native_call.run, args.stand_in)
            _print_native(results["native"])
        elif suite == "router":
            from bench import serving_bench

            results["router"] = _measure_served(parser, serving_bench.run_router, args.stand_in)
            _print_router(results["router"])
        else:
            from bench import serving_bench

            results["soak"] = _measure_served(
                parser, functools.partial(serving_bench.run_soak, seconds=args.soak_seconds,
                                          rate=args.soak_rate,
                                          window_s=min(60.0, args.soak_seconds)),
                args.stand_in)
            _print_soak(results["soak"])
    out_dir = PROJECT_ROOT / "bench" / "results"
    os.makedirs(out_dir, exist_ok=True)
    out = out_dir / time.strftime("bench-%Y%m%d-%H%M%S.json")
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
