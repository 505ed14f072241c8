"""The `serve`, `predict` and `canary` subcommands, registered on the main `tfxp` parser.

pipelines/cli.py calls add_serve_parser / add_predict_parser / add_canary_parser with its
subparsers; each subcommand sets `func(args) -> exit code`. Heavy imports happen inside the
commands so `tfxp --help` and `tfxp canary status` stay fast.
"""
import argparse
import inspect
import json
import pathlib
import sys
from typing import List, Optional

from data import settings
from serving.config import configs
from serving.config.flag_spellings import add_flag


def _add_command(subparsers, name: str, func, summary: str) -> argparse.ArgumentParser:
    """A subcommand whose `func(args)` returns the exit code; `summary` is its line in
    `tfxp --help`, and `func`'s docstring heads `tfxp NAME --help`, so what the command does is
    written once, on the code that does it."""
    parser = subparsers.add_parser(name, help=summary, description=inspect.cleandoc(func.__doc__))
    parser.set_defaults(func=func)
    return parser


def _add_models_root(parser: argparse.ArgumentParser) -> None:
    add_flag(parser, "--models-root", "--models_root", type=pathlib.Path,
             default=settings.SERVING_ROOT,
             help="the served models root: <model>/<version>/ and models.config "
                  "(default serving/models)")


def _failed(command: str, error: Exception) -> int:
    """The one-line report of an expected failure (bad config, unreachable server); exit code 1."""
    print(f"tfxp {command}: {error}", file=sys.stderr)
    return 1


def serving_parser(prog: str = "tfxp") -> argparse.ArgumentParser:
    """The serve, predict and canary subcommands on a parser of their own, registered as
    pipelines/cli.py registers them on `tfxp` (for tests and embedding)."""
    parser = argparse.ArgumentParser(prog=prog)
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_serve_parser(subparsers)
    add_predict_parser(subparsers)
    add_canary_parser(subparsers)
    return parser


def parse_flags(parser: argparse.ArgumentParser,
                argv: Optional[List[str]]) -> argparse.Namespace:
    """Parse `argv` the way old tensorflow_model_server start-up scripts need: a --flag only the
    real server knows is kept in `ignored_flags` (warned about at start) instead of ending the
    parse. Only a command whose parser went through `add_server_flags` keeps unknown flags; for
    any other command of the same parser (e.g. `tfxp run --typo`) they stay an error."""
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if not getattr(args, "keeps_unknown_flags", False):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.ignored_flags = list(args.ignored_flags) + unknown
    return args


def server_parser(prog: str = "python -m serving") -> argparse.ArgumentParser:
    """The stand-alone parser of `python -m serving`; parsed with `parse_flags`, it is tolerant like
    `tfxp serve`, so a start-up script written for tensorflow_model_server runs as it is."""
    from serving.server.server import add_server_flags
    parser = argparse.ArgumentParser(prog=prog,
                                     description="TF-Serving-compatible local model server.")
    add_server_flags(parser)
    return parser


def server_main(argv: Optional[List[str]] = None) -> int:
    """`python -m serving`: parse tensorflow_model_server's flags and serve until a signal."""
    from serving.server.server import run
    return run(parse_flags(server_parser(), argv))


def add_serve_parser(subparsers) -> argparse.ArgumentParser:
    """`tfxp serve [tensorflow_model_server flags]`; unknown flags are warned about, not fatal."""
    from serving.server.server import add_server_flags
    parser = _add_command(subparsers, "serve", _serve,
                          "serve pushed models over TF Serving's REST and gRPC APIs")
    add_server_flags(parser)
    return parser


def _serve(args) -> int:
    """Local drop-in for tensorflow_model_server (same --flag=value flags). Without config flags it
    serves serving/models/models.config."""
    from serving.server.server import run
    return run(args)


def add_predict_parser(subparsers) -> argparse.ArgumentParser:
    """`tfxp predict`: a client for a running server, so a push can be checked by hand (and a
    canary's share of traffic seen) without writing code."""
    parser = _add_command(subparsers, "predict", _predict,
                          "send rows to a served model (REST or gRPC), or split stable/canary")
    parser.add_argument("--model", required=True)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--label", help="version label, e.g. stable or canary")
    which.add_argument("--version", type=int, help="model version number")
    parser.add_argument("--signature", default="serving_default")
    parser.add_argument("--grpc", action="store_true", help="use gRPC instead of REST")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--json", help="JSON file: a list of rows or {\"instances\": [...]}")
    source.add_argument("--csv", help="CSV file with a header line")
    parser.add_argument("--schema", metavar="SCHEMA_PBTXT",
                        help="the model's TFDV schema: each feature it names is sent in its type "
                             "(a pushed version has it in assets.extra/training_data/)")
    parser.add_argument("--host", default="localhost")
    add_flag(parser, "--rest-port", "--rest_port", type=int, default=8501)
    add_flag(parser, "--grpc-port", "--grpc_port", type=int, default=8500)
    add_flag(parser, "--canary-fraction", "--canary_fraction", type=float, default=None,
                        help="fraction of requests sent to label canary (rest go to stable)")
    parser.add_argument("--requests", type=int, default=100,
                        help="number of requests in canary-split mode")
    return parser


