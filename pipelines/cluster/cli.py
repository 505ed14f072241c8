"""`tfxp cluster up|down|status [--engine flink|spark]`: the local cluster the `--runner flink`
(default) or `--runner spark` runs go to."""
import json
import sys

from pipelines.cluster import engines, flink, jvm, spark


def add_cluster_parser(subparsers) -> None:
    """Adds `tfxp cluster` and its actions (up, down, status, train)."""
    parser = subparsers.add_parser(
        "cluster", help="start, stop or check the local Flink or Spark cluster (for --runner "
                        "flink / spark)",
        description="A Flink 1.19 session cluster on loopback (a JobManager and a TaskManager "
                    "JVM) with Beam's Flink job server, or (--engine spark) a Spark standalone "
                    "cluster (master, worker, history server) with Beam's Spark job server; "
                    "their parts come from `make cluster-tools`. "
                    "Exit codes: 0 done / healthy, 1 failed / not healthy.")
    actions = parser.add_subparsers(dest="cluster_command", required=True)
    start = actions.add_parser("up", help="start it (or its dead parts); idempotent")
    start.add_argument("--slots", type=int, default=flink.DEFAULT_SLOTS,
                       help="TaskManager slots / Spark worker cores (at least the runs' "
                            "parallelism)")
    start.set_defaults(func=_up_command)
    stop = actions.add_parser("down", help="stop it")
    stop.set_defaults(func=_down_command)
    check = actions.add_parser("status", help="health-check it through Flink's REST API / "
                                              "the Spark master's JSON API")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(func=_status_command)
    for action in (start, stop, check):
        action.add_argument("--engine", choices=sorted(engines.ENGINES),
                            default=engines.DEFAULT_ENGINE,
                            help="which cluster (default: %(default)s)")
    train = actions.add_parser(
        "train", help="re-run a finished run's Trainer on several worker processes "
                      "(TF_CONFIG, MultiWorkerMirroredStrategy)")
    train.add_argument("--model", default="census")
    train.add_argument("--sample", action="store_true", help="the --sample pipeline's run")
    train.add_argument("--pipeline-root", metavar="DIR", help="as given to `tfxp run`")
    train.add_argument("--run-id", help="default: the newest run")
    train.add_argument("--workers", type=int, default=2, help="processes, the chief included")
    train.add_argument("--output", metavar="DIR", required=True,
                       help="the chief's SavedModel goes to DIR/Format-Serving, logs to DIR/logs")
    train.set_defaults(func=_train_command)


def _up_command(args) -> int:
    try:
        if args.engine == "spark":
            cluster = spark.up(cores=args.slots)
        else:
            cluster = flink.up(slots=args.slots)
    except jvm.ClusterError as error:
        print(f"tfxp cluster up: error: {error}", file=sys.stderr)
        return 1
    report = engines.engine(args.engine).status(cluster)
    if args.engine == "spark":
        print(f"{cluster.describe()} is up: Spark {report['spark_version']}, "
              f"{report['workers']} worker(s), {report['cores']} cores; "
              f"Beam job server localhost:{cluster.job_port}\n"
              f"  web UI: {cluster.rest_url}  (port {cluster.master_ui_port})\n"
              f"  finished applications: {cluster.history_url}  (history server)\n"
              f"  logs:   {cluster.logs_dir}")
        return 0
    print(f"{cluster.describe()} is up: Flink {report['flink_version']}, "
          f"{report['taskmanagers']} TaskManager(s), {report['slots']} slots; "
          f"Beam job server localhost:{cluster.job_port}\n"
          f"  web UI: {cluster.rest_url}  (port {cluster.rest_port})\n"
          f"  logs:   {cluster.logs_dir}")
    return 0


def _down_command(args) -> int:
    module = engines.engine(args.engine)
    cluster = module.down()
    print(f"{cluster.describe()} stopped; logs kept in {cluster.logs_dir}" if cluster
          else f"No {args.engine.capitalize()} cluster was running.")
    return 0


def _status_command(args) -> int:
    module = engines.engine(args.engine)
    report = module.status(module.load())
    if args.json:
        print(json.dumps(report, indent=2))
    elif not report["healthy"]:
        print(f"{args.engine.capitalize()} cluster '{module.CLUSTER_NAME}' is not healthy: "
              f"{report['problem']}")
    elif args.engine == "spark":
        print(f"Spark cluster '{report['name']}' is healthy: Spark {report['spark_version']}, "
              f"{report['workers']} worker(s), {report['cores']} cores at {report['master']} "
              f"(UI {report['rest']}, history {report['history']}); job server "
              f"{report['job_server']}; logs {report['logs']}")
    else:
        print(f"Flink cluster '{report['name']}' is healthy: Flink {report['flink_version']}, "
              f"{report['taskmanagers']} TaskManager(s), {report['slots']} slots at "
              f"{report['rest']}; job server {report['job_server']}; logs {report['logs']}")
    return 0 if report["healthy"] else 1


def _train_command(args) -> int:
    from models import registry
    from pipelines import run_paths
    from pipelines.cluster import trainer_workers

    paths = run_paths.default_paths(registry.get(args.model), sample=args.sample,
                                    home=args.pipeline_root)
    try:
        model = trainer_workers.run_workers(str(paths.metadata_path), paths.pipeline_name,
                                            args.output, workers=args.workers,
                                            run_id=args.run_id)
    except (trainer_workers.WorkerFailed, LookupError) as error:
        print(f"tfxp cluster train: error: {error}", file=sys.stderr)
        return 1
    print(f"Trained '{paths.pipeline_name}' on {args.workers} workers; the chief's model: {model}")
    return 0
