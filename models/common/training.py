"""Distribution strategy, precision policy, callbacks and input pipelines shared by all run_fns.

The Trainer runs the same run_fn on a laptop, a multi-GPU box or a Kubeflow cluster; which
tf.distribute strategy applies is decided here from the machine and TF_CONFIG, never in a model.
"""
import json
import logging
import math
import os
from typing import Any, Dict, List, Mapping, Optional

import tensorflow as tf

from models.common import signatures as common_signatures

STRATEGIES = ("auto", "default", "mirrored", "multi_worker")
# The accuracy metric of the multi-class models: the Keras metric name the Tuner's objective
# ("val_" + it) and the TFMA thresholds' key share.
MULTICLASS_ACCURACY = "sparse_categorical_accuracy"


def _cluster_workers(tf_config: Optional[str]) -> int:
    if not tf_config:
        return 0
    cluster = json.loads(tf_config).get("cluster", {})
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def choose_strategy_name(requested: str = "auto", num_gpus: Optional[int] = None,
                         tf_config: Optional[str] = None) -> str:
    """The strategy to use: MultiWorker when TF_CONFIG names several workers, Mirrored on >1 GPU."""
    if requested not in STRATEGIES:
        raise ValueError(f"distribution strategy must be one of {STRATEGIES}, got {requested!r}")
    if requested != "auto":
        return requested
    if num_gpus is None:
        num_gpus = len(tf.config.list_physical_devices("GPU"))
    if tf_config is None:
        tf_config = os.environ.get("TF_CONFIG")
    if _cluster_workers(tf_config) > 1:
        return "multi_worker"
    if num_gpus > 1:
        return "mirrored"
    return "default"


def worker_role(tf_config: Optional[str] = None) -> Dict[str, Any]:
    """This process's task in TF_CONFIG: its type, index and whether it is the chief (the task
    'chief', or worker 0 when the cluster names no chief) - the one that writes the model."""
    if tf_config is None:
        tf_config = os.environ.get("TF_CONFIG")
    config = json.loads(tf_config) if tf_config else {}
    task = config.get("task", {})
    task_type, index = task.get("type", "chief"), int(task.get("index", 0))
    has_chief = bool(config.get("cluster", {}).get("chief"))
    chief = task_type == "chief" or (not has_chief and task_type == "worker" and index == 0)
    return {"type": task_type, "index": index, "chief": chief}


def make_strategy(requested: str = "auto") -> tf.distribute.Strategy:
    """The strategy choose_strategy_name picks, built; logged so that a run's log says how it
    trained."""
    name = choose_strategy_name(requested)
    logging.info("tf.distribute strategy: %s", name)
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def choose_precision_policy(requested: str = "auto", num_gpus: Optional[int] = None) -> str:
    """'mixed_float16' on a GPU (tensor cores), 'float32' on CPU where float16 is slower."""
    if requested != "auto":
        return requested
    if num_gpus is None:
        num_gpus = len(tf.config.list_physical_devices("GPU"))
    return "mixed_float16" if num_gpus > 0 else "float32"


def apply_precision_policy(requested: str = "auto") -> str:
    """Sets the Keras global policy choose_precision_policy picks; it must run before the model
    is built, which reads it. Returns the policy's name."""
    policy = choose_precision_policy(requested)
    tf.keras.mixed_precision.set_global_policy(policy)
    return policy


def hyperparameters(fn_args, defaults: Mapping[str, Any]) -> Dict[str, Any]:
    """Defaults, overridden by the pipeline's custom_config and then by a Tuner's best values."""
    params = dict(defaults)
    custom = (getattr(fn_args, "custom_config", None) or {}).get("hyperparameters", {})
    unknown = set(custom) - set(defaults)
    if unknown:
        raise ValueError(f"unknown hyperparameters {sorted(unknown)}; known: {sorted(defaults)}")
    params.update(custom)
    tuned = getattr(fn_args, "hyperparameters", None)
    if tuned:
        values = tuned.get("values", tuned) if isinstance(tuned, dict) else tuned
        params.update({k: v for k, v in values.items() if k in defaults})
    return params


def epochs_and_steps(train_steps: int, epochs: int) -> Dict[str, int]:
    """Split the Trainer's total train_steps into `epochs` epochs (EarlyStopping checks each)."""
    epochs = max(1, min(epochs, train_steps))
    return {"epochs": epochs, "steps_per_epoch": math.ceil(train_steps / epochs)}


def standard_callbacks(log_dir: str, patience: int = 2, monitor: str = "val_loss") -> List:
    """EarlyStopping that restores the best weights (the exported model is the best epoch, not
    the last) and TensorBoard logs in `log_dir`, the Trainer's model_run_dir."""
    return [
        tf.keras.callbacks.EarlyStopping(monitor=monitor, patience=patience,
                                         restore_best_weights=True),
        tf.keras.callbacks.TensorBoard(log_dir=log_dir, update_freq="epoch"),
    ]


