"""Sentiment Transform: tokens, one vocabulary from the analyzed data, padding and OOV ids."""
import tempfile

import tensorflow as tf
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from models.sentiment_rnn import features, preprocessing


def test_tokenize_lowercases_splits_punctuation_and_truncates():
    tokens = preprocessing.tokenize(tf.constant(["A gripping, GREAT film!", "word " * 60]))
    assert tokens[0].numpy().tolist() == [b"a", b"gripping", b",", b"great", b"film", b"!"]
    assert len(tokens[1]) == features.MAX_TOKENS


def test_preprocessing_fn_pads_and_maps_unseen_words_to_the_oov_id():
    raw = [{"text": ["a gripping film"], "label": [1]}, {"text": ["a dull film"], "label": [0]},
           {"text": ["gripping and dull"], "label": [1]}]
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec({
        "text": tf.io.FixedLenFeature([1], tf.string),
        "label": tf.io.FixedLenFeature([1], tf.int64)}))
    with tft_beam.Context(temp_dir=tempfile.mkdtemp()):
        (transformed, _), _ = (raw, metadata) | tft_beam.AnalyzeAndTransformDataset(
            preprocessing.preprocessing_fn)
    first, _, third = [row[features.TOKENS_KEY].tolist() for row in transformed]
    assert len(first) == features.MAX_TOKENS
    assert first[3:] == [features.PAD_ID] * (features.MAX_TOKENS - 3)
    vocabulary_size = 4     # a, gripping, film, dull are seen twice; 'and' only once
    assert third[:3] == [first[1], vocabulary_size + 1, third[2]]
    assert all(0 < i <= vocabulary_size for i in first[:3])
    assert [row[features.TRANSFORMED_LABEL_KEY].tolist() for row in transformed] == \
        [[1.0], [0.0], [1.0]]
