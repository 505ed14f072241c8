"""A run's exit code and summary, decided from its facts."""
import pathlib
import signal

from pipelines import run_info, run_outcome
from pipelines.run_guard import RunInterrupted


def _facts(**fields):
    return run_outcome.RunFacts("census-sample", "run-1", 12.0, pathlib.Path("/logs/run.log"),
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
    assert run_outcome.decide_exit_code(facts) == run_outcome.EXIT_DATA_GATE
    summary = run_outcome.format_summary(facts)
    assert "the data gate stopped the run before Transform" in summary
    assert "split 'train' has 0 rows" in summary
    assert run_outcome.decide_exit_code(_facts(failure=RuntimeError("DataGateError in text only"))) \
        == run_outcome.EXIT_FAILED


def test_exit_codes_follow_what_the_run_did():
    done = run_info.RunInfo("census-sample", "run-1", 0.0, [])
    assert run_outcome.decide_exit_code(_facts(info=done, pushed_version=2)) == run_outcome.EXIT_PUSHED
    assert run_outcome.decide_exit_code(_facts(info=done, blessed=False)) == run_outcome.EXIT_NOT_BLESSED
    assert run_outcome.decide_exit_code(_facts()) == run_outcome.EXIT_FAILED
    interrupted = _facts(info=done, interrupted=RunInterrupted(signal.SIGTERM))
    assert run_outcome.decide_exit_code(interrupted) == 143
    assert run_outcome.decide_exit_code(_facts(interrupted=RunInterrupted(signal.SIGINT))) == 130


def test_an_interrupted_run_says_where_it_stopped_and_that_a_rerun_resumes():
    components = [run_info.ComponentRun("Transform", "executed", 0, 5, {}),
                  run_info.ComponentRun("Trainer", "running", 5, 9, {})]
    facts = _facts(info=run_info.RunInfo("census-sample", "run-1", 0.0, components),
                   interrupted=RunInterrupted(signal.SIGINT))
    summary = run_outcome.format_summary(facts)
    assert "Stopped by SIGINT during Trainer" in summary
    assert "Run the same command again to resume: finished steps come from the cache." in summary


def test_summary_columns_fit_long_metric_names():
    facts = _facts(info=run_info.RunInfo("census-sample", "run-1", 0.0, []), evaluated=True,
                   candidate={"auc": 0.9, "calibration_error@class_id=10": 0.01234,
                              "sparse_categorical_crossentropy": 0.35},
                   baseline={"auc": 0.88, "sparse_categorical_crossentropy": 0.4},
                   blessed=True, pushed_version=3, pushed_destination="/srv/census/3")
    lines = run_outcome.format_summary(facts).splitlines()
    table = lines[lines.index("  metrics (Overall)") + 1:][:4]
    assert table[1].split() == ["auc", "0.9000", "0.8800"]
    assert table[2].split() == ["calibration_error@class_id=10", "0.0123", "-"]
    assert table[3].split() == ["sparse_categorical_crossentropy", "0.3500", "0.4000"]
    assert len({len(row) for row in table}) == 1, "columns end at the same place"
    assert "  pushed: version 3 at /srv/census/3" in lines
