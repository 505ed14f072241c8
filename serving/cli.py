"""The `serve`, `predict` and `canary` subcommands, registered on the main `tfxp` parser.

pipelines/cli.py calls add_serve_parser / add_predict_parser / add_canary_parser with its
subparsers; each subcommand sets `func(args) -> exit code`. Heavy imports happen inside the
commands so `tfxp --help` and `tfxp canary status` stay fast.
"""
import argparse
import json
import pathlib
import sys

from serving import configs


def add_serve_parser(subparsers) -> argparse.ArgumentParser:
    """`tfxp serve [tensorflow_model_server flags]`; unknown flags are warned about, not fatal."""
    from serving.server import add_server_flags, make_tolerant
    parser = subparsers.add_parser(
        "serve", help="serve pushed models over TF Serving's REST and gRPC APIs",
        description="Local drop-in for tensorflow_model_server (same --flag=value flags). "
                    "Without config flags it serves serving/models/models.config.")
    add_server_flags(parser)
    make_tolerant(parser)
    parser.set_defaults(func=_serve)
    return parser


def _serve(args) -> int:
    from serving.server import run
    return run(args)


def add_predict_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "predict", help="send rows to a served model (REST or gRPC), or split stable/canary",
        description="Predict with rows from a JSON or CSV file. With --canary-fraction, send "
                    "single-row requests split between labels canary and stable and report "
                    "per-label counts and latencies.")
    parser.add_argument("--model", required=True)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--label", help="version label, e.g. stable or canary")
    which.add_argument("--version", type=int, help="model version number")
    parser.add_argument("--signature", default="serving_default")
    parser.add_argument("--grpc", action="store_true", help="use gRPC instead of REST")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--json", help="JSON file: a list of rows or {\"instances\": [...]}")
    source.add_argument("--csv", help="CSV file with a header line")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--rest_port", "--rest-port", type=int, default=8501)
    parser.add_argument("--grpc_port", "--grpc-port", type=int, default=8500)
    parser.add_argument("--canary-fraction", "--canary_fraction", type=float, default=None,
                        help="fraction of requests sent to label canary (rest go to stable)")
    parser.add_argument("--requests", type=int, default=100,
                        help="number of requests in canary-split mode")
    parser.set_defaults(func=_predict)
    return parser


def _predict(args) -> int:
    import numpy as np
    from serving.client import ServingClientError, canary_split, load_rows, make_client
    try:
        rows = load_rows(args.json, args.csv)
        client = make_client(args.grpc, args.host, args.rest_port, args.grpc_port)
        if args.canary_fraction is not None:
            if args.label or args.version is not None:
                raise ValueError("--canary-fraction chooses the labels itself; drop --label/--version")
            report = canary_split(client, args.model, rows, args.canary_fraction, args.requests,
                                  args.signature)
            print(json.dumps(report, indent=2))
            return 0 if all(v["errors"] == 0 for v in report.values()) else 1
        outputs = client.predict(args.model, rows, args.signature, args.version, args.label)
    except (ServingClientError, ValueError, OSError) as e:
        print(f"tfxp predict: {e}", file=sys.stderr)
        return 1
    from serving.json_codec import to_json_value
    print(json.dumps({k: to_json_value(v.astype(np.float32) if v.dtype == np.float64 else v, k)
                      for k, v in outputs.items()}, indent=1))
    return 0


def add_canary_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "canary", help="canary lifecycle: status, start, promote, rollback",
        description="Edits serving/models/models.config (validated, atomic); running servers pick "
                    "it up by config polling or HandleReloadConfigRequest.")
    parser.add_argument("--models_root", "--models-root", type=pathlib.Path,
                        default=configs.DEFAULT_MODELS_ROOT)
    actions = parser.add_subparsers(dest="canary_command", required=True, metavar="ACTION")
    actions.add_parser("status", help="per model: stable, canary, versions on disk")
    start = actions.add_parser("start", help="newest pushed version (or --version) becomes canary")
    start.add_argument("model")
    start.add_argument("--version", type=int)
    for name, text in (("promote", "canary becomes stable"),
                       ("rollback", "drop the canary, or move stable back one version")):
        actions.add_parser(name, help=text).add_argument("model")
    parser.set_defaults(func=_canary)
    return parser


def _canary(args) -> int:
    from serving import canary
    try:
        if args.canary_command == "status":
            result = canary.status(args.models_root)
        elif args.canary_command == "start":
            result = canary.start(args.models_root, args.model, args.version)
        elif args.canary_command == "promote":
            result = canary.promote(args.models_root, args.model)
        else:
            result = canary.rollback(args.models_root, args.model)
    except (configs.ConfigError, OSError) as e:
        print(f"tfxp canary {args.canary_command}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0
