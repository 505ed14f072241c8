"""`tfxp report`: writes the HTML reports of pipeline runs."""
import logging
import sys

from data import settings
from models import registry


def add_report_parser(subparsers) -> None:
    """Plugs `tfxp report` into the `tfxp` parser (see pipelines.cli._PLUGGED_COMMANDS)."""
    parser = subparsers.add_parser(
        "report", help="write HTML reports (data, evaluation, training) of pipeline runs",
        description="Writes one self-contained HTML page per model run and an index page.")
    parser.add_argument("--model", default="all",
                        help=f"one of {', '.join(registry.names())}, or 'all' (default)")
    parser.add_argument("--run", default="latest", metavar="latest|ID",
                        help="which run (a run id as printed by `tfxp run`; default latest)")
    parser.add_argument("--out", metavar="DIR",
                        help="output directory (default reports/ in the project)")
    parser.add_argument("--pipeline-root", metavar="DIR",
                        help="the --pipeline-root the run used (default tfx_root/<pipeline>)")
    parser.add_argument("--sample", action="store_true",
                        help="report the runs made with `tfxp run --sample`")
    parser.set_defaults(func=report_command)


def report_command(args) -> int:
    """What `tfxp report` does; returns its exit code."""
    from pipelines.report import build, gather

    # Reading TFMA's files triggers TensorFlow's deprecation warnings (tf_record_iterator), library
    # noise that says nothing about the report; real errors still reach the terminal.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    models = registry.names() if args.model == "all" else [args.model]
    if args.model != "all":
        registry.get(args.model)
    try:
        result = build.build_reports(models, args.out or settings.REPORTS_DIR,
                                     sample=args.sample,
                                     home=args.pipeline_root, run_id=args.run)
    except gather.NoRunsError as error:
        print(f"tfxp report: {error}", file=sys.stderr)
        return 1
    for page in result.pages:
        print(f"report: {page}")
    for message in result.missing:
        print(f"skipped {message}")
    print(f"index: {result.index} ({len(result.pages)} report(s) in {result.seconds:.1f}s)")
    return 0
