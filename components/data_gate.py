"""A gate that fails the run when ExampleValidator found anomalies, before Transform trains on them.

TFX's ExampleValidator records anomalies but never stops a pipeline; this component reads its
output and raises :class:`DataGateError` naming every anomalous feature, per split, and why.
"""
import os
from typing import List

from tensorflow_data_validation.utils import anomalies_util
from tfx import types
from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts

ANOMALIES_FILE = "SchemaDiff.pb"


class DataGateError(RuntimeError):
    """The input data broke the schema; the message lists each feature and the reason."""


def describe_anomalies(anomalies_artifact: types.Artifact) -> List[str]:
    """One line per (split, feature) anomaly, e.g. "split 'train', feature 'age': ..."."""
    problems = []
    for split in artifact_utils.decode_split_names(anomalies_artifact.split_names):
        path = os.path.join(anomalies_artifact.uri, f"Split-{split}", ANOMALIES_FILE)
        anomalies = anomalies_util.load_anomalies_binary(path)
        for feature, info in sorted(anomalies.anomaly_info.items()):
            reasons = "; ".join(r.description or r.short_description for r in info.reason) \
                or info.description or info.short_description
            problems.append(f"split '{split}', feature '{feature}': {reasons}")
        if anomalies.HasField("dataset_anomaly_info"):
            reasons = "; ".join(r.description for r in anomalies.dataset_anomaly_info.reason)
            problems.append(f"split '{split}', whole dataset: {reasons}")
    return problems


def check(anomalies_artifact: types.Artifact) -> None:
    """Raises DataGateError listing every anomaly; returns quietly for clean data."""
    problems = describe_anomalies(anomalies_artifact)
    if problems:
        raise DataGateError(
            "DataGateError: the data gate stopped the run before Transform: "
            f"{len(problems)} anomal{'y' if len(problems) == 1 else 'ies'} found by ExampleValidator:\n  "
            + "\n  ".join(problems)
            + "\nFix the input files, or if the change is intended, update the model's schema "
              "(see the model's schema_path) and run again.")


@component
def DataGate(anomalies: InputArtifact[standard_artifacts.ExampleAnomalies]) -> None:
    """Stops the pipeline when the data validation found any anomaly."""
    check(anomalies)
