"""A TFMA metric that scores the two naive predictors on the Evaluator's split, so that the run
summary shows the model's accuracy and balanced accuracy (macro recall) right beside theirs:
always the train span's majority class, and yesterday's direction (the class of the last
observed HORIZON-day move, from the example's raw close window)."""
from typing import Dict, Iterable, List, Optional

import apache_beam as beam
import numpy as np
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.metrics import metric_types, metric_util

from data import sp500
from models.stock_trend import features

PREDICTORS = ("majority", "persistence")


def _persistence_class(close: np.ndarray) -> int:
    close = np.asarray(close, dtype=np.float64).reshape(-1)
    return int(sp500.trend_class(np.array([close[-1] / close[-1 - features.HORIZON] - 1]))[0])


def _scores(confusion: np.ndarray) -> Dict[str, float]:
    support = confusion.sum(axis=1)
    present = support > 0
    recall = np.diag(confusion)[present] / support[present]
    total = confusion.sum()
    return {"accuracy": float(np.trace(confusion) / total) if total else float("nan"),
            "macro_recall": float(recall.mean()) if present.any() else float("nan")}


class _Combiner(beam.CombineFn):
    """Confusion matrices (true class x predicted class) of both naive predictors."""

    def __init__(self, keys: Dict[str, metric_types.MetricKey], eval_config, majority_class: int):
        self._keys, self._eval_config, self._majority = keys, eval_config, majority_class
        self._model_name = next(iter(keys.values())).model_name
        self._output_name = next(iter(keys.values())).output_name

    def create_accumulator(self) -> np.ndarray:
        return np.zeros((len(PREDICTORS), len(features.CLASSES), len(features.CLASSES)))

    def add_input(self, accumulator: np.ndarray, element) -> np.ndarray:
        label, _, _ = next(metric_util.to_label_prediction_example_weight(
            element, eval_config=self._eval_config, model_name=self._model_name,
            output_name=self._output_name, flatten=False, allow_none=True))
        true_class = int(np.asarray(label).reshape(-1)[0])
        accumulator[0, true_class, self._majority] += 1
        accumulator[1, true_class, _persistence_class(element.features["close"])] += 1
        return accumulator

    def merge_accumulators(self, accumulators: Iterable[np.ndarray]) -> np.ndarray:
        return np.sum(list(accumulators), axis=0)

    def extract_output(self, accumulator: np.ndarray) -> Dict[metric_types.MetricKey, float]:
        result = {}
        for i, predictor in enumerate(PREDICTORS):
            for metric, value in _scores(accumulator[i]).items():
                result[self._keys[f"naive_{predictor}_{metric}"]] = value
        return result


def _computations(name: str = "naive_baselines", majority_class: int = features.TRAIN_MAJORITY_CLASS,
                  eval_config=None, model_names: Optional[List[str]] = None,
                  output_names: Optional[List[str]] = None,
                  example_weighted: bool = False) -> metric_types.MetricComputations:
    computations = []
    for model_name in model_names or [""]:
        for output_name in output_names or [""]:
            keys = {f"naive_{p}_{m}": metric_types.MetricKey(
                name=f"naive_{p}_{m}", model_name=model_name, output_name=output_name,
                example_weighted=example_weighted)
                for p in PREDICTORS for m in ("accuracy", "macro_recall")}
            computations.append(metric_types.MetricComputation(
                keys=list(keys.values()),
                preprocessors=[metric_types.FeaturePreprocessor(feature_keys=["close"])],
                combiner=_Combiner(keys, eval_config, majority_class)))
    return computations


class NaiveBaselines(tfma.metrics.Metric):
    """naive_{majority,persistence}_{accuracy,macro_recall} on the evaluated split."""

    def __init__(self, name: str = "naive_baselines",
                 majority_class: int = features.TRAIN_MAJORITY_CLASS):
        super().__init__(_computations, name=name, majority_class=majority_class)
