"""What a table says about itself: column kinds, the task, label and leakage problems, the split
and the naive baseline. Pure functions over pandas objects, so each rule is tested on a few rows.
"""
import dataclasses
import hashlib
import re
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

TASKS = ("binary", "multiclass", "regression")
# Columns of strings with at most this many distinct values get a vocabulary, more are hashed.
VOCABULARY_MAX = 50
HASH_BUCKETS_PER_VALUE = 2
HASH_BUCKETS_MAX = 1000
# An integer label with at most this many distinct values is a class id, more is a quantity.
CLASS_IDS_MAX = 20
# A column alone scoring this well on held-out rows (accuracy; R² for regression) is a leak.
LEAK_ACCURACY = 0.99
LEAK_R2 = 0.95
LEAK_BINS = 20
# Strings averaging this many words are free text; this share of parseable dates, a timestamp.
TEXT_MIN_WORDS = 4
TIMESTAMP_SHARE = 0.9
ID_UNIQUE_SHARE = 0.95
EVAL_BUCKETS, EVAL_OF = 1, 3   # one row in three goes to the eval split

KINDS = ("numeric", "categorical", "hashed", "constant", "id", "text", "timestamp")
USED_KINDS = ("numeric", "categorical", "hashed")


class ScaffoldError(ValueError):
    """The data cannot become a model as it is; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Column:
    """One input column: how the model will use it (`kind`) and why, in words."""

    name: str
    kind: str
    reason: str
    missing: int = 0
    distinct: int = 0
    hash_buckets: int = 0

    @property
    def used(self) -> bool:
        """True when preprocessing feeds the column to the model."""
        return self.kind in USED_KINDS


@dataclasses.dataclass(frozen=True)
class Finding:
    """A problem found before training; `fatal` ones stop the scaffold."""

    column: str
    problem: str
    action: str
    fatal: bool

    def describe(self) -> str:
        """One line for the terminal: error or warning, the problem and what to do."""
        return f"{'error' if self.fatal else 'warning'}: {self.column}: {self.problem}; " \
               f"{self.action}"


def read_table(csv_path) -> pd.DataFrame:
    """The CSV as pandas reads it (header line first, empty cells are missing values)."""
    try:
        return pd.read_csv(csv_path, skipinitialspace=True, keep_default_na=False,
                           na_values=[""])
    except pd.errors.EmptyDataError:
        raise ScaffoldError(f"{csv_path}: the file is empty; it needs a header line and rows") \
            from None


def _is_integral(values: pd.Series) -> bool:
    numbers = pd.to_numeric(values, errors="coerce")
    return bool(numbers.notna().all() and np.all(np.mod(numbers, 1) == 0))


def _looks_like_timestamp(values: pd.Series) -> bool:
    sample = values.astype(str).head(200)
    if not sample.str.contains(r"\d", regex=True).all():
        return False
    parsed = pd.to_datetime(sample, errors="coerce")
    return bool(parsed.notna().mean() >= TIMESTAMP_SHARE)


def _is_id_like(name: str, values: pd.Series, rows: int) -> bool:
    distinct = values.nunique()
    if rows < 10 or distinct < ID_UNIQUE_SHARE * rows:
        return False
    if pd.api.types.is_float_dtype(values) and not _is_integral(values):
        return False
    if pd.api.types.is_numeric_dtype(values):
        return bool(values.is_monotonic_increasing or values.is_monotonic_decreasing
                    or re.search(r"(^|_|\b)id$", name.lower()))
    return True


def classify_column(name: str, values: pd.Series) -> Column:
    """The kind of one input column and the reason, from its values (missing cells ignored)."""
    present = values.dropna()
    missing = int(values.isna().sum())
    distinct = int(present.nunique())
    facts = dict(missing=missing, distinct=distinct)
    if distinct <= 1:
        what = "no values" if distinct == 0 else f"one value ({present.iloc[0]!r})"
        return Column(name, "constant", f"{what}: it cannot tell rows apart", **facts)
    identifier = Column(name, "id", f"an identifier ({distinct} distinct values in "
                                    f"{len(values)} rows): it names rows, it does not describe "
                                    "them", **facts)
    numeric = pd.api.types.is_numeric_dtype(present) and not pd.api.types.is_bool_dtype(present)
    if numeric and _is_id_like(name, present, len(values)):
        return identifier
    if pd.api.types.is_bool_dtype(present):
        return Column(name, "categorical", "true/false values", **facts)
    if pd.api.types.is_numeric_dtype(present):
        return Column(name, "numeric", "numbers: z-scored, missing values get the mean",
                      **facts)
    text = present.astype(str)
    if _looks_like_timestamp(text):
        return Column(name, "timestamp", "dates or times: excluded (derive numeric features "
                                         "such as hour or weekday in preprocessing.py to use it)",
                      **facts)
    if text.str.split().str.len().mean() >= TEXT_MIN_WORDS:
        return Column(name, "text", "free text: excluded (a text model needs its own "
                                    "tokenizer; see models/sentiment_rnn)", **facts)
    if _is_id_like(name, text, len(values)):
        return identifier
    if distinct <= VOCABULARY_MAX:
        return Column(name, "categorical", f"{distinct} categories: a vocabulary, missing "
                                           "values get their own category", **facts)
    buckets = min(HASH_BUCKETS_MAX, HASH_BUCKETS_PER_VALUE * distinct)
    return Column(name, "hashed", f"{distinct} categories (more than {VOCABULARY_MAX}): hashed "
                                  f"into {buckets} buckets", hash_buckets=buckets, **facts)


def infer_task(label: pd.Series) -> Tuple[str, str]:
    """(task, reason) from the label's values: strings or two values are classes, integers with
    few distinct values are class ids, other numbers are a quantity to regress."""
    present = label.dropna()
    distinct = int(present.nunique())
    if not pd.api.types.is_numeric_dtype(present) or pd.api.types.is_bool_dtype(present):
        task = "binary" if distinct == 2 else "multiclass"
        return task, f"the label holds {distinct} distinct non-numeric values"
    if distinct == 2:
        return "binary", "the label holds exactly 2 distinct values"
    if _is_integral(present) and distinct <= CLASS_IDS_MAX:
        return "multiclass", (f"the label holds {distinct} distinct whole numbers "
                              f"(at most {CLASS_IDS_MAX} are taken as class ids)")
    return "regression", (f"the label holds {distinct} distinct numbers"
                          + ("" if _is_integral(present) else ", not all whole"))


def check_label(label: pd.Series, task: str) -> List[Finding]:
    """Label problems: missing values (those rows are dropped), one class (nothing to learn),
    a regression label that is not numeric, a class with a single row."""
    name = str(label.name)
    findings = []
    missing = int(label.isna().sum())
    if missing:
        findings.append(Finding(name, f"{missing} of {len(label)} rows have no label",
                                "those rows are left out of training and evaluation; fill "
                                "them in the CSV to use them", fatal=False))
    present = label.dropna()
    if present.nunique() < 2:
        only = f"only {present.iloc[0]!r}" if len(present) else "no values at all"
        findings.append(Finding(name, f"the label has {only}: there is nothing to learn",
                                "use a CSV whose label takes at least two values", fatal=True))
        return findings
    if task == "regression" and not pd.api.types.is_numeric_dtype(present):
        findings.append(Finding(name, "regression needs a numeric label",
                                "pass --task binary or --task multiclass", fatal=True))
    if task == "binary" and present.nunique() != 2:
        findings.append(Finding(name, f"--task binary needs 2 classes, the label has "
                                      f"{present.nunique()}", "pass --task multiclass",
                                fatal=True))
    if task in ("binary", "multiclass"):
        counts = present.astype(str).value_counts()
        rare = sorted(counts[counts < 2].index)
        if rare:
            findings.append(Finding(name, f"classes with a single row: {rare[:5]}",
                                    "the model can hardly learn them; merge or drop them",
                                    fatal=False))
    return findings


def _bins(train: pd.Series, values: pd.Series) -> pd.Series:
    """Values as bin keys: quantile bins of `train` for numbers (missing is its own bin)."""
    if pd.api.types.is_numeric_dtype(train) and train.nunique() > LEAK_BINS:
        edges = np.unique(np.nanquantile(train.astype(float), np.linspace(0, 1, LEAK_BINS + 1)))
        keys = np.searchsorted(edges[1:-1], values.astype(float), side="right")
        return pd.Series(np.where(values.isna(), -1, keys), index=values.index).astype(str)
    return values.astype(str).fillna("__missing__")


def single_column_score(values: pd.Series, label: pd.Series, task: str) -> float:
    """How well the column alone predicts the label on held-out rows (two folds, each scored
    by a per-bin majority class or mean fitted on the other): accuracy, or R² for regression."""
    index = np.arange(len(values))
    scores = []
    for fold in (0, 1):
        fit, held = index % 2 != fold, index % 2 == fold
        fit_keys = _bins(values[fit], values[fit])
        held_keys = _bins(values[fit], values[held])
        fit_label, held_label = label[fit], label[held]
        if task == "regression":
            means = fit_label.groupby(fit_keys.values).mean()
            guess = held_keys.map(means).fillna(fit_label.mean()).values
            residual = np.sum((held_label.values - guess) ** 2)
            total = np.sum((held_label.values - held_label.mean()) ** 2)
            scores.append(1.0 - residual / total if total > 0 else 0.0)
        else:
            majority = fit_label.astype(str).groupby(fit_keys.values).agg(
                lambda s: s.value_counts().index[0])
            guess = held_keys.map(majority).fillna(fit_label.astype(str).mode().iloc[0])
            scores.append(float(np.mean(guess.values == held_label.astype(str).values)))
    return float(np.mean(scores))


def check_leakage(frame: pd.DataFrame, label_key: str, task: str,
                  columns: Sequence[Column]) -> List[Finding]:
    """Used columns that alone predict the label almost perfectly (fatal: a model trained on
    them learns nothing it can use on new rows), and identifier columns (left out, said so)."""
    labelled = frame[frame[label_key].notna()].reset_index(drop=True)
    label = labelled[label_key]
    findings = []
    if task != "regression":
        majority = float(label.astype(str).value_counts(normalize=True).iloc[0])
    for column in columns:
        if column.kind == "id":
            findings.append(Finding(column.name, column.reason,
                                    "it is left out of the model (pass --exclude "
                                    f"{column.name} to say so and silence this)", fatal=False))
        if not column.used:
            continue
        score = single_column_score(labelled[column.name], label, task)
        if task == "regression":
            leaks, measure = score >= LEAK_R2, f"R² {score:.3f}"
        else:
            leaks, measure = score >= LEAK_ACCURACY and majority < LEAK_ACCURACY, \
                f"accuracy {score:.3f} (always guessing the commonest class: {majority:.3f})"
        if leaks:
            findings.append(Finding(
                column.name, f"alone it predicts the label almost perfectly ({measure} on "
                             "held-out rows): probably computed from the label or known only "
                             "after it", f"rerun with --exclude {column.name}", fatal=True))
    return findings


def profile_columns(frame: pd.DataFrame, label_key: str,
                    exclude: Sequence[str] = ()) -> List[Column]:
    """Every column but the label, classified; `exclude`d ones are kept out by request."""
    unknown = sorted(set(exclude) - set(frame.columns))
    if unknown:
        raise ScaffoldError(f"--exclude {', '.join(unknown)}: no such column; the columns are "
                            f"{', '.join(map(str, frame.columns))}")
    columns = []
    for name in frame.columns:
        if name == label_key:
            continue
        if name in exclude:
            columns.append(Column(name, "excluded", "left out by --exclude"))
        else:
            columns.append(classify_column(str(name), frame[name]))
    return columns


def row_hashes(frame: pd.DataFrame) -> pd.Series:
    """A hash of each row's values (hex), independent of the row's position."""
    return pd.Series([hashlib.sha256("\x1f".join(map(str, row)).encode()).hexdigest()
                      for row in frame.itertuples(index=False)], index=frame.index, dtype=object)


def row_split(frame: pd.DataFrame) -> pd.Series:
    """'train' or 'eval' per row from a hash of the row's values, not its position: a shuffled
    copy of the same table splits into the same two sets."""
    return row_hashes(frame).map(
        lambda digest: "eval" if int(digest[:16], 16) % EVAL_OF < EVAL_BUCKETS else "train")


def naive_baseline(train_label: pd.Series, eval_label: pd.Series, task: str) -> Dict[str, float]:
    """What guessing scores on the eval rows, fitted on the train rows: the commonest class
    (accuracy; AUC 0.5) or the mean (mean squared and absolute error)."""
    if task == "regression":
        guess = float(pd.to_numeric(train_label).mean())
        errors = pd.to_numeric(eval_label).astype(float) - guess
        return {"mean": guess, "mean_squared_error": float(np.mean(errors ** 2)),
                "mean_absolute_error": float(np.mean(np.abs(errors)))}
    commonest = train_label.astype(str).value_counts().index[0]
    accuracy = float(np.mean(eval_label.astype(str) == commonest))
    baseline = {"commonest_class": commonest, "accuracy": accuracy}
    if task == "binary":
        baseline["auc"] = 0.5
    return baseline


def classes_of(label: pd.Series, task: str) -> List[str]:
    """The label's classes as the CSV spells them, sorted (numbers numerically); for binary
    tasks the second is the positive class. Empty for regression."""
    if task == "regression":
        return []
    spelled = sorted({_spelled(v) for v in label.dropna()})
    numbers = pd.to_numeric(pd.Series(spelled, dtype=object), errors="coerce")
    if len(spelled) and numbers.notna().all():
        return [v for _, v in sorted(zip(numbers, spelled))]
    return spelled


def _spelled(value) -> str:
    """A label value as it appears in the CSV (1.0 read from a column with gaps -> '1')."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def label_strings(label: pd.Series) -> pd.Series:
    """The label as the strings classes_of uses."""
    return label.map(lambda v: v if pd.isna(v) else _spelled(v))


def safe_name(name: str, taken: Optional[Mapping[str, str]] = None) -> str:
    """A Python/TensorFlow-safe key for a column ("mean radius" -> "mean_radius"), made unique
    among the values of `taken`."""
    base = re.sub(r"[^0-9a-zA-Z_]+", "_", str(name)).strip("_").lower() or "column"
    if base[0].isdigit():
        base = "c_" + base
    used = set((taken or {}).values())
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base}_{n}", n + 1
    return candidate
