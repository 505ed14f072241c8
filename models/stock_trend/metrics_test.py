"""MacroRecall is balanced accuracy: mean recall over the classes present."""
import numpy as np

from models.stock_trend.metrics import ClassRecall, MacroRecall


def _scores(predicted, classes=3):
    return np.eye(classes)[predicted]


def test_macro_recall_is_the_mean_per_class_recall():
    metric = MacroRecall(3)
    labels = np.array([0, 0, 1, 1, 2, 2, 2, 2])
    predicted = np.array([0, 1, 1, 1, 2, 0, 0, 0])
    metric.update_state(labels.reshape(-1, 1), _scores(predicted))
    assert np.isclose(metric.result().numpy(), (0.5 + 1.0 + 0.25) / 3)


def test_always_one_class_scores_one_third_and_reset_clears():
    metric = MacroRecall(3)
    metric.update_state(np.array([0, 1, 2, 2]), _scores(np.array([2, 2, 2, 2])))
    assert np.isclose(metric.result().numpy(), 1 / 3)
    metric.reset_state()
    assert metric.result().numpy() == 0.0
    assert MacroRecall.from_config(metric.get_config()).num_classes == 3


def test_class_recall_counts_one_class_and_is_named_after_it():
    metric = ClassRecall(class_index=2, num_classes=3, name="recall_up")
    metric.update_state(np.array([[2], [2], [2], [0]]), _scores(np.array([2, 0, 2, 2])))
    assert metric.name == "recall_up" and np.isclose(metric.result().numpy(), 2 / 3)
    assert ClassRecall.from_config(metric.get_config()).class_index == 2
