"""`tfxp`: the project's command line. It parses arguments and calls library functions."""
import argparse
import dataclasses
import importlib
import json
import os
import sys
from typing import List, Optional

from data import settings
from models import registry
from pipelines import arguments, quiet
from pipelines.run_options import ROLLOUTS, RUNNERS, RunOptions
from serving import cli as serving_cli
from serving.config.flag_spellings import add_flag

# Sub-commands that live in other packages: (module, function adding the parser).
_PLUGGED_COMMANDS = [
    ("serving.cli", "add_serve_parser"),
    ("serving.cli", "add_predict_parser"),
    ("serving.cli", "add_canary_parser"),
    ("serving.cli", "add_router_parser"),
    ("kubeflow.cli", "add_kubeflow_parser"),
    ("pipelines.report.cli", "add_report_parser"),
    ("pipelines.model_cli", "add_model_parser"),
    ("pipelines.cluster.cli", "add_cluster_parser"),
]


# Commands that import TensorFlow: it is imported first, with its start-up noise filtered.
COMMANDS_USING_TENSORFLOW = {"run", "report", "serve", "predict", "kubeflow", "data", "skew",
                             "router", "canary", "shadow"}


def _hyperparameter(text: str):
    try:
        key, value = arguments.split_key_value(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _add_run_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "run", help="run a model's pipeline (ExampleGen ... Pusher)",
        description="Exit codes: 0 pushed, 3 not blessed (nothing pushed), 2 stopped by the "
                    "data gate, 4 another run holds the pipeline root (--no-wait), 130/143 "
                    "stopped by SIGINT/SIGTERM (a re-run resumes from the cache), 1 any other "
                    "failure.")
    parser.add_argument("--model", default="census",
                        help=f"one of {', '.join(registry.names())}, or 'all'; with --csv: the "
                             "new model's name (default: the CSV's file name)")
    parser.add_argument("--data", metavar="DIR",
                        help="CSV/TFRecord folder with the model's columns (sub-folders train/ and "
                             "eval/, or files that get hash-split 2:1); default: the prepared data")
    parser.add_argument("--sample", action="store_true",
                        help="use the small committed sample (quick check, lower thresholds)")
    parser.add_argument("--runner", choices=RUNNERS, default="local",
                        help="local/beam: TFX's LocalDagRunner/BeamDagRunner with Beam's "
                             "DirectRunner; flink/spark: the Beam components on the `tfxp "
                             "cluster` Flink or Spark cluster (parallelism 2)")
    parser.add_argument("--pipeline-root", metavar="DIR",
                        help="where artifacts, ML Metadata and logs go (default tfx_root/<pipeline>)")
    parser.add_argument("--serving-dir", metavar="DIR",
                        help="push destination (default serving/models/<model>)")
    parser.add_argument("--beam-arg", action="append", default=[], metavar="ARG",
                        help="a Beam pipeline option, e.g. --beam-arg=--runner=FlinkRunner "
                             "(repeatable)")
    parser.add_argument("--hparam", action="append", default=[], type=_hyperparameter,
                        metavar="KEY=VALUE", help="override a model hyperparameter (JSON value)")
    parser.add_argument("--tune", action="store_true", help="add TFX's Tuner before the Trainer")
    parser.add_argument("--no-cache", action="store_true", help="re-execute every component")
    parser.add_argument("--no-infra-validation", action="store_true",
                        help="skip serving the candidate before the push")
    parser.add_argument("--rollout", choices=ROLLOUTS, default="canary",
                        help="label a newly pushed version as canary (default) or stable, or "
                             "leave the serving config alone")
    parser.add_argument("--no-wait", action="store_true",
                        help="exit at once (code 4) when another run holds the pipeline root, "
                             "instead of waiting for it to finish")
    parser.add_argument("--accept-drift", action="store_true",
                        help="train on data that drifted from what the stable version learned "
                             "from (the summary and the report record it)")
    parser.add_argument("--holdout", metavar="FILE", default="",
                        help="TFRecord file (or folder) of tf.Examples to judge candidate and "
                             "stable on instead of the stable version's pinned golden holdout; "
                             "the pushed version carries it on")
    parser.add_argument("--skip-latency-gate", action="store_true",
                        help="do not compare the candidate's latency with the stable version's "
                             "before the push (the summary says it was skipped)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show library logs live")
    _add_csv_arguments(parser)
    parser.set_defaults(func=_run_command)


