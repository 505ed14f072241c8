"""The naive-baseline TFMA metric's arithmetic (the pipeline e2e test checks it inside TFMA)."""
import numpy as np
import pytest
from tensorflow_model_analysis.metrics import metric_types

from data import sp500
from models.stock_trend import features, tfma_baselines


def test_persistence_is_the_class_of_the_last_horizon_move():
    close = np.full(features.WINDOW, 100.0)
    close[-1] = 102.0
    assert tfma_baselines._persistence_class(close) == 2
    close[-1] = 99.5
    assert tfma_baselines._persistence_class(close.reshape(1, -1)) == 1


def test_scores_from_a_confusion_matrix():
    confusion = np.array([[0, 2, 0], [0, 5, 0], [0, 3, 0]])     # always Neutral
    assert tfma_baselines._scores(confusion) == {"accuracy": 0.5,
                                                 "macro_recall": pytest.approx(1 / 3)}


def test_combiner_scores_both_predictors():
    keys = {f"naive_{p}_{m}": metric_types.MetricKey(name=f"naive_{p}_{m}")
            for p in tfma_baselines.PREDICTORS for m in ("accuracy", "macro_recall")}
    combiner = tfma_baselines._Combiner(keys, eval_config=None, majority_class=1)
    accumulator = combiner.create_accumulator()
    accumulator[0, [0, 1, 2], 1] = 1                     # labels Down, Neutral, Up
    accumulator[1, [0, 1, 2], [0, 1, 0]] = 1
    result = {key.name: value for key, value in
              combiner.extract_output(combiner.merge_accumulators([accumulator])).items()}
    assert result["naive_majority_accuracy"] == pytest.approx(1 / 3)
    assert result["naive_persistence_accuracy"] == pytest.approx(2 / 3)
    assert result["naive_persistence_macro_recall"] == pytest.approx(2 / 3)


def test_the_majority_class_is_the_train_spans(tmp_path):
    manifest = sp500.prepare(tmp_path)
    counts = manifest["classes"]["train"]
    assert max(counts, key=counts.get) == features.CLASSES[features.TRAIN_MAJORITY_CLASS]
