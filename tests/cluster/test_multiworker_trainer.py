"""The census Trainer on two worker processes (a chief and a worker, each with its TF_CONFIG,
MultiWorkerMirroredStrategy over TF's gRPC collectives), on the run the Flink suite pushed."""
import glob
import os
import signal
import threading
import time

import pytest
import tensorflow as tf

from models.census import features
from pipelines import run_info
from pipelines.cluster import trainer_workers
from tests.e2e.tfxp import run_tfxp

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

PIPELINE = "census-sample"
EVAL_FILES = []  # the sample's eval split, set by the first case from the run's ExampleGen


@pytest.fixture(scope="module")
def finished_run(work):
    """The pipeline home of a census sample run with a trained model (the Flink suite's, or a
    DirectRunner run when this module runs alone)."""
    metadata = work["home"] / "metadata.sqlite"
    if not metadata.exists() or run_info.load_run(str(metadata), PIPELINE).blessed is None:
        result = run_tfxp("run", "--model", "census", "--sample", "--no-infra-validation",
                          "--pipeline-root", str(work["home"]), "--serving-dir",
                          str(work["destination"]))
        assert result.returncode == 0, result.stdout + result.stderr
    return work["home"]


def _auc(saved_model_dir) -> float:
    """AUC of a census SavedModel's serving_default on the sample's eval split (raw examples)."""
    model = tf.saved_model.load(str(saved_model_dir))
    predict = model.signatures["serving_default"]
    auc = tf.keras.metrics.AUC()
    for batch in tf.data.TFRecordDataset(EVAL_FILES, compression_type="GZIP").batch(256):
        labels = [tf.train.Example.FromString(x).features.feature[features.LABEL_KEY]
                  .bytes_list.value[0].decode() == features.POSITIVE_LABEL
                  for x in batch.numpy()]
        auc.update_state(labels, tf.reshape(predict(examples=batch)["probabilities"], [-1]))
    return float(auc.result())


def test_two_workers_train_a_model_as_good_as_the_single_worker_and_only_the_chief_saves(
        finished_run, tmp_path):
    info = run_info.load_run(str(finished_run / "metadata.sqlite"), PIPELINE)
    EVAL_FILES[:] = glob.glob(os.path.join(info.output("CsvExampleGen", "examples").uri,
                                           "Split-eval", "*.gz"))
    single = os.path.join(info.output("Trainer", "model").uri, "Format-Serving")
    result = run_tfxp("cluster", "train", "--model", "census", "--sample", "--pipeline-root",
                      str(finished_run), "--workers", "2", "--output", str(tmp_path / "mw"))
    assert result.returncode == 0, result.stdout + result.stderr
    for task in ("chief-0", "worker-0"):
        log = (tmp_path / "mw" / "logs" / f"{task}.log").read_text()
        assert "tf.distribute strategy: multi_worker" in log, log[-3000:]
        assert "Epoch 1/" in log, log[-3000:]
    saved = glob.glob(str(tmp_path / "mw" / "**" / "saved_model.pb"), recursive=True)
    assert saved == [str(tmp_path / "mw" / "Format-Serving" / "saved_model.pb")]
    assert not glob.glob(str(tmp_path / "mw" / "*.tmp"))
    single_auc, multi_auc = _auc(single), _auc(tmp_path / "mw" / "Format-Serving")
    print(f"AUC single worker {single_auc:.4f}, two workers {multi_auc:.4f}")
    assert abs(single_auc - multi_auc) < 0.03, (single_auc, multi_auc)


def test_a_worker_killed_mid_training_fails_the_training_naming_it(finished_run, tmp_path):
    output = tmp_path / "killed"

    def kill_worker_once_it_trains(processes):
        def watch():
            log = output / "logs" / "worker-0.log"
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                if log.exists() and "Epoch 1/" in log.read_text():
                    os.kill(processes["worker-0"].pid, signal.SIGKILL)
                    return
                time.sleep(0.1)
        threading.Thread(target=watch, daemon=True).start()

    with pytest.raises(trainer_workers.WorkerFailed,
                       match=r"^Trainer worker-0 \(pid \d+\) was killed by SIGKILL: multi-worker "
                             r"training of 'census-sample' stopped, no model was kept\. Log: "):
        trainer_workers.run_workers(str(finished_run / "metadata.sqlite"), PIPELINE,
                                    str(output), workers=2, started=kill_worker_once_it_trains)
    assert not (output / "Format-Serving" / "saved_model.pb").exists()
