"""The census search space builds valid models for every choice."""
import keras_tuner
import tensorflow as tf

from models.census import features, model, tuner


def test_search_space_covers_both_variants_and_builds_compiled_models():
    hp = keras_tuner.HyperParameters()
    vocab_sizes = {key: 3 for key in features.CATEGORICAL_FEATURES}
    built = tuner.build_tunable_model(hp, vocab_sizes, model.DEFAULT_HYPERPARAMETERS)
    assert set(hp.values) == {"variant", "learning_rate", "dropout"}
    assert hp.get("variant") in model.VARIANTS
    assert isinstance(built, tf.keras.Model) and built.optimizer is not None
    hp.values["variant"] = "dnn"
    dnn = tuner.build_tunable_model(hp, vocab_sizes, model.DEFAULT_HYPERPARAMETERS)
    assert len([l for l in dnn.layers if isinstance(l, tf.keras.layers.Dense)]) == 3
