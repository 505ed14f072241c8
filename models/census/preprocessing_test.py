"""preprocessing_fn on a handful of rows through tf.Transform's real Beam implementation."""
import tempfile

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import schema_utils

from models.census import features, preprocessing


def _instance(age, workclass, income):
    """A raw census row where only age, workclass and the label vary; None means missing."""
    instance = {key: [1] for key in features.NUMERIC_FEATURES}
    instance.update({key: [b"x"] for key in features.CATEGORICAL_FEATURES})
    instance["age"] = [] if age is None else [age]
    instance["workclass"] = [] if workclass is None else [workclass.encode()]
    instance[features.LABEL_KEY] = [income.encode()]
    return instance


INSTANCES = [_instance(20, "Private", "<=50K"), _instance(40, "State-gov", ">50K"),
             _instance(60, None, "<=50K"), _instance(None, "Private", ">50K")]


def _raw_metadata():
    spec = {}
    for key in features.NUMERIC_FEATURES:
        spec[key] = tf.io.VarLenFeature(tf.int64)
    for key in features.CATEGORICAL_FEATURES + [features.LABEL_KEY]:
        spec[key] = tf.io.VarLenFeature(tf.string)
    return schema_utils.schema_from_feature_spec(spec)


@pytest.fixture(scope="module")
def transformed():
    from tensorflow_transform.tf_metadata import dataset_metadata

    metadata = dataset_metadata.DatasetMetadata(_raw_metadata())
    with tempfile.TemporaryDirectory() as tmp, tft_beam.Context(temp_dir=tmp):
        (rows, _), _ = (INSTANCES, metadata) | tft_beam.AnalyzeAndTransformDataset(
            preprocessing.preprocessing_fn, output_record_batches=False)
    return rows


def test_numeric_missing_value_is_imputed_with_the_mean_then_z_scored(transformed):
    ages = np.array([r[features.transformed_name("age")][0] for r in transformed])
    assert ages[3] == pytest.approx(0.0, abs=1e-5)
    assert ages[0] < 0 < ages[2]
    assert ages[:3].mean() == pytest.approx(0.0, abs=1e-5)


def test_missing_category_gets_its_own_vocabulary_id(transformed):
    ids = [int(r[features.transformed_name("workclass")][0]) for r in transformed]
    assert ids[0] == ids[3]
    assert len({ids[0], ids[1], ids[2]}) == 3


def test_label_is_one_for_more_than_50k(transformed):
    labels = [float(r[features.TRANSFORMED_LABEL_KEY][0]) for r in transformed]
    assert labels == [0.0, 1.0, 0.0, 1.0]


def test_every_output_is_a_single_column(transformed):
    expected = {features.transformed_name(k) for k in
                features.NUMERIC_FEATURES + features.CATEGORICAL_FEATURES + [features.LABEL_KEY]}
    assert set(transformed[0]) == expected
    assert all(len(v) == 1 for v in transformed[0].values())
