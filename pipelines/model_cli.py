"""`tfxp model new|list` and the CSV half of `tfxp run --csv`: bring your own data.

The library work is in models.scaffold (profiling, checks, the package writer) and
models.registry (where models come from); this module parses and prints.
"""
import pathlib
import sys

from data import settings
from models import registry
from pipelines import text_table


def add_scaffold_arguments(parser, name_required: bool) -> None:
    """--csv, --label, --task, --exclude: what `model new` and `run --csv` share."""
    parser.add_argument("--csv", metavar="PATH", required=name_required,
                        help="a CSV file with a header line and a label column")
    parser.add_argument("--label", metavar="COLUMN", help="the column to predict")
    parser.add_argument("--task", choices=["binary", "multiclass", "regression"],
                        help="default: inferred from the label (the reason is printed)")
    parser.add_argument("--exclude", action="append", default=[], metavar="COLUMN",
                        help="leave a column out of the model (repeatable)")


def add_model_parser(subparsers) -> None:
    """`tfxp model new NAME --csv PATH --label COLUMN ...` and `tfxp model list`."""
    parser = subparsers.add_parser("model", help="create a model package from a CSV; list models")
    commands = parser.add_subparsers(dest="model_command", required=True)
    new = commands.add_parser(
        "new", help="write a model package from a CSV with a label column",
        description="Profiles the CSV (column kinds, the task, label and leakage checks), "
                    "refuses data that cannot become a model (saying what to do), and writes a "
                    "package like the built-in ones: features, preprocessing, model, spec, a "
                    "curated schema, a sample and unit tests. `tfxp run --model NAME` then "
                    "finds it wherever --out put it.")
    new.add_argument("name", help="the model name (a lower-case Python identifier)")
    add_scaffold_arguments(new, name_required=True)
    new.add_argument("--out", metavar="DIR", type=pathlib.Path,
                     help=f"where the package folder goes (default {settings.USER_MODELS_PATH[0]}"
                          ", the first folder of TFXP_MODELS_PATH)")
    new.add_argument("--force", action="store_true", help="overwrite an existing package")
    new.set_defaults(func=_new_command)
    listing = commands.add_parser("list", help="every model and where it comes from")
    listing.set_defaults(func=_list_command)


def scaffold(name: str, csv_path: str, label: str, task=None, exclude=(), out=None,
             force: bool = False, stream=sys.stdout):
    """Writes the package and prints what was decided; returns the Scaffold."""
    from models.scaffold import writer

    if not label:
        raise ValueError("--label COLUMN is required with --csv")

    def warn(line):
        stream.write(line + "\n")

    result = writer.new_model(name, csv_path, label, task=task, exclude=exclude, out=out,
                              force=force, warn=warn)
    stream.write(result.describe() + "\n")
    return result


def _new_command(args) -> int:
    from pipelines import quiet

    quiet.import_tensorflow_quietly()
    result = scaffold(args.name, args.csv, args.label, args.task, args.exclude, args.out,
                      args.force)
    print(f"Next: tfxp run --model {result.name}")
    return 0


def _list_command(args) -> int:
    rows = [("model", "from")]
    rows += [(source.name, source.origin) for source in registry.sources().values()]
    print("\n".join(text_table.align(rows)))
    for source in registry.shadowed():
        print(f"ignored: {source.name} from {source.origin} (the name is taken)")
    return 0


def prepare_csv_run(args, stream=sys.stdout) -> str:
    """`tfxp run --csv`: the model package for the CSV (written now unless a plug-in of that
    name exists), and its data prepared from this CSV. Returns the model name; `args.data`
    points at the prepared splits."""
    from models.scaffold import dataset, writer

    if args.data:
        raise ValueError("--csv and --data both name the data; pass one")
    # --model keeps its default (census, built-in) unless given: then the CSV names the model.
    name = writer.default_name(args.csv) if args.model == "census" else args.model
    if name in registry.built_in_names() or name == "all":
        raise ValueError(f"--csv needs a name for the new model; {name!r} is taken by the "
                         "built-in models (pass --model NEW_NAME)")
    package = writer.existing_package(name)
    if package is None:
        package = scaffold(name, args.csv, args.label, args.task, args.exclude,
                           stream=stream).package_dir
        label = args.label
    else:
        label = _package_label(name)
        if args.label and args.label != label:
            raise ValueError(f"model {name!r} ({package}) predicts {label!r}, not "
                             f"{args.label!r}; pass another --model to make a new one")
        stream.write(f"Using the existing package {package} (delete it, or pass another "
                     "--model, to write a new one)\n")
    prepared = settings.PREPARED_ROOT / name
    dataset.prepare(str(pathlib.Path(args.csv).resolve()), label, name, prepared)
    args.data = str(prepared)
    stream.write(f"Model package: {package} (edit it, then `tfxp run --model {name}`)\n")
    stream.flush()
    return name


def _package_label(name: str) -> str:
    import importlib

    spec = registry.get(name)
    return importlib.import_module(spec.run_fn.rsplit(".", 2)[0] + ".features").LABEL_KEY
