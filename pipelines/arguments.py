"""Arguments shared by every runner: the `create_pipeline` arguments that describe a model, and
the KEY=VALUE syntax of the command-line overrides (`tfxp run --hparam`,
`tfxp kubeflow --param`)."""
from typing import Mapping, Optional, Tuple

from models.spec import ModelSpec


def model_arguments(spec: ModelSpec, sample: bool = False, tune: bool = False,
                    hyperparameters: Optional[Mapping] = None) -> dict:
    """The create_pipeline arguments that come from the model spec alone (no paths, no runner).

    Runners that place data, schema and outputs elsewhere (Kubeflow) combine these with their own
    paths, so a model is described to every runner the same way `build` describes it."""
    if tune and not spec.tuner_fn:
        raise ValueError(f"model {spec.name!r} defines no tuner search space (tuner_fn)")
    thresholds = spec.sample_thresholds if sample else spec.thresholds
    return dict(
        example_format=spec.example_format,
        preprocessing_fn=spec.preprocessing_fn,
        run_fn=spec.run_fn,
        train_steps=spec.sample_train_steps if sample else spec.train_steps,
        eval_steps=spec.sample_eval_steps if sample else spec.eval_steps,
        eval_config=spec.eval_config(thresholds),
        hyperparameters=hyperparameters,
        tuner_fn=spec.tuner_fn if tune else None,
        code_fingerprint=spec.source_fingerprint(),
        model_name=spec.name,
        min_split_examples=dict(spec.min_split_examples),
        latency_ratio=spec.latency_p95_ratio,
    )


def split_key_value(text: str) -> Tuple[str, str]:
    """`KEY=VALUE` -> (KEY, VALUE), split at the first `=` so a value may hold more (a URL query).

    One syntax for every command-line override; the caller converts the value (JSON, a spec's
    parameter type). Raises ValueError naming `text` when it has no `=` or no key."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"expected KEY=VALUE, got {text!r}")
    return key, value
