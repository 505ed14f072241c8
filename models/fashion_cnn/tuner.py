"""KerasTuner search for the CNN (`tfxp run --model fashion_cnn --tune`).

RandomSearch over the first layer's filters, dropout and learning rate: 3 trials of one short
epoch each (a sixth of the Trainer's train_steps), so tuning costs about half a training run. The
Trainer then trains the best values for the full schedule (models.common.training.hyperparameters
merges them over the defaults).
"""
import keras_tuner
import tensorflow as tf
import tensorflow_transform as tft
from tfx import v1 as tfx

from models.common import training
from models.common.tuning import LegacyKerasRandomSearch
from models.fashion_cnn import features, model

MAX_TRIALS = 3
TRIAL_FRACTION = 6
OBJECTIVE = "val_" + training.MULTICLASS_ACCURACY


def search_space() -> keras_tuner.HyperParameters:
    """The values the random search draws from; every other hyperparameter keeps its default."""
    hp = keras_tuner.HyperParameters()
    hp.Choice("filters", [16, 32])
    hp.Choice("dropout", [0.3, 0.5])
    hp.Choice("learning_rate", [1e-3, 2e-3])
    return hp


def tuner_fn(fn_args) -> tfx.components.TunerFnResult:
    """TFX Tuner entry point."""
    params = training.hyperparameters(fn_args, model.DEFAULT_HYPERPARAMETERS)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    train_ds = training.transformed_dataset(fn_args, fn_args.train_files, tf_transform_output,
                                            features.TRANSFORMED_LABEL_KEY, params["batch_size"])
    eval_ds = training.transformed_dataset(fn_args, fn_args.eval_files, tf_transform_output,
                                           features.TRANSFORMED_LABEL_KEY, params["batch_size"],
                                           shuffle=False)

    def build(hp: keras_tuner.HyperParameters) -> tf.keras.Model:
        return model.build_model({**params, **hp.values})

    tuner = LegacyKerasRandomSearch(
        build, objective=keras_tuner.Objective(OBJECTIVE, direction="max"),
        max_trials=MAX_TRIALS, hyperparameters=search_space(), seed=42,
        directory=fn_args.working_dir, project_name="fashion_cnn")
    return tfx.components.TunerFnResult(tuner=tuner, fit_kwargs={
        "x": train_ds, "validation_data": eval_ds, "epochs": 1, "verbose": 2,
        "steps_per_epoch": max(1, fn_args.train_steps // TRIAL_FRACTION),
        "validation_steps": fn_args.eval_steps})
