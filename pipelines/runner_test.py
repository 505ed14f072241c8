"""Where a run reads its data from (`--data DIR`) and where it keeps its outputs."""
import pathlib
import signal

import pytest

from data import settings
from models import registry
from pipelines import run_info, runner


def test_user_folder_with_split_subfolders_uses_those_present(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "eval").mkdir()
    spec = registry.get("stock_trend")
    assert spec.splits[:2] == ("train", "eval") and len(spec.splits) == 3
    assert runner.resolve_data(spec, str(tmp_path), sample=False) == (tmp_path, ["train", "eval"])


def test_user_folder_of_plain_files_is_hash_split(tmp_path):
    (tmp_path / "rows.csv").write_text("age\n1\n")
    assert runner.resolve_data(registry.get("census"), str(tmp_path), sample=False) == (tmp_path, None)


def test_a_lone_eval_folder_or_a_missing_folder_is_a_clear_error(tmp_path):
    (tmp_path / "eval").mkdir()
    with pytest.raises(ValueError, match=r"need \['train', 'eval'\]"):
        runner.resolve_data(registry.get("census"), str(tmp_path), sample=False)
    with pytest.raises(FileNotFoundError, match="no such directory"):
        runner.resolve_data(registry.get("census"), str(tmp_path / "absent"), sample=False)


def test_sample_runs_keep_their_pushes_out_of_the_served_models(tmp_path):
    spec = registry.get("census")
    sample = runner.default_paths(spec, sample=True, home=str(tmp_path))
    full = runner.default_paths(spec, sample=False, home=str(tmp_path))
    assert sample.pipeline_name == "census-sample" and full.pipeline_name == "census"
    assert sample.serving_model_dir == (tmp_path / "serving_models" / "census").resolve()
    assert full.serving_model_dir == (settings.SERVING_ROOT / "census").resolve()


def _paths(tmp_path):
    return runner.default_paths(registry.get("census"), sample=True, home=str(tmp_path / "home"))


def test_a_fresh_home_or_a_healthy_database_passes_the_metadata_check(tmp_path):
    """A real ML Metadata store holding an artifact passes, and the check only reads it."""
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    paths = _paths(tmp_path)
    assert runner.check_metadata(paths) is None
    assert not paths.home.exists(), "checking a fresh home creates nothing"
    paths.home.mkdir(parents=True)
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(paths.metadata_path)
    store = metadata_store.MetadataStore(config)
    type_id = store.put_artifact_type(metadata_store_pb2.ArtifactType(name="Examples"))
    store.put_artifacts([metadata_store_pb2.Artifact(type_id=type_id, uri="/data/examples")])
    del store
    written = paths.metadata_path.read_bytes()
    assert runner.check_metadata(paths) is None
    assert paths.metadata_path.read_bytes() == written


def test_a_corrupt_database_names_what_to_delete(tmp_path):
    paths = _paths(tmp_path)
    paths.home.mkdir(parents=True)
    paths.metadata_path.write_bytes(b"this is not sqlite " * 100)
    with pytest.raises(runner.MetadataUnusable) as raised:
        runner.check_metadata(paths)
    message = str(raised.value)
    assert f"{paths.metadata_path} is unreadable" in message
    assert f"delete {paths.pipeline_root} and {paths.metadata_path}" in message


def test_a_missing_database_beside_old_artifacts_names_what_to_delete(tmp_path):
    paths = _paths(tmp_path)
    (paths.pipeline_root / "Trainer" / "model" / "7").mkdir(parents=True)
    with pytest.raises(runner.MetadataUnusable, match=f"{paths.metadata_path} is missing but "
                                                      f"{paths.pipeline_root} holds artifacts"):
        runner.check_metadata(paths)


def _facts(**fields):
    return runner.RunFacts("census-sample", "run-1", 12.0, pathlib.Path("/logs/run.log"),
                           **fields)


