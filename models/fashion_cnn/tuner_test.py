"""The tuner's search space and its tf.keras-compatible trial loop."""
import numpy as np
import tensorflow as tf

from models.fashion_cnn import model, tuner


def test_search_space_names_only_known_hyperparameters():
    space = tuner.search_space()
    assert set(space.values) <= set(model.DEFAULT_HYPERPARAMETERS)
    assert space.values == {"filters": 16, "dropout": 0.3, "learning_rate": 1e-3}


def test_random_search_trains_tf_keras_models_and_reports_best_values(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((32, 28, 28, 1)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    search = tuner.LegacyKerasRandomSearch(
        lambda hp: model.build_model({**model.DEFAULT_HYPERPARAMETERS, **hp.values}),
        objective=tuner.keras_tuner.Objective(tuner.OBJECTIVE, "max"),
        max_trials=2, hyperparameters=tuner.search_space(), seed=1, directory=str(tmp_path),
        project_name="t")
    search.search(x, y, validation_data=(x, y), epochs=1, batch_size=16, verbose=0)
    best = search.get_best_hyperparameters()[0].get_config()["values"]
    assert set(best) == {"filters", "dropout", "learning_rate"}
    assert len(search.oracle.trials) == 2
    assert isinstance(model.build_model({**model.DEFAULT_HYPERPARAMETERS, **best}), tf.keras.Model)
