"""The data of a scaffolded model: its CSV split into train/eval folders the way the pipeline
reads them. Rows missing the label are left out; the split and the row order come from a hash
of each row, so a shuffled copy of the same CSV prepares byte-identical files (and the pipeline's
cache sees no change)."""
import hashlib
import pathlib
from typing import Dict

import pandas as pd

from data import common
from models.scaffold import profile


def labelled_splits(frame: pd.DataFrame, label_key: str) -> Dict[str, pd.DataFrame]:
    """'train'/'eval' -> the rows that have a label, each split ordered by its rows' hashes.
    The label is spelled as in the CSV (a class 1 stays '1' even where gaps made pandas read
    floats), so the files hold the values the schema and the classes were inferred from."""
    if label_key not in frame.columns:
        raise profile.ScaffoldError(
            f"no column {label_key!r}; the columns are {', '.join(map(str, frame.columns))}")
    labelled = frame[frame[label_key].notna()].copy()
    labelled[label_key] = profile.label_strings(labelled[label_key]).astype(object)
    hashes = profile.row_hashes(labelled)
    split = profile.row_split(labelled)
    return {name: labelled.loc[hashes[split == name].sort_values().index]
            for name in ("train", "eval")}


def split_file(root: pathlib.Path, name: str, split: str) -> pathlib.Path:
    """Where a split's CSV lives: `<root>/<split>/<name>_<split>.csv`."""
    return pathlib.Path(root) / split / f"{name}_{split}.csv"


def write_splits(splits: Dict[str, pd.DataFrame], root: pathlib.Path, name: str) -> Dict[str, int]:
    """Writes each split's CSV; returns rows per split."""
    for split, rows in splits.items():
        path = split_file(root, name, split)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows.to_csv(path, index=False)
    return {split: len(rows) for split, rows in splits.items()}


def read_split(folder: pathlib.Path) -> pd.DataFrame:
    """Every CSV of one split folder as one frame."""
    files = sorted(pathlib.Path(folder).glob("*.csv"))
    if not files:
        raise FileNotFoundError(f"{folder}: no CSV files")
    return pd.concat([profile.read_table(f) for f in files], ignore_index=True)


def prepare(source_csv: str, label_key: str, name: str, out_dir: pathlib.Path) -> dict:
    """A model's `prepare_data`: the splits of `source_csv` in `out_dir` with MANIFEST.json;
    nothing is rewritten while the manifest vouches for the same rows."""
    source_path = pathlib.Path(source_csv)
    if not source_path.is_file():
        raise common.DataPreparationError(
            f"{source_csv} (the CSV model {name!r} was made from) does not exist; put it back, "
            f"or run `tfxp run --csv NEW.csv --label {label_key} --name {name}`")
    splits = labelled_splits(profile.read_table(source_path), label_key)
    digest = hashlib.sha256()
    for split in ("train", "eval"):
        digest.update(splits[split].to_csv(index=False).encode())
    source = f"rows sha256:{digest.hexdigest()[:16]} label {label_key}"
    return common.prepare_once(pathlib.Path(out_dir), source,
                               lambda root: (write_splits(splits, root, name), {}))
