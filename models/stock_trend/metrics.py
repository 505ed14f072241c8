"""Balanced accuracy (macro-averaged recall): the metric that always-majority cannot game.

The class is not called BalancedAccuracy: TFMA resolves that name to its own binary metric."""
import tensorflow as tf


class MacroRecall(tf.keras.metrics.Metric):
    """Mean recall over the classes present in the labels, from sparse labels and class scores.
    Always predicting one class scores exactly 1/num_classes."""

    def __init__(self, num_classes: int = 3, name: str = "macro_recall", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes = num_classes
        self.confusion = self.add_weight(name="confusion", shape=(num_classes, num_classes),
                                         initializer="zeros", dtype=tf.float32)

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels = tf.reshape(tf.cast(y_true, tf.int32), [-1])
        predicted = tf.argmax(tf.reshape(y_pred, [-1, self.num_classes]), axis=-1,
                              output_type=tf.int32)
        weights = None if sample_weight is None else tf.reshape(
            tf.cast(sample_weight, tf.float32), [-1])
        self.confusion.assign_add(tf.math.confusion_matrix(
            labels, predicted, self.num_classes, weights=weights, dtype=tf.float32))

    def result(self):
        support = tf.reduce_sum(self.confusion, axis=1)
        recall = tf.math.divide_no_nan(tf.linalg.diag_part(self.confusion), support)
        present = tf.cast(support > 0, tf.float32)
        return tf.math.divide_no_nan(tf.reduce_sum(recall * present), tf.reduce_sum(present))

    def reset_state(self):
        self.confusion.assign(tf.zeros_like(self.confusion))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}