def _add_csv_arguments(parser) -> None:
    """`tfxp run --csv PATH --label COLUMN`: write a model package for the CSV (`tfxp model
    new`), then run it."""
    from pipelines import model_cli

    group = parser.add_argument_group(
        "bring your own data", "--csv writes a model package for the CSV (as `tfxp model new` "
        "does; an existing package of that name is reused) and runs it on the CSV's rows")
    model_cli.add_scaffold_arguments(group, name_required=False)


def run_options(args) -> RunOptions:
    """The RunOptions of a parsed `tfxp run` command line (the one place its flags are read)."""
    return RunOptions(
        data_dir=args.data, sample=args.sample, runner=args.runner,
        pipeline_root=args.pipeline_root, serving_dir=args.serving_dir,
        beam_args=tuple(args.beam_arg), hyperparameters=dict(args.hparam), tune=args.tune,
        enable_cache=not args.no_cache, infra_validation=not args.no_infra_validation,
        rollout=args.rollout, verbose=args.verbose, wait=not args.no_wait,
        accept_drift=args.accept_drift, holdout_file=args.holdout,
        skip_latency_gate=args.skip_latency_gate)


def _run_command(args) -> int:
    from pipelines import model_cli, workflow
    from pipelines.cluster.flink import ClusterError

    if args.csv:
        models = [model_cli.prepare_csv_run(args)]
    elif args.label or args.task or args.exclude:
        raise ValueError("--label, --task and --exclude go with --csv")
    else:
        models = registry.names() if args.model == "all" else [args.model]
    try:
        return workflow.run_models(models, run_options(args))
    except ClusterError as error:
        print(f"tfxp run: error: {error}", file=sys.stderr)
        return 1


def _add_data_parser(subparsers) -> None:
    parser = subparsers.add_parser("data", help="prepare datasets")
    data_commands = parser.add_subparsers(dest="data_command", required=True)
    prepare = data_commands.add_parser("prepare", help="fetch and prepare the full datasets")
    prepare.add_argument("--model", action="append", default=None,
                         help="only this model's dataset (repeatable; default: all)")
    prepare.set_defaults(func=_prepare_command)


def _prepare_command(args) -> int:
    from pipelines import workflow

    return workflow.prepare_datasets(args.model or registry.names())


def _add_skew_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "skew", help="compare served requests with the training data a version carries",
        description="Reads TF Serving request logs (TFRecord files of PredictionLog), rebuilds "
                    "the raw feature rows, and compares their TFDV statistics with the version's "
                    "training statistics using the schema's skew thresholds. Exit codes: 0 no "
                    "skew, 4 skew found, 1 any other failure.")
    parser.add_argument("--model", required=True, help=f"one of {', '.join(registry.names())}")
    parser.add_argument("--version", type=int,
                        help="version number (default: the version labelled stable, else the "
                             "newest)")
    parser.add_argument("--logs", metavar="PATH",
                        help="request-log file, folder or filename prefix (default: the "
                             "logging_config filename_prefix of the model in models.config)")
    add_flag(parser, "--models-root", "--serving-dir", metavar="DIR",
             help="the served models root holding <model>/<version>/ (default serving/models)")
    parser.add_argument("--pipeline-root", metavar="DIR",
                        help="the pipeline home whose report shows the result "
                             "(default tfx_root/<model>)")
    parser.add_argument("--sample", action="store_true",
                        help="show the result in the report of the --sample runs")
    parser.set_defaults(func=_skew_command)


