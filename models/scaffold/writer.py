"""`tfxp model new`: a CSV with a label column becomes a model package laid out like the built-in
ones (features, preprocessing, model, spec, curated schema, sample, a test beside each module).

What the data says decides: column kinds, the task, the label and leakage checks (fatal problems
stop here, before anything is written) and the naive baseline the eval thresholds are set against.
"""
import dataclasses
import importlib.util
import keyword
import pathlib
import shutil
import string
from typing import Dict, List, Optional, Sequence

import pandas as pd

from data import settings
from models import registry
from models.scaffold import dataset, profile

TEMPLATES = pathlib.Path(__file__).resolve().parent / "template"
SAMPLE_ROWS = {"train": 400, "eval": 200}
EPOCHS = 30
BATCH_SIZE = 32
# A blessed model must remove at least this share of the naive baseline's errors.
ERROR_REDUCTION = 0.1
MAX_ACCURACY_DROP = 0.03
MAX_RELATIVE_MSE_RISE = 0.1


@dataclasses.dataclass
class Scaffold:
    """What `tfxp model new` decided and wrote."""

    name: str
    package_dir: pathlib.Path
    task: str
    task_reason: str
    columns: List[profile.Column]
    findings: List[profile.Finding]
    baseline: Dict
    thresholds: Dict[str, float]
    rows: Dict[str, int]

    def describe(self) -> str:
        """The report printed after writing: task and why, columns kept and left out, the
        baseline and the thresholds, and where the package lives."""
        kept = [c for c in self.columns if c.used]
        left = [c for c in self.columns if not c.used]
        lines = [f"task: {self.task} ({self.task_reason})",
                 f"rows: train {self.rows['train']}, eval {self.rows['eval']}",
                 f"features kept ({len(kept)}):"]
        lines += [f"  {c.name}: {c.kind} - {c.reason}" for c in kept]
        lines.append(f"features left out ({len(left)}):")
        lines += [f"  {c.name}: {c.kind} - {c.reason}" for c in left] or ["  none"]
        lines += [f.describe() for f in self.findings]
        shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in self.baseline.items()}
        lines.append(f"naive baseline on the eval rows: {shown}")
        lines.append(f"thresholds to bless a model: {self.thresholds}")
        lines.append(f"package: {self.package_dir}")
        return "\n".join(lines)


def check_name(name: str, package_dir: pathlib.Path, force: bool) -> None:
    """A model name is a lower-case Python identifier, not a built-in model, not a module that
    Python already imports from elsewhere, and not an existing package unless `force`."""
    if not name.isidentifier() or keyword.iskeyword(name) or name != name.lower():
        raise profile.ScaffoldError(
            f"model name {name!r}: use a lower-case Python identifier (letters, digits, _)")
    if name in registry.built_in_names():
        raise profile.ScaffoldError(f"model name {name!r} is a built-in model; choose another")
    if package_dir.exists():
        if not force:
            raise profile.ScaffoldError(
                f"{package_dir} already exists; pass --force to overwrite it, or choose "
                "another --name/--out")
        return
    existing = importlib.util.find_spec(name)
    if existing is not None:
        raise profile.ScaffoldError(
            f"model name {name!r} is already an importable module ({existing.origin}); "
            "choose another so the package's imports stay unambiguous")


def thresholds_for(task: str, baseline: Dict) -> Dict[str, float]:
    """Floors a model must clear, set against what guessing scores (`baseline`): it must remove
    ERROR_REDUCTION of the baseline's errors (accuracy, MSE) and rank better than chance (AUC)."""
    if task == "regression":
        return {"mean_squared_error": round(baseline["mean_squared_error"]
                                            * (1 - ERROR_REDUCTION), 4),
                "max_relative_mse_rise": MAX_RELATIVE_MSE_RISE}
    accuracy = round(baseline["accuracy"] + ERROR_REDUCTION * (1 - baseline["accuracy"]), 4)
    if task == "multiclass":
        return {"sparse_categorical_accuracy": accuracy, "max_accuracy_drop": MAX_ACCURACY_DROP}
    return {"auc": round(0.5 + ERROR_REDUCTION * 0.5, 4), "binary_accuracy": accuracy,
            "max_auc_drop": MAX_ACCURACY_DROP, "max_accuracy_drop": MAX_ACCURACY_DROP}


KEY_METRICS = {"binary": "auc", "multiclass": "sparse_categorical_accuracy",
               "regression": "mean_squared_error"}


def _literal(value) -> str:
    """A Python literal of `value`: on one line when short, else one item per line."""
    text = repr(value)
    if len(text) <= 80 or not isinstance(value, (list, dict)) or not value:
        return text
    if isinstance(value, dict):
        items = [f"    {key!r}: {item!r}," for key, item in value.items()]
        return "{\n" + "\n".join(items) + "\n}"
    return "[\n" + "\n".join(f"    {item!r}," for item in value) + "\n]"


def _render(template: str, values: Dict[str, str]) -> str:
    return string.Template((TEMPLATES / template).read_text()).substitute(values)


