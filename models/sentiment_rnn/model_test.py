"""Sentiment models: both variants build and predict; attention ignores padding."""
import numpy as np
import pytest
import tensorflow as tf

from models.sentiment_rnn import features, model


def _params(**overrides):
    return {**model.DEFAULT_HYPERPARAMETERS, **overrides}


@pytest.mark.parametrize("variant,layer", [("simple_rnn", "simple_rnn"),
                                           ("lstm_attention", "attention")])
def test_variants_build_and_output_one_probability(variant, layer):
    keras_model = model.build_model(100, _params(variant=variant))
    assert keras_model.get_layer(layer) is not None
    tokens = np.zeros((2, features.MAX_TOKENS), np.int64)
    tokens[:, :3] = [[5, 6, 7], [8, 9, 100]]     # 100: the OOV id of a 99-word vocabulary
    probabilities = keras_model.predict(tokens, verbose=0)
    assert probabilities.shape == (2, 1) and np.all((probabilities > 0) & (probabilities < 1))


def test_unknown_variant_is_rejected():
    with pytest.raises(ValueError, match="variant must be one of"):
        model.build_model(100, _params(variant="transformer"))


def test_attention_gives_padded_steps_no_weight():
    attention = model.BahdanauAttention(8)
    values = tf.random.normal([2, 5, 4])
    mask = tf.constant([[True, True, False, False, False], [True] * 5])
    context, weights = attention(tf.random.normal([2, 4]), values, value_mask=mask)
    assert context.shape == (2, 4)
    np.testing.assert_allclose(weights.numpy()[0, 2:, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(weights.numpy().sum(axis=1), 1.0, rtol=1e-5)
    assert model.BahdanauAttention.from_config(attention.get_config()).units == 8
