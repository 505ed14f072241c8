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
        """Keras override: adds the batch to the confusion matrix (the argmax of the scores is the
        prediction; sample weights count)."""
        labels = tf.reshape(tf.cast(y_true, tf.int32), [-1])
        predicted = tf.argmax(tf.reshape(y_pred, [-1, self.num_classes]), axis=-1,
                              output_type=tf.int32)
        weights = None if sample_weight is None else tf.reshape(
            tf.cast(sample_weight, tf.float32), [-1])
        self.confusion.assign_add(tf.math.confusion_matrix(
            labels, predicted, self.num_classes, weights=weights, dtype=tf.float32))

    def result(self):
        """Keras override: the mean recall over the classes seen so far."""
        support = tf.reduce_sum(self.confusion, axis=1)
        recall = tf.math.divide_no_nan(tf.linalg.diag_part(self.confusion), support)
        present = tf.cast(support > 0, tf.float32)
        return tf.math.divide_no_nan(tf.reduce_sum(recall * present), tf.reduce_sum(present))

    def reset_state(self):
        """Keras override: clears the confusion matrix between epochs and evaluations."""
        self.confusion.assign(tf.zeros_like(self.confusion))

    def get_config(self):
        """Keras override: adds `num_classes`, so a saved model reloads the metric."""
        return {**super().get_config(), "num_classes": self.num_classes}


class ClassRecall(tf.keras.metrics.Metric):
    """Recall of one class from sparse labels and class scores, under its own name (e.g.
    recall_up), so that every class's recall is a separate line in the run summary. The
    argument is not called class_id: TFMA takes that key as a request to binarize the scores."""

    def __init__(self, class_index: int = 0, num_classes: int = 3, name: str = None, **kwargs):
        super().__init__(name=name or f"recall_{class_index}", **kwargs)
        self.class_index, self.num_classes = class_index, num_classes
        self.hits = self.add_weight(name="hits", initializer="zeros")
        self.support = self.add_weight(name="support", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Keras override: counts the batch's examples of the class and those of them predicted as
        it (sample weights count)."""
        is_class = tf.equal(tf.reshape(tf.cast(y_true, tf.int64), [-1]), self.class_index)
        predicted = tf.argmax(tf.reshape(y_pred, [-1, self.num_classes]), axis=-1)
        weights = tf.ones_like(is_class, tf.float32) if sample_weight is None else tf.reshape(
            tf.cast(sample_weight, tf.float32), [-1])
        self.support.assign_add(tf.reduce_sum(tf.where(is_class, weights, 0.0)))
        self.hits.assign_add(tf.reduce_sum(tf.where(
            is_class & tf.equal(predicted, self.class_index), weights, 0.0)))

    def result(self):
        """Keras override: hits / support, 0 before any example of the class."""
        return tf.math.divide_no_nan(self.hits, self.support)

    def reset_state(self):
        """Keras override: clears the counts between epochs and evaluations."""
        self.hits.assign(0.0)
        self.support.assign(0.0)

    def get_config(self):
        """Keras override: adds `class_index` and `num_classes`, so a saved model reloads the
        metric."""
        return {**super().get_config(), "class_index": self.class_index,
                "num_classes": self.num_classes}
