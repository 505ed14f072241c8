"""`tfxp kubeflow ...`: compile specs, and schedule or start runs on a Kubeflow Pipelines cluster.

Every sub-command returns an exit code: 0 done, 1 failed (one line on stderr saying why).
"""
import os
import pathlib
import sys

from data import settings
from models import registry
from pipelines import arguments, text_table

TOKEN_ENV = "TFXP_KFP_TOKEN"
HOST_ENV = "KF_PIPELINES_ENDPOINT"
# Recurring-run commands: name (also the kubeflow.schedule function) -> (help, past tense).
_LIFECYCLE = {"pause": ("stop a recurring run from starting runs", "paused"),
              "resume": ("let a paused recurring run start runs again", "resumed"),
              "delete": ("delete a recurring run", "deleted")}


def add_kubeflow_parser(subparsers) -> None:
    """Plugs `tfxp kubeflow` into the `tfxp` parser (see pipelines.cli._PLUGGED_COMMANDS)."""
    parser = subparsers.add_parser(
        "kubeflow", help="compile, schedule and run the pipelines on Kubeflow Pipelines",
        description="See docs/kubeflow.md for the whole path from image to schedule.")
    commands = parser.add_subparsers(dest="kubeflow_command", required=True)
    _add_compile(commands)
    _add_schedule(commands)
    _add_list(commands)
    for action, (help_text, _) in _LIFECYCLE.items():
        _add_lifecycle(commands, action, help_text)
    _add_run_once(commands)
    _add_run_local(commands)
    _add_image(commands)


def _add_compile(commands) -> None:
    from kubeflow.compile import DEFAULT_DATA_ROOT

    parser = commands.add_parser(
        "compile", help="compile models into KFP v2 pipeline specs (YAML)",
        description="Writes OUT_DIR/<model>.yaml with TFX's KubeflowV2DagRunner from the same "
                    "create_pipeline `tfxp run` uses.")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", choices=registry.names(), help="one model")
    which.add_argument("--all", action="store_true",
                       help="every registered model, each also as <model>-sample.yaml (the "
                            "spec `run-local --sample` runs) unless --sample is given")
    parser.add_argument("--image", required=True,
                        help="the component image built from kubeflow/Containerfile, "
                             "e.g. us-docker.pkg.dev/PROJECT/REPO/tfxp:TAG")
    parser.add_argument("--pipeline-root", required=True, metavar="ROOT",
                        help="bucket or shared folder for artifacts (ROOT/pipelines), pushed "
                             "models (ROOT/serving/<model>) and, by default, data")
    parser.add_argument("--data-root", metavar="TEMPLATE",
                        help=f"default of the run parameter data_root (default "
                             f"{DEFAULT_DATA_ROOT!r}; {{root}} and {{model}} are filled in)")
    parser.add_argument("--beam-arg", action="append", default=[], metavar="ARG",
                        help="a Beam pipeline option for the Beam-powered components, e.g. "
                             "--beam-arg --runner=DataflowRunner (repeatable)")
    parser.add_argument("--runner", choices=["direct", "flink"], default="direct",
                        help="where the Beam-powered components run: Beam's DirectRunner in "
                             "their pod, or a Flink cluster (--flink-master; docs/cluster.md)")
    parser.add_argument("--flink-master", metavar="HOST:PORT",
                        help="with --runner flink: Beam's Flink job server in front of the "
                             "cluster (the Service of pipelines/cluster/manifests/"
                             "flink-deployment.yaml, e.g. tfxp-flink-jobserver:8099)")
    parser.add_argument("--no-infra-validation", dest="infra_validation", action="store_false",
                        help="skip serving the candidate before the push")
    parser.add_argument("--no-baseline", dest="baseline", action="store_const", const="none",
                        default="stable",
                        help="do not compare with the stable served version; the Evaluator then "
                             "uses value thresholds only (both variants run on OSS KFP and Vertex)")
    parser.add_argument("--sample", action="store_true",
                        help="the model's sample steps and thresholds, written to "
                             "<model>-sample.yaml (a dry run with `run-local --sample`)")
    parser.add_argument("--tune", action="store_true", help="add TFX's Tuner before the Trainer")
    parser.add_argument("--no-cache", action="store_true",
                        help="compile with caching off for every task")
    parser.add_argument("--out-dir", default=str(settings.KUBEFLOW_SPECS_DIR), metavar="DIR",
                        help="where the specs go (default kubeflow/specs)")
    parser.set_defaults(func=_compile_command)


