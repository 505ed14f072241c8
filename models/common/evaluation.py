"""TFMA building blocks shared by the models' eval configs."""


def _gated_on_overall(class_name: str, value_threshold, change_threshold, **config):
    """A MetricConfig whose thresholds apply to the overall slice only."""
    import tensorflow_model_analysis as tfma

    return tfma.MetricConfig(class_name=class_name, per_slice_thresholds=[
        tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()],
                                     threshold=tfma.MetricThreshold(
                                         value_threshold=value_threshold,
                                         change_threshold=change_threshold))], **config)


def gated_metric(class_name: str, floor: float, max_drop: float, **config):
    """A metric that blocks the push on the overall slice when it is below `floor` or more than
    `max_drop` below the last blessed model (higher is better). Other slices are reported, not
    gated: small slices are too noisy for a stable floor."""
    import tensorflow_model_analysis as tfma

    return _gated_on_overall(
        class_name, tfma.GenericValueThreshold(lower_bound={"value": floor}),
        tfma.GenericChangeThreshold(direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                                    absolute={"value": -max_drop}), **config)


def multiclass_eval_config(label_key: str, thresholds):
    """Multi-class image models: SparseCategoricalAccuracy gated on the overall slice (floor
    `sparse_categorical_accuracy`, at most `max_accuracy_drop` below the baseline), every class
    reported as a slice on the raw label, and a confusion matrix plot."""
    import tensorflow_model_analysis as tfma

    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(signature_name="serving_default", label_key=label_key,
                                    prediction_key="probabilities")],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=[label_key])],
        metrics_specs=[tfma.MetricsSpec(metrics=[
            tfma.MetricConfig(class_name="ExampleCount"),
            gated_metric("SparseCategoricalAccuracy", thresholds["sparse_categorical_accuracy"],
                         thresholds["max_accuracy_drop"]),
            tfma.MetricConfig(class_name="SparseCategoricalCrossentropy"),
            tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
        ])])


def capped_metric(class_name: str, ceiling: float, max_relative_rise: float, **config):
    """An error metric (lower is better) that blocks the push on the overall slice when it is
    above `ceiling` or more than `max_relative_rise` (a fraction) above the last blessed model."""
    import tensorflow_model_analysis as tfma

    return _gated_on_overall(
        class_name, tfma.GenericValueThreshold(upper_bound={"value": ceiling}),
        tfma.GenericChangeThreshold(direction=tfma.MetricDirection.LOWER_IS_BETTER,
                                    relative={"value": max_relative_rise}), **config)