def _predict(args) -> int:
    """Predict with rows from a JSON or CSV file. With --canary-fraction, send single-row requests
    split between labels canary and stable and report per-label counts and latencies."""
    import numpy as np
    from serving.client import (SCHEMA_HINT, TYPE_MISMATCH, ServingClientError, canary_split,
                                load_rows, make_client)
    try:
        rows = load_rows(args.json, args.csv, args.schema)
        client = make_client(args.grpc, args.host, args.rest_port, args.grpc_port)
        if args.canary_fraction is not None:
            if args.label or args.version is not None:
                raise ValueError("--canary-fraction chooses the labels itself; drop --label/--version")
            report = canary_split(client, args.model, rows, args.canary_fraction, args.requests,
                                  args.signature)
            print(json.dumps(report, indent=2))
            return 0 if all(v["errors"] == 0 for v in report.values()) else 1
        outputs = client.predict(args.model, rows, args.signature, args.version, args.label)
    except ServingClientError as e:
        hint = f"\n{SCHEMA_HINT}" if TYPE_MISMATCH in str(e) and not args.schema else ""
        return _failed("predict", ServingClientError(f"{e}{hint}"))
    except (ValueError, OSError) as e:
        return _failed("predict", e)
    from serving.server.json_codec import to_json_value
    print(json.dumps({k: to_json_value(v.astype(np.float32) if v.dtype == np.float64 else v, k)
                      for k, v in outputs.items()}, indent=1))
    return 0


def add_canary_parser(subparsers) -> argparse.ArgumentParser:
    """`tfxp canary ACTION`: the canary lifecycle by hand, or `watch` to let live metrics decide."""
    parser = _add_command(subparsers, "canary", _canary,
                          "canary lifecycle: status, start, set-weight, promote, rollback, watch")
    _add_models_root(parser)
    add_flag(parser, "--k8s-dir", "--k8s_dir", type=pathlib.Path, default=None,
                        help="also regenerate the Kubernetes manifests there (e.g. serving/rollout/k8s)")
    actions = parser.add_subparsers(dest="canary_command", required=True, metavar="ACTION")
    actions.add_parser("status", help="per model: stable, canary, weight, versions on disk")
    start = actions.add_parser("start", help="newest pushed version (or --version) becomes canary")
    start.add_argument("model")
    start.add_argument("--version", type=int)
    start.add_argument("--weight", default="10",
                       help="percent of the model's unlabeled traffic sent to the canary "
                            "(default 10)")
    weight = actions.add_parser("set-weight", help="percent of unlabeled traffic for the canary")
    weight.add_argument("model")
    weight.add_argument("weight")
    for name, text in (("promote", "canary becomes stable"),
                       ("rollback", "drop the canary, or move stable back one version")):
        actions.add_parser(name, help=text).add_argument("model")
    shadow = actions.add_parser(
        "shadow", help="MODEL [--version N]: version N (default newest) gets a copy of every "
                       "request the stable group answers, clients only see stable's answers; "
                       "`shadow stop MODEL` (or `start`) ends it")
    shadow.add_argument("words", nargs="+", metavar="[stop] MODEL")
    shadow.add_argument("--version", type=int)
    watch = actions.add_parser("watch", help="step the weight up from live metrics, then promote "
                                             "or roll back")
    watch.add_argument("model")
    watch.add_argument("--steps", default="10,25,50,100", help="weights in percent")
    watch.add_argument("--interval", default="30s", help="time between looks, e.g. 30s, 500ms")
    add_flag(watch, "--min-requests", "--min_requests", type=int, default=100,
                       help="canary requests needed in a step before it can pass")
    add_flag(watch, "--max-error-margin", "--max_error_margin", type=float, default=0.01,
                       help="allowed canary error rate above stable's (absolute, default 0.01)")
    add_flag(watch, "--max-p99-ratio", "--max_p99_ratio", type=float, default=1.5,
                       help="allowed canary p99 / stable p99 (default 1.5)")
    add_flag(watch, "--latency-floor-ms", "--latency_floor_ms", type=float, default=10.0,
                       help="p99s below this count as equal to it, so noise between fast "
                            "versions is no breach (default 10)")
    watch.add_argument("--shadow", action="store_true",
                       help="first a shadow phase: the canary gets a copy of the traffic and is "
                            "judged by the same rules before any user gets its answers")
    watch.add_argument("--timeout", default=None,
                       help="roll back when no decision is reached in this time (e.g. 30m)")
    for group in ("stable", "canary"):
        add_flag(watch, f"--{group}-metrics", f"--{group}_metrics", action="append",
                           default=None, dest=f"{group}_metrics",
                           help=f"Prometheus URL of a {group}-group server (repeat per pod; "
                                "tfxp or tensorflow_model_server metrics; default: the running "
                                "local router's groups)")
    return parser


