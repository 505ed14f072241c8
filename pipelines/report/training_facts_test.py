"""Training curves come from the Trainer's per-epoch TensorBoard summaries, loss first."""
import tensorflow as tf

from pipelines.report import training_facts


def _write(folder, points):
    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default():
        for step, values in enumerate(points):
            for tag, value in values.items():
                tf.summary.scalar(tag, value, step=step)
    writer.close()


def test_epoch_summaries_become_curves_per_run_and_other_tags_are_left_out(tmp_path):
    _write(tmp_path / "logs" / "train", [{"epoch_loss": 0.7, "epoch_auc": 0.8, "batch_loss": 9},
                                         {"epoch_loss": 0.5, "epoch_auc": 0.85}])
    _write(tmp_path / "logs" / "validation", [{"epoch_loss": 0.75}, {"epoch_loss": 0.6}])
    curves = training_facts.training_curves(str(tmp_path))
    assert list(curves) == ["loss", "auc"]
    assert [(step, round(value, 4)) for step, value in curves["loss"]["train"]] == [
        (0, 0.7), (1, 0.5)]
    assert [round(v, 4) for _, v in curves["loss"]["validation"]] == [0.75, 0.6]
    assert list(curves["auc"]) == ["train"]


def test_a_model_run_without_summaries_has_no_curves(tmp_path):
    assert training_facts.training_curves(str(tmp_path)) == {}
