"""Measures drift and skew distances between honest re-samples of a model's prepared data, to
set the thresholds in its curated schema so that normal sampling variation never stops a run.

    python -m data.drift_distances --model census [--seeds 3] [--only FEATURE]

For every feature a comparator can measure (numeric: Jensen-Shannon divergence; categorical
with a domain: L-infinity distance; free text, images and ids are left out), it prints the largest
distance seen over the seeds for: two random halves of the train split; a random subset the size
of the committed sample vs the whole train split; the committed sample's train split vs the whole
train split; train vs eval (skew) on the full data and on the committed sample.
"""
import argparse
import glob
import os
import random
from typing import Dict, List, Sequence

from data import settings, validation

NEVER = 1e9  # a threshold no distance reaches: TFDV still records the measurement


def measuring_schema(schema):
    """A copy of `schema` with a drift and a skew comparator on every measurable feature."""
    from tensorflow_metadata.proto.v0 import schema_pb2

    measuring = schema_pb2.Schema.FromString(schema.SerializeToString())
    for feature in measuring.feature:
        feature.ClearField("drift_comparator")
        feature.ClearField("skew_comparator")
        if feature.type == schema_pb2.BYTES:
            if not (feature.domain or feature.HasField("string_domain")):
                continue
            feature.drift_comparator.infinity_norm.threshold = NEVER
            feature.skew_comparator.infinity_norm.threshold = NEVER
        else:
            feature.drift_comparator.jensen_shannon_divergence.threshold = NEVER
            feature.skew_comparator.jensen_shannon_divergence.threshold = NEVER
    return measuring


def split_examples(root, split: str, only: Sequence[str] = ()) -> List[bytes]:
    """The split's serialized tf.Examples; with `only`, keeping just those features (fashion's
    60,000 PNG strings make statistics of the whole example slow and measure nothing)."""
    import tensorflow as tf

    files = sorted(f for f in glob.glob(os.path.join(root, split, "*")) if os.path.isfile(f))
    records = [record for path in files for record in validation.read_examples(path)]
    if not only:
        return records
    kept = []
    for record in records:
        example = tf.train.Example.FromString(record)
        for name in list(example.features.feature):
            if name not in only:
                del example.features.feature[name]
        kept.append(example.SerializeToString())
    return kept


def measure(model: str, seeds: int = 3, only: Sequence[str] = ()) -> Dict[str, Dict[str, float]]:
    """comparison -> feature -> largest distance over the seeds."""
    import tensorflow_data_validation as tfdv

    schema = measuring_schema(tfdv.load_schema_text(str(settings.SCHEMAS_ROOT / f"{model}.pbtxt")))

    def stats(records):
        return validation.statistics_from_examples(records, schema)

    full_train = split_examples(settings.PREPARED_ROOT / model, "train", only)
    full_eval = split_examples(settings.PREPARED_ROOT / model, "eval", only)
    sample_train = split_examples(settings.SAMPLES_ROOT / model, "train", only)
    sample_eval = split_examples(settings.SAMPLES_ROOT / model, "eval", only)
    full_train_stats = stats(full_train)
    results: Dict[str, Dict[str, float]] = {}

    def record(comparison, found, kind):
        row = results.setdefault(comparison, {})
        for d in found:
            if d.comparison == kind:
                row[d.feature] = max(row.get(d.feature, 0.0), d.value)

    for seed in range(seeds):
        shuffled = list(full_train)
        random.Random(seed).shuffle(shuffled)
        half = len(shuffled) // 2
        record("halves", validation.distances(schema, stats(shuffled[:half]),
                                              previous=stats(shuffled[half:])), "drift")
        record("sample-size subset vs full",
               validation.distances(schema, stats(shuffled[:len(sample_train)]),
                                    previous=full_train_stats), "drift")
    record("committed sample vs full",
           validation.distances(schema, stats(sample_train), previous=full_train_stats), "drift")
    record("skew train/eval (full)",
           validation.distances(schema, full_train_stats, serving=stats(full_eval)), "skew")
    record("skew train/eval (sample)",
           validation.distances(schema, stats(sample_train), serving=stats(sample_eval)), "skew")
    return results


def main(argv=None) -> int:
    """Command-line entry point: prints one row per feature, one column per comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", action="append", default=[], metavar="FEATURE",
                        help="measure just this feature (repeatable)")
    args = parser.parse_args(argv)
    results = measure(args.model, args.seeds, args.only)
    features = sorted({f for row in results.values() for f in row})
    print(f"{'feature':<18}" + "".join(f"{c[:26]:>28}" for c in results))
    for feature in features:
        print(f"{feature:<18}" + "".join(f"{results[c].get(feature, float('nan')):>28.4f}"
                                         for c in results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