def _compile_command(args) -> int:
    from kubeflow import compile as kubeflow_compile

    from pipelines.cluster import flink

    models = registry.names() if args.all else [args.model]
    variants = [False, True] if args.all and not args.sample else [args.sample]
    try:
        beam_args = flink.cluster_beam_args(args.runner, args.flink_master) + args.beam_arg
    except ValueError as error:
        print(f"tfxp kubeflow compile: error: {error}", file=sys.stderr)
        return 1
    rejected, failed = [], []
    for model, sample in ((m, v) for m in models for v in variants):
        try:
            result = kubeflow_compile.compile_model(
                model, image=args.image, pipeline_root=args.pipeline_root,
                out_dir=pathlib.Path(args.out_dir), beam_args=beam_args,
                data_root=args.data_root, infra_validation=args.infra_validation,
                tune=args.tune, enable_cache=not args.no_cache,
                baseline=args.baseline, sample=sample)
        except Exception as error:  # one model's broken spec must not hide the others' results
            print(f"tfxp kubeflow compile: error: {model}: {type(error).__name__}: {error}",
                  file=sys.stderr)
            failed.append(f"{model}{' (sample)' if sample else ''}")
            continue
        rejected += [f"{model}: {label}" for label in result.rejected_executors]
        print(f"{result.model}: wrote {result.path} ({result.tasks} tasks, {result.seconds:.1f}s)")
    if failed:
        print(f"tfxp kubeflow compile: {len(failed)} of {len(models) * len(variants)} failed: "
              f"{', '.join(failed)}",
              file=sys.stderr)
    if rejected:
        print("tfxp kubeflow compile: error: executors open-source KFP v2 rejects "
              f"(resolver/customJob): {', '.join(rejected)}", file=sys.stderr)
    return 1 if failed or rejected else 0


def _add_connection(parser) -> None:
    parser.add_argument("--host", default=os.environ.get(HOST_ENV),
                        required=not os.environ.get(HOST_ENV),
                        help=f"KFP API or UI address, e.g. http://localhost:8080 (default ${HOST_ENV})")
    parser.add_argument("--namespace", help="your profile namespace on multi-user KFP")
    parser.add_argument("--token", default=os.environ.get(TOKEN_ENV),
                        help=f"bearer token for multi-user KFP (default ${TOKEN_ENV}; prefer the "
                             "variable: a command line is visible to other users)")