def _template_values(name, csv_path, label_key, task, task_reason, columns, labelled,
                     splits, sample_rows, baseline, thresholds) -> Dict[str, str]:
    transformed: Dict[str, str] = {}
    for column in [c.name for c in columns if c.used] + [label_key]:
        transformed[column] = profile.safe_name(column, transformed) + "_xf"
    label = pd.to_numeric(labelled[label_key]) if task == "regression" else labelled[label_key]
    regression = task == "regression"
    return {
        "name": name, "name_literal": repr(name), "csv_name": pathlib.Path(csv_path).name,
        "label_key": label_key, "label_literal": repr(label_key),
        "task": task, "task_literal": repr(task), "task_reason": f"Inferred: {task_reason}.",
        "classes": _literal(profile.classes_of(label, task)),
        "label_mean": repr(float(label.mean()) if regression else 0.0),
        "label_std": repr(float(label.std()) or 1.0 if regression else 1.0),
        "numeric": _literal([c.name for c in columns if c.kind == "numeric"]),
        "categorical": _literal([c.name for c in columns if c.kind == "categorical"]),
        "hashed": _literal({c.name: c.hash_buckets for c in columns if c.kind == "hashed"}),
        "excluded": _literal({c.name: f"{c.kind}: {c.reason}" for c in columns if not c.used}),
        "transformed_keys": _literal(transformed),
        "batch_size": str(BATCH_SIZE), "epochs": str(EPOCHS),
        "source_csv": repr(str(pathlib.Path(csv_path).resolve())),
        "rows": _literal({s: len(rows) for s, rows in splits.items()}),
        "sample_rows": _literal(sample_rows),
        "baseline": _literal(baseline), "thresholds": _literal(thresholds),
        "key_metric": repr(KEY_METRICS[task]),
    }


def default_out() -> pathlib.Path:
    """Where packages go without --out: the first folder of the model search path."""
    return settings.USER_MODELS_PATH[0]


def new_model(name: str, csv_path, label_key: str, task: Optional[str] = None,
              exclude: Sequence[str] = (), out: Optional[pathlib.Path] = None,
              force: bool = False, warn=print) -> Scaffold:
    """Profiles the CSV, refuses on fatal findings (each with what to do), then writes the
    package `out/name/` and records it so `tfxp run --model NAME` finds it at once."""
    out = pathlib.Path(out) if out else default_out()
    package_dir = (out / name).resolve()
    check_name(name, package_dir, force)
    if task is not None and task not in profile.TASKS:
        raise profile.ScaffoldError(f"--task must be one of {profile.TASKS}, got {task!r}")
    frame = profile.read_table(csv_path)
    if label_key not in frame.columns:
        raise profile.ScaffoldError(f"--label {label_key}: no such column; the columns are "
                                    f"{', '.join(map(str, frame.columns))}")
    if task:
        task_reason = "given by --task"
    else:
        task, task_reason = profile.infer_task(frame[label_key])
    columns = profile.profile_columns(frame, label_key, exclude)
    findings = profile.check_label(frame[label_key], task)
    if not any(f.fatal for f in findings):
        findings += profile.check_leakage(frame, label_key, task, columns)
    if not any(c.used for c in columns):
        findings.append(profile.Finding("(all columns)", "no column is usable as a feature",
                                        "check the CSV's columns and --exclude", fatal=True))
    fatal = [f for f in findings if f.fatal]
    if fatal:
        raise profile.ScaffoldError("the data cannot become a model as it is:\n"
                                    + "\n".join(f.describe() for f in findings))
    for finding in findings:
        warn(finding.describe())
    splits = dataset.labelled_splits(frame, label_key)
    labelled = pd.concat([splits["train"], splits["eval"]], ignore_index=True)
    split = pd.Series(["train"] * len(splits["train"]) + ["eval"] * len(splits["eval"]))
    baseline = profile.naive_baseline(splits["train"][label_key], splits["eval"][label_key], task)
    thresholds = thresholds_for(task, baseline)
    samples = {s: rows.head(SAMPLE_ROWS[s]) for s, rows in splits.items()}
    sample_rows = {s: len(rows) for s, rows in samples.items()}
    values = _template_values(name, csv_path, label_key, task, task_reason, columns, labelled,
                              splits, sample_rows, baseline, thresholds)

    import tensorflow_data_validation as tfdv

    from models.scaffold import schema

    curated = schema.infer_curated_schema(labelled, label_key, columns, split)
    if package_dir.exists():
        shutil.rmtree(package_dir)
    package_dir.mkdir(parents=True)
    for template in sorted(TEMPLATES.glob("*.py.tmpl")):
        (package_dir / template.name[:-len(".tmpl")]).write_text(_render(template.name, values))
    tfdv.write_schema_text(curated, str(package_dir / "schema.pbtxt"))
    dataset.write_splits(samples, package_dir / "sample", name)
    if out.resolve() not in [p.resolve() for p in settings.USER_MODELS_PATH]:
        registry.record_package(name, package_dir)
    return Scaffold(name, package_dir, task, task_reason, columns, findings, baseline,
                    thresholds, {s: len(rows) for s, rows in splits.items()})


def default_name(csv_path) -> str:
    """A model name from the CSV's file name ("Breast Cancer.csv" -> "breast_cancer")."""
    stem = pathlib.Path(csv_path).name.split(".")[0]
    return profile.safe_name(stem)


def existing_package(name: str) -> Optional[pathlib.Path]:
    """The folder of an already-written plug-in package `name`, if the registry finds one."""
    source = registry.sources().get(name)
    if source is None or source.folder is None:
        return None
    return source.folder / source.module
