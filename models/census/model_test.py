"""Census model building: the documented logistic regression and the DNN variant."""
import numpy as np
import pytest
import tensorflow as tf

from models.census import features, model

VOCAB_SIZES = {key: 5 for key in features.CATEGORICAL_FEATURES}


def _params(**overrides):
    return dict(model.DEFAULT_HYPERPARAMETERS, **overrides)


def _batch(n=4):
    batch = {features.transformed_name(k): np.zeros((n, 1), np.float32)
             for k in features.NUMERIC_FEATURES}
    batch.update({features.transformed_name(k): np.arange(n, dtype=np.int64).reshape(n, 1) % 6
                  for k in features.CATEGORICAL_FEATURES})
    return batch


def test_logistic_regression_is_a_single_sigmoid_unit_on_the_encoded_features():
    m = model.build_model(VOCAB_SIZES, _params(variant="logistic"))
    dense = [layer for layer in m.layers if isinstance(layer, tf.keras.layers.Dense)]
    assert len(dense) == 1
    assert dense[0].units == 1 and dense[0].activation is tf.keras.activations.sigmoid
    encoded_width = len(features.NUMERIC_FEATURES) + sum(v + 1 for v in VOCAB_SIZES.values())
    assert dense[0].kernel.shape == (encoded_width, 1)


def test_dnn_has_regularised_hidden_layers_and_dropout():
    m = model.build_model(VOCAB_SIZES, _params(variant="dnn", hidden_units=[16, 8]))
    dense = [layer for layer in m.layers if isinstance(layer, tf.keras.layers.Dense)]
    assert [layer.units for layer in dense] == [16, 8, 1]
    assert all(layer.kernel_regularizer is not None for layer in dense[:-1])
    assert sum(isinstance(layer, tf.keras.layers.Dropout) for layer in m.layers) == 2


@pytest.mark.parametrize("variant", model.VARIANTS)
def test_predictions_are_probabilities(variant):
    m = model.build_model(VOCAB_SIZES, _params(variant=variant))
    predictions = m.predict(_batch(), verbose=0)
    assert predictions.shape == (4, 1)
    assert np.all((predictions > 0) & (predictions < 1))


def test_unknown_variant_is_rejected_by_name():
    with pytest.raises(ValueError, match="variant must be one of"):
        model.build_model(VOCAB_SIZES, _params(variant="forest"))


def test_a_model_trains_to_separate_a_learnable_signal():
    tf.keras.utils.set_random_seed(0)
    m = model.build_model(VOCAB_SIZES, _params(learning_rate=0.1))
    x = _batch(64)
    signal = np.random.default_rng(0).normal(size=(64, 1)).astype(np.float32)
    x[features.transformed_name("age")] = signal
    y = (signal > 0).astype(np.float32)
    m.fit(x, y, epochs=30, verbose=0)
    assert m.evaluate(x, y, verbose=0, return_dict=True)["binary_accuracy"] > 0.9
