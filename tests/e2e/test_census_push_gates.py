"""What stops a census candidate before the push, end to end on the sample (one stable version,
then three candidates against it):

- golden holdout: a candidate trained and judged on data whose labels were all flipped wins on
  its own (equally flipped) eval split, loses on the holdout the stable version carries, and is
  not pushed, with the absolute floors lowered so that only the holdout stops it;
- latency gate: a candidate with a heavy op in its serving signature is not pushed, with the
  gate's numbers in the summary; a retrained candidate of the same architecture is pushed.
"""
import dataclasses

import pytest

from components import holdout
from data import settings
from models.census import SPEC
from pipelines import progress, run_guard, run_outcome, run_paths, runner
from pipelines.run_options import RunOptions
from pipelines.report import gather, render

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # 4 pipeline runs: `make test-push-gates`

SAMPLE = settings.SAMPLES_ROOT / "census"
FLIPPED = {">50K": "<=50K", "<=50K": ">50K"}
NO_FLOORS = dataclasses.replace(SPEC, sample_thresholds={
    **SPEC.sample_thresholds, "auc": 0.0, "binary_accuracy": 0.0})


def _flip(source, target):
    lines = source.read_text().splitlines()
    rows = [lines[0]] + [line.rsplit(",", 1)[0] + "," + FLIPPED[line.rsplit(",", 1)[1]]
                         for line in lines[1:] if line]
    target.parent.mkdir(parents=True)
    target.write_text("\n".join(rows) + "\n")


def _paths(workdir, spec=SPEC):
    return run_paths.default_paths(spec, sample=True, home=str(workdir / "home"),
                                serving_dir=str(workdir / "models" / "census"))


def _run(workdir, data_root=SAMPLE, spec=SPEC, **options):
    paths = _paths(workdir, spec)
    log_path = paths.new_log_path()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with progress.captured_logs(str(log_path), verbose=False), \
            run_guard.stop_on_signals() as guard:
        pipeline = runner.build(spec, paths, data_root, ["train", "eval"],
                                RunOptions(sample=True, **options))
        return runner.run(spec, paths, pipeline, log_path, "local", guard)


def _versions(workdir):
    return sorted(int(p.name) for p in (workdir / "models" / "census").iterdir()
                  if p.name.isdigit())


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("push_gates")
    first = _run(workdir)
    assert first.exit_code == run_outcome.EXIT_PUSHED, first.summary
    assert "latency gate: skipped (no stable version yet (first run))" in first.summary
    assert "golden holdout: not judged (no stable version to compare with)" in first.summary
    assert holdout.recorded_files(str(workdir / "models" / "census" / "1")), \
        "the first push records the eval split it was judged on"
    return workdir


def test_flipped_labels_win_on_their_eval_split_and_lose_on_the_holdout(workdir):
    flipped = workdir / "flipped"
    for split in ("train", "eval"):
        _flip(SAMPLE / split / f"census_{split}.csv", flipped / split / f"census_{split}.csv")
    outcome = _run(workdir, flipped, NO_FLOORS, accept_drift=True, infra_validation=False)
    facts = outcome.facts
    assert outcome.exit_code == run_outcome.EXIT_NOT_BLESSED, outcome.summary
    assert facts.candidate["auc"] > facts.baseline["auc"] + 0.5, outcome.summary
    assert facts.holdout_candidate["auc"] < facts.holdout_baseline["auc"] - 0.5, outcome.summary
    assert facts.lost_on == "holdout"
    assert "blessed: NO (lost on the golden holdout)" in outcome.summary
    assert "[holdout, Overall]: the change from the baseline in auc" in outcome.summary
    assert facts.pushed_version is None and _versions(workdir) == [1]

    paths = _paths(workdir)
    report = gather.gather_run("census", "auc", str(paths.metadata_path), paths.pipeline_name)
    page = render.run_page(report)
    assert report.lost_on == "holdout" and report.holdout is not None, report.problems
    assert 'id="lost-on">The candidate lost on: holdout.' in page
    assert 'id="holdout-failures"' in page and 'data-set="holdout"' in page


def test_a_candidate_with_a_heavy_serving_op_is_stopped_by_the_latency_gate(workdir):
    slow = dataclasses.replace(SPEC, run_fn="tests.e2e.slow_census.run_fn")
    outcome = _run(workdir, spec=slow)
    assert outcome.exit_code == run_outcome.EXIT_NOT_BLESSED, outcome.summary
    assert outcome.facts.blessed, "the evaluation passed: only the gate stops it"
    gate = outcome.facts.latency_gate
    assert gate["verdict"] == "failed" and gate["p95_ratio"] > 1.25, gate
    assert "latency gate: FAILED: candidate p95 " in outcome.summary
    assert "candidate" in outcome.summary and "p95 ms (95% CI)" in outcome.summary
    assert "infra validation: FAILED (the latency gate stopped the candidate)" in outcome.summary
    assert outcome.facts.pushed_version is None and _versions(workdir) == [1]
    paths = _paths(workdir)
    page = render.run_page(gather.gather_run("census", "auc", str(paths.metadata_path),
                                             paths.pipeline_name))
    assert 'id="latency-verdict">failed: candidate p95 ' in page
    assert 'data-gate="candidate" data-metric="p95"' in page


def test_a_retrained_candidate_of_the_same_architecture_passes_and_is_pushed(workdir):
    outcome = _run(workdir, hyperparameters={"learning_rate": 0.011})
    assert outcome.exit_code == run_outcome.EXIT_PUSHED, outcome.summary
    assert outcome.facts.latency_gate["verdict"] == "passed", outcome.summary
    assert "latency gate: passed: candidate p95 " in outcome.summary
    assert _versions(workdir) == [1, 2]
