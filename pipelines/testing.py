"""Rows of the committed census sample, for the skew tests beside pipelines/ and the end-to-end
tests that send them to a server."""
from data import settings

CENSUS_NUMERIC = {"age", "fnlwgt", "education_num", "capital_gain", "capital_loss",
                  "hours_per_week"}


def census_sample_rows(split: str):
    """The sample split's CSV rows as dicts of column -> text."""
    path = settings.SAMPLES_ROOT / "census" / split / f"census_{split}.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    return [dict(zip(header, line.split(","))) for line in lines[1:]]