def _skew_command(args) -> int:
    import pathlib

    from pipelines import run_paths, skew

    spec = registry.get(args.model)
    models_root = pathlib.Path(args.models_root) if args.models_root else settings.SERVING_ROOT
    home = run_paths.default_paths(spec, sample=args.sample, home=args.pipeline_root).home
    try:
        logs = pathlib.Path(args.logs) if args.logs else skew.default_logs(models_root, spec.name)
        code, text = skew.run_skew(spec.name, models_root, logs, home, args.version)
    except skew.SkewInputError as error:
        print(f"tfxp skew: error: {error}", file=sys.stderr)
        return 1
    print(text)
    return code


def _add_shadow_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "shadow", help="compare a shadow version with stable on the same requests",
        description="Exit codes: 0 within the thresholds, 4 beyond them, 1 any other failure.")
    actions = parser.add_subparsers(dest="shadow_command", required=True, metavar="ACTION")
    report = actions.add_parser(
        "report", help="MODEL: agreement, score differences, latency p50/p95/p99 and errors of "
                       "stable and shadow on the requests both answered")
    report.add_argument("model")
    add_flag(report, "--models-root", "--models_root", default=None,
             help="the served models root (default serving/models)")
    report.add_argument("--logs", metavar="PATH",
                        help="request-log file, folder or prefix (default: the model's "
                             "logging_config in models.config)")
    report.add_argument("--version", type=int,
                        help="the shadow version (default: the one in shadow mode, else canary)")
    report.add_argument("--min-agreement", type=float, default=None,
                        help="agreeing share required (default 0.99)")
    report.add_argument("--max-p95-ratio", type=float, default=None,
                        help="shadow p95 / stable p95 allowed (default: the model's "
                             "latency_p95_ratio, else 1.25)")
    report.set_defaults(func=_shadow_command)


def _shadow_command(args) -> int:
    import pathlib

    from pipelines import shadow_report
    from serving.config import configs

    defaults = shadow_report.ShadowThresholds()
    ratio = args.max_p95_ratio or (registry.get(args.model).latency_p95_ratio
                                   if args.model in registry.names() else defaults.max_p95_ratio)
    thresholds = dataclasses.replace(
        defaults, max_p95_ratio=ratio,
        min_agreement=defaults.min_agreement if args.min_agreement is None else args.min_agreement)
    root = pathlib.Path(args.models_root) if args.models_root else settings.SERVING_ROOT
    try:
        report = shadow_report.build_report(root, args.model, thresholds,
                                            pathlib.Path(args.logs) if args.logs else None,
                                            args.version)
    except configs.ConfigError as error:
        print(f"tfxp shadow report: error: {error}", file=sys.stderr)
        return 1
    print(shadow_report.format_report(report))
    print(f"  saved for the HTML report: {shadow_report.save(report, root)}")
    return report.exit_code


def build_parser() -> argparse.ArgumentParser:
    """Every `tfxp` sub-command, including those other packages plug in (_PLUGGED_COMMANDS)."""
    parser = argparse.ArgumentParser(
        prog="tfxp", description="TFX production pipeline: train, validate, push, serve.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_run_parser(subparsers)
    _add_data_parser(subparsers)
    _add_skew_parser(subparsers)
    _add_shadow_parser(subparsers)
    for module_name, function_name in _PLUGGED_COMMANDS:
        getattr(importlib.import_module(module_name), function_name)(subparsers)
    return parser


def _join_option_values(argv: List[str]) -> List[str]:
    """`--beam-arg --runner=X` -> `--beam-arg=--runner=X` (argparse rejects dash-led values)."""
    joined, i = [], 0
    while i < len(argv):
        if argv[i] == "--beam-arg" and i + 1 < len(argv):
            joined.append(f"--beam-arg={argv[i + 1]}")
            i += 2
        else:
            joined.append(argv[i])
            i += 1
    return joined


def main(argv: Optional[List[str]] = None) -> int:
    """The `tfxp` console script: returns the exit code; a KeyError, ValueError or
    FileNotFoundError becomes one `tfxp CMD: error:` line instead of a traceback."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = serving_cli.parse_flags(build_parser(), _join_option_values(argv))
    if args.command in COMMANDS_USING_TENSORFLOW:
        quiet.import_tensorflow_quietly()
    try:
        return args.func(args)
    except (KeyError, ValueError, FileNotFoundError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"tfxp {args.command}: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
