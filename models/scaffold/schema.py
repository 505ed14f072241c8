"""The curated schema of a scaffolded model: TFDV infers types and domains from the rows exactly
as CsvExampleGen will read them, then the scaffold adds what a person would curate by hand: the
label is not expected at serving time, and every used feature gets drift and skew comparators
whose thresholds come from measured re-samples of the same data (as data/drift_distances does for
the built-in models), so honest sampling noise never stops a run.
"""
import io
import random
from typing import Dict, List, Sequence

import pandas as pd

from data import validation
from data.drift_distances import measuring_schema
from models.scaffold.profile import Column

# Thresholds are this many times the largest distance between honest re-samples, with floors.
MARGIN = 2.5
FLOORS = {"Jensen-Shannon": 0.02, "L-infinity": 0.05}
SEEDS = 3


def csv_lines(frame: pd.DataFrame) -> List[str]:
    """The frame as the CSV lines (header first) the pipeline's files will hold."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().splitlines()


def statistics(frame: pd.DataFrame, schema=None):
    """TFDV statistics of the frame's rows, typed the way CsvExampleGen types them."""
    return validation.statistics_from_examples(validation.csv_examples(csv_lines(frame)), schema)


def _largest_distances(schema, frame: pd.DataFrame, split: pd.Series) -> Dict[str, float]:
    """feature -> the largest drift (random halves) or skew (train vs eval) distance measured."""
    measuring = measuring_schema(schema)
    largest: Dict[str, float] = {}
    pairs = []
    for seed in range(SEEDS):
        order = list(range(len(frame)))
        random.Random(seed).shuffle(order)
        half = len(order) // 2
        pairs.append(dict(statistics=statistics(frame.iloc[order[:half]], measuring),
                          previous=statistics(frame.iloc[order[half:]], measuring)))
    pairs.append(dict(statistics=statistics(frame[split == "train"], measuring),
                      serving=statistics(frame[split == "eval"], measuring)))
    for pair in pairs:
        for distance in validation.distances(measuring, **pair):
            key = (distance.feature, distance.measure)
            largest[key] = max(largest.get(key, 0.0), distance.value)
    return largest


def infer_curated_schema(frame: pd.DataFrame, label_key: str, columns: Sequence[Column],
                         split: pd.Series):
    """The schema proto: TFDV-inferred, label left out of SERVING, domains only on vocabulary
    columns, and measured drift/skew comparators on every used column."""
    import tensorflow_data_validation as tfdv

    schema = tfdv.infer_schema(validation.as_list(statistics(frame)), infer_feature_shape=False)
    vocabularies = {c.name for c in columns if c.kind == "categorical"}
    if pd.to_numeric(frame[label_key], errors="coerce").isna().any():
        vocabularies.add(label_key)   # a label of names (TFDV types one of numbers INT/FLOAT)
    schema.ClearField("string_domain")
    for feature in schema.feature:
        feature.ClearField("domain")
        if feature.name in vocabularies:
            domain = schema.string_domain.add(name=feature.name)
            domain.value.extend(sorted(frame[feature.name].dropna().astype(str).unique()))
            feature.domain = feature.name
    schema.default_environment.extend(["TRAINING", "SERVING"])
    tfdv.get_feature(schema, label_key).not_in_environment.append("SERVING")
    used = {c.name for c in columns if c.used}
    largest = _largest_distances(schema, frame, split)
    for feature in schema.feature:
        if feature.name not in used:
            continue
        for (name, measure), value in largest.items():
            if name != feature.name:
                continue
            threshold = round(max(FLOORS[measure], MARGIN * value), 3)
            for comparator in (feature.drift_comparator, feature.skew_comparator):
                if measure == "Jensen-Shannon":
                    comparator.jensen_shannon_divergence.threshold = threshold
                else:
                    comparator.infinity_norm.threshold = threshold
    return schema
