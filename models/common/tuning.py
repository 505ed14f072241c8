"""KerasTuner support for the tf.keras models the pipeline trains."""
import keras_tuner


class LegacyKerasRandomSearch(keras_tuner.RandomSearch):
    """RandomSearch that fits tf.keras (legacy Keras 2) models.

    keras-tuner 1.4 checks built models against Keras 3 when it is installed (TFX's stack has
    both) and rejects the tf.keras models TFX trains; overriding run_trial, the documented hook,
    builds and fits them directly and reports the last epoch's metrics. The tuned model is thus
    the very model the Trainer trains.
    """

    def run_trial(self, trial, *args, **kwargs):
        """Override of the documented hook: builds and fits the trial's tf.keras model directly,
        past keras-tuner's Keras 3 check (see the class docstring)."""
        built = self.hypermodel.build(trial.hyperparameters)
        history = built.fit(*args, **kwargs)
        return {name: float(values[-1]) for name, values in history.history.items()}
