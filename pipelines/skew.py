"""`tfxp skew`: training/serving skew of a served version, from TF Serving's request logs.

Request logs are TFRecord files of `tensorflow.serving.PredictionLog` (TF Serving's request
logging format). The raw feature rows clients sent are rebuilt from them
(:func:`read_request_examples`), TFDV statistics are computed and compared with the training
statistics the version carries in `assets.extra/training_data/` using the skew comparators of
the schema it was trained with. The result is saved under the pipeline home so that the model's
HTML report shows a "serving skew" section.
"""
import dataclasses
import json
import pathlib
from typing import Iterable, List, Optional, Tuple

from data import validation
from pipelines import text_table

EXIT_NO_SKEW, EXIT_SKEW = 0, 4
RESULT_DIR = "serving_skew"
RESULT_FILE = "serving_skew.json"
SERVING_STATISTICS_FILE = "serving_statistics.pb"


class SkewInputError(ValueError):
    """The version or the request logs cannot be used; the message says what is missing."""


def _tensor_rows(inputs) -> List[bytes]:
    """tf.Examples of a PredictRequest: one string input of serialized tf.Examples is taken as
    is; named raw-feature tensors (census's `serving_raw`) become one example per batch row."""
    import numpy as np
    import tensorflow as tf

    arrays = {name: tf.make_ndarray(proto) for name, proto in inputs.items()}
    if len(arrays) == 1:
        (only,) = arrays.values()
        if only.dtype == object and only.size:
            try:
                parsed = [tf.train.Example.FromString(v) for v in only.reshape(-1)]
            except Exception:  # not serialized examples: a single raw string feature
                parsed = []
            if parsed and all(e.features.feature for e in parsed):
                return [e.SerializeToString() for e in parsed]
    batch = min(len(a) for a in arrays.values()) if arrays else 0
    rows = []
    for i in range(batch):
        example = tf.train.Example()
        for name, array in arrays.items():
            values = np.asarray(array[i]).reshape(-1)
            feature = example.features.feature[name]
            if values.dtype == object or values.dtype.kind in "SU":
                strings = [v if isinstance(v, bytes) else str(v).encode() for v in values]
                if strings and all(s == b"" for s in strings):
                    del example.features.feature[name]  # "" is a missing category
                    continue
                feature.bytes_list.value.extend(strings)
            elif values.dtype.kind in "iub":
                feature.int64_list.value.extend(int(v) for v in values)
            else:
                feature.float_list.value.extend(float(v) for v in values)
        rows.append(example.SerializeToString())
    return rows


def read_request_examples(logs) -> List[bytes]:
    """Serialized tf.Examples of the raw rows clients sent, from the request-log files that
    `logs` names (a file, a folder of `*.tfrecord` files or a filename prefix), read with the
    server's own reader."""
    from serving.server import request_log, signature

    rows: List[bytes] = []
    try:
        for log in request_log.read_prediction_logs(logs):
            kind = log.WhichOneof("log_type")
            if kind == "predict_log":
                rows += _tensor_rows(log.predict_log.request.inputs)
            elif kind in ("classify_log", "regress_log", "multi_inference_log"):
                model_input = getattr(log, kind).request.input
                if model_input.WhichOneof("kind"):  # an empty Input holds no rows
                    rows += signature.examples_from_input(model_input)
    except FileNotFoundError as error:
        raise SkewInputError(str(error)) from None
    return rows


