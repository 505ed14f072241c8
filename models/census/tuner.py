"""KerasTuner search space for census, used by `tfxp run --model census --tune`."""
import keras_tuner
import tensorflow_transform as tft
from tfx import v1 as tfx

from models.census import features, model
from models.common import training
from models.common.tuning import LegacyKerasRandomSearch

MAX_TRIALS = 4


def build_tunable_model(hp: keras_tuner.HyperParameters, vocab_sizes, base_params):
    """The census model with variant, learning rate and dropout drawn from the search space;
    the other hyperparameters stay as the Trainer uses them, so the best trial is what it trains."""
    params = dict(base_params,
                  variant=hp.Choice("variant", list(model.VARIANTS)),
                  learning_rate=hp.Choice("learning_rate", [0.003, 0.01, 0.03]),
                  dropout=hp.Choice("dropout", [0.1, 0.3]))
    return model.build_model(vocab_sizes, params)


def tuner_fn(fn_args) -> tfx.components.TunerFnResult:
    """TFX Tuner entry point: a random search fitted on Transform's output with the Trainer's
    epoch schedule."""
    params = training.hyperparameters(fn_args, model.DEFAULT_HYPERPARAMETERS)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    vocab_sizes = model.vocabulary_sizes(tf_transform_output)
    tuner = LegacyKerasRandomSearch(
        lambda hp: build_tunable_model(hp, vocab_sizes, params),
        objective=keras_tuner.Objective("val_auc", direction="max"),
        max_trials=MAX_TRIALS, seed=42, directory=fn_args.working_dir,
        project_name="census_tuning")
    schedule = training.epochs_and_steps(fn_args.train_steps, params["epochs"])
    datasets = {
        "x": training.transformed_dataset(fn_args, fn_args.train_files, tf_transform_output,
                                          features.TRANSFORMED_LABEL_KEY, params["batch_size"]),
        "validation_data": training.transformed_dataset(
            fn_args, fn_args.eval_files, tf_transform_output, features.TRANSFORMED_LABEL_KEY,
            params["batch_size"], shuffle=False),
    }
    return tfx.components.TunerFnResult(
        tuner=tuner,
        fit_kwargs=dict(datasets, validation_steps=fn_args.eval_steps, verbose=2, **schedule))
