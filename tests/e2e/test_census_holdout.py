"""The golden holdout on census: a candidate trained and judged on data whose labels were all
flipped wins on its own (equally flipped) eval split, loses on the holdout the stable version
carries, and is not pushed, with the absolute floors lowered so that only the holdout stops it."""
import dataclasses

import pytest

from components import holdout
from data import settings
from models.census import SPEC
from pipelines import progress, runner
from pipelines.report import gather, render

pytestmark = pytest.mark.e2e

FLIPPED = {">50K": "<=50K", "<=50K": ">50K"}
NO_FLOORS = dataclasses.replace(SPEC, sample_thresholds={
    **SPEC.sample_thresholds, "auc": 0.0, "binary_accuracy": 0.0})


def _flip(source, target):
    lines = source.read_text().splitlines()
    rows = [lines[0]] + [line.rsplit(",", 1)[0] + "," + FLIPPED[line.rsplit(",", 1)[1]]
                         for line in lines[1:] if line]
    target.parent.mkdir(parents=True)
    target.write_text("\n".join(rows) + "\n")


def _run(workdir, data_root, **options):
    paths = runner.default_paths(NO_FLOORS, sample=True, home=str(workdir / "home"),
                                 serving_dir=str(workdir / "models" / "census"))
    log_path = paths.new_log_path()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with progress.captured_logs(str(log_path), verbose=False):
        pipeline = runner.build(NO_FLOORS, paths, data_root, ["train", "eval"], sample=True,
                                infra_validation=False, **options)
        return runner.run(NO_FLOORS, paths, pipeline, log_path)


def test_flipped_labels_win_on_their_eval_split_and_lose_on_the_holdout(tmp_path):
    sample = settings.SAMPLES_ROOT / "census"
    first = _run(tmp_path, sample)
    assert first.exit_code == runner.EXIT_PUSHED, first.summary
    version_1 = tmp_path / "models" / "census" / "1"
    assert holdout.recorded_files(str(version_1)), "the first push records its eval split"
    assert "golden holdout: not judged (no stable version" in first.summary

    flipped = tmp_path / "flipped"
    for split in ("train", "eval"):
        _flip(sample / split / f"census_{split}.csv", flipped / split / f"census_{split}.csv")
    second = _run(tmp_path, flipped, accept_drift=True)
    facts = second.facts
    assert second.exit_code == runner.EXIT_NOT_BLESSED, second.summary
    assert facts.candidate["auc"] > facts.baseline["auc"] + 0.5, second.summary
    assert facts.holdout_candidate["auc"] < facts.holdout_baseline["auc"] - 0.5, second.summary
    assert facts.lost_on == "holdout"
    assert "blessed: NO (lost on the golden holdout)" in second.summary
    assert "[holdout, Overall]: the change from the baseline in auc" in second.summary
    assert facts.pushed_version is None
    assert sorted(p.name for p in (tmp_path / "models" / "census").iterdir()
                  if p.name.isdigit()) == ["1"]

    paths = runner.default_paths(NO_FLOORS, sample=True, home=str(tmp_path / "home"))
    report = gather.gather_run("census", "auc", str(paths.metadata_path), paths.pipeline_name)
    page = render.run_page(report)
    assert report.lost_on == "holdout" and report.holdout is not None, report.problems
    assert 'id="lost-on">The candidate lost on: holdout.' in page
    assert 'id="holdout-failures"' in page and 'data-set="holdout"' in page