@dataclasses.dataclass
class SkewResult:
    """The skew of one served version, saved as JSON for `tfxp report`."""

    model: str
    version_dir: str
    logs: str
    requests: int
    distances: List[validation.Distance]
    training_summary: dict
    serving_summary: dict

    @property
    def skewed(self) -> List[validation.Distance]:
        """The features whose distance exceeds the schema's skew threshold."""
        return [d for d in self.distances if d.exceeded]

    def to_json(self) -> str:
        """The form saved under the pipeline home (read back by from_json)."""
        return json.dumps(dataclasses.asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> "SkewResult":
        """The result saved by to_json, with its distances as validation.Distance again."""
        raw = json.loads(text)
        raw["distances"] = [validation.Distance(**d) for d in raw["distances"]]
        return cls(**raw)


def measure(model: str, version_dir: pathlib.Path, request_examples: Iterable[bytes],
            logs: str = ""):
    """(SkewResult, training statistics, serving statistics) of one version."""
    training, schema = validation.load_training_data(version_dir)
    if training is None:
        raise SkewInputError(
            f"{version_dir} carries no training statistics in "
            f"{validation.TRAINING_DATA_DIR}/ (pushed before they were stamped): push the model "
            "again with `tfxp run`")
    rows = list(request_examples)
    if not rows:
        raise SkewInputError(f"the request logs in {logs} hold no requests with feature rows")
    serving = validation.statistics_from_examples(rows)
    sent = {(".".join(f.path.step) if f.path.step else f.name) for f in serving.features}
    found = [d for d in validation.distances(schema, training, serving=serving)
             if d.comparison == "skew" and d.feature in sent]
    summaries = ({d.feature: validation.summary_of(training, d.feature) for d in found},
                 {d.feature: validation.summary_of(serving, d.feature) for d in found})
    result = SkewResult(model, str(version_dir), str(logs), len(rows), found, *summaries)
    return result, training, serving


def save(result: SkewResult, training, serving, home: pathlib.Path) -> pathlib.Path:
    """Writes the result and both statistics under `home/serving_skew/` for the report."""
    folder = home / RESULT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / validation.TRAINING_STATISTICS_FILE).write_bytes(
        validation.as_list(training).SerializeToString())
    (folder / SERVING_STATISTICS_FILE).write_bytes(validation.as_list(serving).SerializeToString())
    (folder / RESULT_FILE).write_text(result.to_json())
    return folder


def load_saved(home: pathlib.Path):
    """(SkewResult, training statistics, serving statistics) saved by `tfxp skew`, or None."""
    folder = pathlib.Path(home) / RESULT_DIR
    if not (folder / RESULT_FILE).exists():
        return None
    return (SkewResult.from_json((folder / RESULT_FILE).read_text()),
            validation.read_statistics_file(str(folder / validation.TRAINING_STATISTICS_FILE)),
            validation.read_statistics_file(str(folder / SERVING_STATISTICS_FILE)))


def format_table(result: SkewResult) -> str:
    """The distances as a text table, skewed features first."""
    header = ("feature", "measure", "distance", "threshold", "skew", "training", "serving")
    rows = [header] + [(d.feature, d.measure, f"{d.value:.4f}", f"{d.threshold:g}",
                        "SKEW" if d.exceeded else "ok", result.training_summary[d.feature],
                        result.serving_summary[d.feature])
                       for d in sorted(result.distances, key=lambda d: (not d.exceeded,
                                                                        d.feature))]
    return "\n".join(text_table.align(rows))


def version_dir_for(models_root: pathlib.Path, model: str, version: Optional[int]
                    ) -> pathlib.Path:
    """The folder of `version`, else of the version labelled stable, else the newest one."""
    from serving.config import configs

    versions = configs.version_dirs(models_root / model)
    if version is not None:
        if version not in versions:
            raise SkewInputError(f"{model} has no version {version} under {models_root / model} "
                                 f"(versions: {sorted(versions) or 'none'})")
        return versions[version]
    stable = configs.labelled_version_dir(models_root, model, configs.STABLE)
    if stable is not None:
        return stable
    if not versions:
        raise SkewInputError(f"{model} has no pushed version under {models_root / model}: "
                             "run `tfxp run` first")
    return versions[max(versions)]


def run_skew(model: str, models_root: pathlib.Path, logs: pathlib.Path, home: pathlib.Path,
             version: Optional[int] = None) -> Tuple[int, str]:
    """What `tfxp skew` does: (exit code, printed text)."""
    version_dir = version_dir_for(models_root, model, version)
    result, training, serving = measure(model, version_dir, read_request_examples(logs),
                                        str(logs))
    folder = save(result, training, serving, home)
    skewed = result.skewed
    verdict = (f"serving skew in {len(skewed)} feature(s): "
               + ", ".join(d.feature for d in skewed) if skewed else "no serving skew")
    text = (f"{model} version {version_dir.name} ({version_dir}): {result.requests} request "
            f"rows from {logs} vs its training data\n{format_table(result)}\n{verdict} "
            f"(saved for `tfxp report` in {folder})")
    return (EXIT_SKEW if skewed else EXIT_NO_SKEW), text


def default_logs(models_root: pathlib.Path, model: str) -> pathlib.Path:
    """The request-log prefix that `models.config` gives the model (its `logging_config`)."""
    from serving.server import request_log

    prefix = request_log.configured_prefix(models_root, model)
    if prefix is None:
        raise SkewInputError(
            f"{models_root / 'models.config'} configures no request logging for {model}: add "
            "logging_config { sampling_config { sampling_rate: 0.1 } log_collector_config "
            "{ filename_prefix: \"request_logs/" + model + "\" } } to its entry, serve traffic, "
            "or name the logs with --logs")
    return prefix