def transformed_dataset(fn_args, file_pattern, tf_transform_output, label_key: str,
                        batch_size: int, shuffle: bool = True):
    """tf.data of (transformed features, label) read through TFX's data accessor."""
    from tfx_bsl.public import tfxio

    # Several workers shard by element: Transform may write a single file, and sharding by file
    # then fails ("Could not apply FILE based sharding: the dataset only has 1 file(s)").
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return fn_args.data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=label_key,
                                       shuffle=shuffle, shuffle_seed=42),
        tf_transform_output.transformed_metadata.schema,
    ).with_options(options).prefetch(tf.data.AUTOTUNE)


def fit(fn_args, params: Mapping[str, Any], label_key: str, build_model, features=None,
        patience: int = 2, class_weight=None):
    """Seeds, applies the precision policy, builds the model under the chosen strategy and fits
    it on Transform's output with the standard callbacks; the model code only says what to build.

    `build_model(tf_transform_output)` returns a compiled model; `features(x)` optionally picks
    what the model takes from the transformed feature dict; `class_weight(tf_transform_output)`
    optionally weighs the classes. Returns (model, tf_transform_output).
    """
    import tensorflow_transform as tft

    # MultiWorkerMirroredStrategy configures collective ops, which must precede other TF work.
    strategy = make_strategy(params["distribution_strategy"])
    tf.keras.utils.set_random_seed(42)
    apply_precision_policy(params["precision_policy"])
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    train_ds = transformed_dataset(fn_args, fn_args.train_files, tf_transform_output, label_key,
                                   params["batch_size"])
    eval_ds = transformed_dataset(fn_args, fn_args.eval_files, tf_transform_output, label_key,
                                  params["batch_size"], shuffle=False)
    if features is not None:
        train_ds = train_ds.map(lambda x, y: (features(x), y))
        eval_ds = eval_ds.map(lambda x, y: (features(x), y))
    with strategy.scope():
        model = build_model(tf_transform_output)
    model.fit(train_ds, validation_data=eval_ds, validation_steps=fn_args.eval_steps,
              class_weight=class_weight(tf_transform_output) if class_weight else None,
              callbacks=standard_callbacks(_worker_dir(fn_args.model_run_dir), patience=patience),
              verbose=2,
              **epochs_and_steps(fn_args.train_steps, params["epochs"]))
    return model, tf_transform_output


def _worker_dir(directory: str) -> str:
    """`directory` for the chief; a scratch folder beside it for another worker (under
    MultiWorkerMirroredStrategy every worker must save, but only the chief's copy is kept)."""
    role = worker_role()
    return directory if role["chief"] else f"{directory}.{role['type']}-{role['index']}.tmp"


def compile_multiclass(inputs, outputs, name: str, learning_rate: float) -> tf.keras.Model:
    """The Keras model over softmax `outputs`, compiled with the loss and the accuracy metric
    (MULTICLASS_ACCURACY) that the multi-class eval config and Tuner objective expect."""
    model = tf.keras.Model(inputs, outputs, name=name)
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy",
                  metrics=[tf.keras.metrics.SparseCategoricalAccuracy(name=MULTICLASS_ACCURACY)])
    return model


def fit_and_export(fn_args, params: Mapping[str, Any], label_key: str, build_model,
                   make_signatures, keras_metadata: bool = False, **fit_options):
    """The whole Trainer step most run_fns need: `fit`, then the SavedModel in
    `fn_args.serving_model_dir`, where the Evaluator and Pusher look for it.

    `make_signatures(model, tf_transform_output)` returns the model's own signatures and sets
    `model.tft_layer`; `transform_features` (serialized tf.Examples -> Transform's outputs, what
    TFMA's `preprocessing_function_names` call) is added to every model here.
    `keras_metadata` saves through Keras (`model.save(save_format="tf")`) so that
    `tf.keras.models.load_model` can rebuild custom layers, rather than `tf.saved_model.save`.
    `fit_options` go to `fit`. Returns (model, tf_transform_output) for further exports.
    """
    model, tf_transform_output = fit(fn_args, params, label_key, build_model, **fit_options)
    signatures = make_signatures(model, tf_transform_output)
    signatures["transform_features"] = common_signatures.transform_features(
        model, tf_transform_output.raw_feature_spec())
    export_dir = _worker_dir(fn_args.serving_model_dir)
    if keras_metadata:
        model.save(export_dir, save_format="tf", signatures=signatures)
    else:
        tf.saved_model.save(model, export_dir, signatures=signatures)
    if export_dir != fn_args.serving_model_dir:
        tf.io.gfile.rmtree(export_dir)
        tf.io.gfile.rmtree(_worker_dir(fn_args.model_run_dir))
    return model, tf_transform_output
