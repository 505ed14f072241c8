"""The report pages' HTML: the index's rows, and a run page that shows what could not be read."""
from pipelines import run_info
from pipelines.report import gather, render


def test_the_index_links_runs_and_shows_notes_for_models_without_runs():
    page = render.index_page([
        {"model": "census", "key_metric": "auc", "run_id": "run-1", "page": "census-run1.html",
         "candidate": 0.9061, "baseline": None, "blessed": True, "pushed_version": 2, "runs": 3,
         "labels": {"stable": 1, "canary": 2}},
        {"model": "digits_mlp", "key_metric": "sparse_categorical_accuracy", "runs": 0,
         "note": "no runs yet: run `tfxp run --model digits_mlp`", "labels": {}}], 0.0)
    assert '<a href="census-run1.html">run-1</a>' in page
    assert 'data-pushed="2"' in page and 'data-model="census"' in page
    assert "no runs yet: run `tfxp run --model digits_mlp`" in page


def test_a_run_page_escapes_what_it_could_not_read():
    report = gather.RunReport(
        model="census", pipeline_name="census-sample",
        run=run_info.RunInfo("census-sample", "run-1", 0.0, []), key_metric="auc",
        blessed=None, pushed_version=None, pushed_destination=None, data=None,
        model_section=None, curves={}, model_run_uri=None,
        problems=["model evaluation: OSError: <unreadable>"])
    page = render.run_page(report)
    assert "census run run-1" in page
    assert "&lt;unreadable&gt;" in page and "<unreadable>" not in page
