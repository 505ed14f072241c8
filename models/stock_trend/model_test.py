"""Stock-trend model: both recurrent cells build, class weights balance the classes."""
import numpy as np
import pytest

from models.stock_trend import features, model


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_cells_build_and_output_class_probabilities(cell):
    keras_model = model.build_model({**model.DEFAULT_HYPERPARAMETERS, "cell": cell})
    assert keras_model.get_layer(cell) is not None
    inputs = {features.transformed_name(name): np.random.normal(
        size=(4, features.SEQUENCE_LENGTH)).astype("float32") for name in features.INDICATORS}
    probabilities = keras_model.predict(inputs, verbose=0)
    assert probabilities.shape == (4, len(features.CLASSES))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_unknown_cell_is_rejected():
    with pytest.raises(ValueError, match="cell must be one of"):
        model.build_model({**model.DEFAULT_HYPERPARAMETERS, "cell": "transformer"})


def test_class_weights_are_inverse_frequency():
    weights = model.class_weights(np.array([0, 1, 1, 2, 2, 2]))
    assert weights[0] == 2.0 and weights[1] == 1.0 and np.isclose(weights[2], 2 / 3)
    with pytest.raises(ValueError, match="lacks a class"):
        model.class_weights(np.array([0, 1, 1]))