def _add_spec_options(parser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", choices=registry.names(),
                       help="use kubeflow/specs/<model>.yaml")
    which.add_argument("--spec", metavar="FILE", help="a compiled spec file")
    parser.add_argument("--experiment", help="KFP experiment (default: the pipeline name)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="a run parameter of the spec, e.g. data_root=gs://bucket/new-data")


def _add_schedule(commands) -> None:
    parser = commands.add_parser("schedule", help="create a recurring run of a compiled spec")
    _add_connection(parser)
    _add_spec_options(parser)
    parser.add_argument("--cron", required=True,
                        help="six fields, seconds first: '0 0 3 * * *' is 03:00 every day")
    parser.add_argument("--name", help="recurring run name (default <pipeline>-schedule)")
    parser.add_argument("--max-concurrency", type=int, default=1,
                        help="runs of this schedule allowed at once (default 1)")
    parser.add_argument("--no-catchup", action="store_true",
                        help="after a pause, start only the latest missed run, not every one")
    parser.set_defaults(func=_schedule_command)


def _schedule_command(args) -> int:
    from kubeflow import schedule

    def act():
        schedule.check_cron(args.cron)
        spec = schedule.load_spec(args.model, args.spec)
        params = schedule.parse_parameters(spec, args.param)
        connection = schedule.connect(args.host, args.namespace, args.token)
        run = schedule.schedule(connection, spec, args.cron, args.experiment, args.name,
                                args.max_concurrency, args.no_catchup, params)
        print(f"scheduled {run.display_name} (id {run.recurring_run_id}): "
              f"{spec.pipeline_name} on '{args.cron}'")

    return _run("schedule", act)


def _add_list(commands) -> None:
    parser = commands.add_parser("list", help="list recurring runs")
    _add_connection(parser)
    parser.add_argument("--experiment", help="only this experiment's recurring runs")
    parser.set_defaults(func=_list_command)


def _list_command(args) -> int:
    from kubeflow import schedule

    def act():
        connection = schedule.connect(args.host, args.namespace, args.token)
        rows = [schedule.describe(run)
                for run in schedule.list_recurring_runs(connection, args.experiment)]
        if not rows:
            print("no recurring runs")
            return
        columns = ["id", "name", "mode", "schedule", "max_concurrency", "catchup", "experiment"]
        table = [[c.upper() for c in columns]] + [[row[c] for c in columns] for row in rows]
        print("\n".join(text_table.align(table)))

    return _run("list", act)


def _add_lifecycle(commands, action: str, help_text: str) -> None:
    parser = commands.add_parser(action, help=help_text)
    _add_connection(parser)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", dest="run_id", help="recurring run id")
    which.add_argument("--name", help="recurring run name (must be unique)")
    parser.set_defaults(func=_lifecycle_command, lifecycle_action=action)


def _lifecycle_command(args) -> int:
    from kubeflow import schedule

    def act():
        connection = schedule.connect(args.host, args.namespace, args.token)
        run_id = schedule.resolve_recurring_run(connection, args.run_id, args.name)
        getattr(schedule, args.lifecycle_action)(connection, run_id)
        print(f"{_LIFECYCLE[args.lifecycle_action][1]} recurring run {run_id}")

    return _run(args.kubeflow_command, act)


def _add_run_once(commands) -> None:
    parser = commands.add_parser("run-once", help="start one run of a compiled spec now")
    _add_connection(parser)
    _add_spec_options(parser)
    parser.add_argument("--no-cache", action="store_true", help="re-execute every task")
    parser.set_defaults(func=_run_once_command)


def _run_once_command(args) -> int:
    from kubeflow import schedule

    def act():
        spec = schedule.load_spec(args.model, args.spec)
        params = schedule.parse_parameters(spec, args.param)
        connection = schedule.connect(args.host, args.namespace, args.token)
        result = schedule.run_once(connection, spec, args.experiment, params,
                                   enable_caching=False if args.no_cache else None)
        print(f"started run {result.run_id} of {spec.pipeline_name}")

    return _run("run-once", act)


def _add_run_local(commands) -> None:
    parser = commands.add_parser(
        "run-local", help="dry-run a compiled spec on this machine by KFP v2's rules",
        description="Runs each task of a compiled spec as a subprocess, with the ExecutorInput "
                    "the open-source KFP v2 backend builds. Not an orchestrator: see "
                    "docs/kubeflow.md.")
    parser.add_argument("--model", required=True, choices=registry.names())
    parser.add_argument("--sample", action="store_true",
                        help="the committed sample as data_root, and <model>-sample.yaml "
                             "(tfxp kubeflow compile --sample) as the default spec")
    parser.add_argument("--spec", metavar="FILE",
                        help="a compiled spec (default kubeflow/specs/<model>[-sample].yaml)")
    parser.add_argument("--pipeline-root", metavar="DIR",
                        help="local folder standing in for the spec's pipeline root (default "
                             "tfx_root/kubeflow-local/<model>[-sample])")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="a run parameter of the spec, e.g. data_root=DIR")
    parser.add_argument("--container", choices=["podman"],
                        help="run each task inside the spec's image with podman (build it with "
                             "`make image`; the spec's pipeline root must be an absolute path)")
    parser.set_defaults(func=_run_local_command)


def _run_local_command(args) -> int:
    from kubeflow import run_local

    try:
        parameters = dict(arguments.split_key_value(text) for text in args.param)
    except ValueError as error:
        print(f"tfxp kubeflow run-local: error: --param: {error}", file=sys.stderr)
        return 1
    try:
        run_local.run_model(args.model, sample=args.sample, spec_file=args.spec,
                            local_root=args.pipeline_root, parameters=parameters,
                            container=args.container)
    except run_local.RunLocalError as error:
        print(f"tfxp kubeflow run-local: error: {error}", file=sys.stderr)
        return 1
    return 0


def _add_image(commands) -> None:
    parser = commands.add_parser(
        "image", help="build the component image here (buildah, no Docker engine)",
        description="Builds kubeflow/Containerfile with buildah on a debootstrap base; see "
                    "docs/kubeflow.md, 'The image, built here'.")
    actions = parser.add_subparsers(dest="image_command", required=True)
    build = actions.add_parser("build", help="build the image (cached), print its size and time")
    build.add_argument("--tag", default=None, help="image tag (default "
                       "localhost/tfxp-component:latest, the tag run-local specs name)")
    build.set_defaults(func=_image_build_command)


def _image_build_command(args) -> int:
    from kubeflow import image

    try:
        result = image.build(tag=args.tag or image.DEFAULT_TAG)
    except image.ImageError as error:
        print(f"tfxp kubeflow image build: error: {error}", file=sys.stderr)
        return 1
    print(image.describe(result))
    return 0


def _run(command: str, act) -> int:
    from kubeflow.schedule import KubeflowError

    try:
        act()
    except KubeflowError as error:
        print(f"tfxp kubeflow {command}: error: {error}", file=sys.stderr)
        return 1
    return 0
