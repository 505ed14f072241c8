"""The documented models, each a package behind one small interface.

Every model package (``models/<name>/``) exposes ``SPEC``, a :class:`models.spec.ModelSpec`:

* ``prepare_data(out_dir)`` writes the full dataset as ``out_dir/<split>/*`` (CSV or TFRecord of
  tf.Example, per ``example_format``) plus ``out_dir/MANIFEST.json``; rerunning is a no-op.
* ``sample_dir``: a small committed copy of that layout, used by the tests and ``tfxp run --sample``.
* ``schema_path``: a curated schema (``ImportSchemaGen``), or ``None`` to infer one (``SchemaGen``).
* ``preprocessing_fn`` / ``run_fn`` / ``tuner_fn``: importable dotted paths, so Transform, Trainer
  and Tuner import them from the installed project (locally and inside the Kubeflow image).
* ``eval_config(thresholds)``: the TFMA EvalConfig (metrics, slices, value and change thresholds);
  ``thresholds`` for the full data and ``sample_thresholds`` for the committed sample.
* ``serving_signatures``: the signatures the exported SavedModel carries (``serving_default`` takes
  serialized tf.Examples; others are named in the model's docs).
* ``train_steps``/``eval_steps`` (full data) and ``sample_train_steps``/``sample_eval_steps``.
* ``min_split_examples``: the fewest rows per split the data gate lets through.
* Hyperparameter defaults live beside ``run_fn`` (``DEFAULT_HYPERPARAMETERS``); ``tfxp run --hparam``
  overrides reach it as ``fn_args.custom_config['hyperparameters']``.

:func:`models.registry.get` maps a model name to its spec.
"""