def test_a_data_gate_stop_is_recognised_by_its_type_however_tfx_wraps_it():
    from components.data_gate import DataGateError

    try:
        try:
            raise DataGateError(["split 'train' has 0 rows; the model needs at least 100"],
                                ["too_few_rows"])
        except DataGateError as gate:
            raise RuntimeError("Execution 5 failed") from gate
    except RuntimeError as wrapped:
        facts = _facts(failure=wrapped)
    assert runner.decide_exit_code(facts) == runner.EXIT_DATA_GATE
    summary = runner.format_summary(facts)
    assert "the data gate stopped the run before Transform" in summary
    assert "split 'train' has 0 rows" in summary
    assert runner.decide_exit_code(_facts(failure=RuntimeError("DataGateError in text only"))) \
        == runner.EXIT_FAILED


def test_exit_codes_follow_what_the_run_did():
    done = run_info.RunInfo("census-sample", "run-1", 0.0, [])
    assert runner.decide_exit_code(_facts(info=done, pushed_version=2)) == runner.EXIT_PUSHED
    assert runner.decide_exit_code(_facts(info=done, blessed=False)) == runner.EXIT_NOT_BLESSED
    assert runner.decide_exit_code(_facts()) == runner.EXIT_FAILED
    interrupted = _facts(info=done, interrupted=runner.RunInterrupted(signal.SIGTERM))
    assert runner.decide_exit_code(interrupted) == 143
    assert runner.decide_exit_code(_facts(interrupted=runner.RunInterrupted(signal.SIGINT))) == 130


def test_an_interrupted_run_says_where_it_stopped_and_that_a_rerun_resumes():
    components = [run_info.ComponentRun("Transform", "executed", 0, 5, {}),
                  run_info.ComponentRun("Trainer", "running", 5, 9, {})]
    facts = _facts(info=run_info.RunInfo("census-sample", "run-1", 0.0, components),
                   interrupted=runner.RunInterrupted(signal.SIGINT))
    summary = runner.format_summary(facts)
    assert "Stopped by SIGINT during Trainer" in summary
    assert "Run the same command again to resume: finished steps come from the cache." in summary


def test_summary_columns_fit_long_metric_names():
    facts = _facts(info=run_info.RunInfo("census-sample", "run-1", 0.0, []), evaluated=True,
                   candidate={"auc": 0.9, "calibration_error@class_id=10": 0.01234,
                              "sparse_categorical_crossentropy": 0.35},
                   baseline={"auc": 0.88, "sparse_categorical_crossentropy": 0.4},
                   blessed=True, pushed_version=3, pushed_destination="/srv/census/3")
    lines = runner.format_summary(facts).splitlines()
    table = lines[lines.index("  metrics (Overall)") + 1:][:4]
    assert table[1].split() == ["auc", "0.9000", "0.8800"]
    assert table[2].split() == ["calibration_error@class_id=10", "0.0123", "-"]
    assert table[3].split() == ["sparse_categorical_crossentropy", "0.3500", "0.4000"]
    assert len({len(row) for row in table}) == 1, "columns end at the same place"
    assert "  pushed: version 3 at /srv/census/3" in lines


def test_the_serving_line_is_plain_text():
    from pipelines import workflow

    state = {"model": "census", "stable": 1, "canary": None, "served": [1], "versions": [1],
             "config": "/srv/models/models.config"}
    assert workflow.serving_line(state) == \
        "serving: census stable=1 canary=- (/srv/models/models.config)"


def test_an_interruption_a_library_swallows_is_raised_again_until_it_stops_the_run():
    import os
    import time

    with pytest.raises(runner.RunInterrupted) as stopped:
        with runner.stop_on_signals() as state:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)
            except runner.RunInterrupted:
                pass  # what Beam or TFX may do: catch it, wrap it, carry on
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                time.sleep(0.01)
    assert state.signum == signal.SIGTERM and stopped.value.exit_code == 143
    assert signal.getsignal(signal.SIGTERM) is not None
