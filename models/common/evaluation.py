"""TFMA building blocks shared by the models' eval configs."""


def gated_metric(class_name: str, floor: float, max_drop: float, **config):
    """A metric that blocks the push on the overall slice when it is below `floor` or more than
    `max_drop` below the last blessed model (higher is better). Other slices are reported, not
    gated: small slices are too noisy for a stable floor."""
    import tensorflow_model_analysis as tfma

    return tfma.MetricConfig(class_name=class_name, per_slice_thresholds=[
        tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()],
                                     threshold=tfma.MetricThreshold(
            value_threshold=tfma.GenericValueThreshold(lower_bound={"value": floor}),
            change_threshold=tfma.GenericChangeThreshold(
                direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                absolute={"value": -max_drop})))], **config)