def _canary(args) -> int:
    """Edits serving/models/models.config, the two group configs and the router weights
    (validated, atomic); a running router (`tfxp router`) and its groups are reloaded without
    dropping a request."""
    from serving.rollout import canary
    try:
        if args.canary_command == "status":
            result = canary.status(args.models_root)
        elif args.canary_command == "start":
            result = canary.start(args.models_root, args.model, args.version, args.weight)
        elif args.canary_command == "set-weight":
            result = canary.set_weight(args.models_root, args.model, args.weight)
        elif args.canary_command == "promote":
            result = canary.promote(args.models_root, args.model)
        elif args.canary_command == "rollback":
            result = canary.rollback(args.models_root, args.model)
        elif args.canary_command == "shadow":
            result = _shadow(canary, args)
        else:
            return _watch(args)
        if args.canary_command != "status":
            _write_k8s(args)
    except (configs.ConfigError, OSError) as e:
        return _failed(f"canary {args.canary_command}", e)
    print(json.dumps(result, indent=2))
    return 0


def _shadow(canary, args):
    """`canary shadow MODEL [--version N]` or `canary shadow stop MODEL`."""
    words = args.words
    if len(words) == 2 and words[0] == "stop":
        if args.version is not None:
            raise configs.ConfigError("`canary shadow stop` takes no --version")
        return canary.stop_shadow(args.models_root, words[1])
    if len(words) != 1 or words == ["stop"]:
        raise configs.ConfigError(f"expected `canary shadow MODEL [--version N]` or "
                                  f"`canary shadow stop MODEL`, got {' '.join(words)!r}")
    result = canary.shadow(args.models_root, words[0], args.version)
    entry = configs.model_entry(
        configs.read_models_config(pathlib.Path(args.models_root) / configs.MODELS_CONFIG), words[0])
    if not entry.logging_config.log_collector_config.filename_prefix:
        print(f"note: {words[0]} logs no requests, so `tfxp shadow report {words[0]}` will have "
              f"nothing to compare: add a logging_config to its entry in "
              f"{pathlib.Path(args.models_root) / configs.MODELS_CONFIG} (docs/shadow.md)",
              file=sys.stderr)
    return result


def _write_k8s(args) -> None:
    if args.k8s_dir is not None:
        from serving.rollout import manifests
        manifests.write_manifests(args.models_root, args.k8s_dir)


def _watch(args) -> int:
    """Exit code 0 when the canary was promoted, 3 when it was rolled back."""
    from serving.rollout import canary_watch
    rules = canary_watch.Rules(args.max_error_margin, args.max_p99_ratio,
                               args.latency_floor_ms / 1000, args.min_requests)
    urls = None
    if args.stable_metrics or args.canary_metrics:
        if not (args.stable_metrics and args.canary_metrics):
            raise configs.ConfigError("give both --stable-metrics and --canary-metrics")
        urls = {"stable": args.stable_metrics, "canary": args.canary_metrics}
    record = canary_watch.watch(
        args.models_root, args.model, canary_watch.parse_steps(args.steps),
        canary_watch.parse_duration(args.interval), rules, urls,
        None if args.timeout is None else canary_watch.parse_duration(args.timeout),
        echo=lambda line: print(line, flush=True), on_change=lambda: _write_k8s(args),
        shadow=args.shadow)
    print(f"canary watch {args.model}: {record['outcome']}")
    return 0 if record["outcome"] == "promoted" else 3


def add_router_parser(subparsers) -> argparse.ArgumentParser:
    """`tfxp router`: the canary split on one machine, as the Kubernetes manifests run it."""
    parser = _add_command(subparsers, "router", _router,
                          "nginx in front of a stable and a canary serving group (weighted split)")
    _add_models_root(parser)
    parser.add_argument("--port", type=int, default=8500, help="router gRPC port (default 8500)")
    add_flag(parser, "--rest-api-port", "--rest_api_port", type=int, default=8501,
                        help="router REST port (default 8501)")
    add_flag(parser, "--ssl-config-file", "--ssl_config_file", type=pathlib.Path,
                        default=None,
                        help="TF Serving's SSLConfig text proto: nginx terminates TLS on both "
                             "ports with its key and certificate, and with client_verify admits "
                             "only clients whose certificate custom_ca signed")
    return parser


def _router(args) -> int:
    """Starts two local model servers (stable.config and canary.config, generated from
    models.config) on free ports and nginx on --port (gRPC) and --rest-api-port (REST), splitting
    each model's traffic by its canary weight."""
    from serving.rollout import router
    try:
        stack = router.LocalStack(args.models_root, args.rest_api_port, args.port,
                                  ssl_config_file=args.ssl_config_file).start()
    except (configs.ConfigError, OSError) as e:
        return _failed("router", e)
    tls = " (TLS)" if args.ssl_config_file else ""
    print(f"router{tls}: REST 127.0.0.1:{args.rest_api_port}, gRPC 127.0.0.1:{args.port}; groups "
          + ", ".join(f"{g} REST {p['rest_port']} gRPC {p['grpc_port']}"
                      for g, p in stack.groups.items()), flush=True)
    return stack.wait()
