"""Report pieces that need no pipeline run: the CLI without runs, multi-class plots, the
browser harness itself."""
import pathlib

import pytest

from pipelines import cli
from pipelines.report import evaluation_facts, render, serving_facts, svg
from tests.report import browser


def test_report_without_runs_tells_the_user_to_run_the_pipeline_first(tmp_path, capsys):
    code = cli.main(["report", "--model", "census", "--sample", "--pipeline-root",
                     str(tmp_path / "empty"), "--out", str(tmp_path / "out")])
    assert code == 1
    assert "tfxp run --model census --sample` first" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_multi_class_confusion_matrix_becomes_a_heat_map_with_the_counts():
    from tensorflow_model_analysis.proto import metrics_for_slice_pb2

    plots = metrics_for_slice_pb2.MultiClassConfusionMatrixAtThresholds()
    matrix = plots.matrices.add(threshold=0.0)
    counts = {(0, 0): 50, (0, 1): 3, (1, 1): 40, (2, 0): 7, (2, 2): 30}
    for (actual, predicted), n in counts.items():
        matrix.entries.add(actual_class_id=actual, predicted_class_id=predicted,
                           num_weighted_examples=n)
    gathered = evaluation_facts.gather_plots({"candidate": {
        "multi_class_confusion_matrix_at_thresholds": plots}})
    classes, rows = gathered.confusion["candidate"]
    assert classes == ["0", "1", "2"]
    assert rows == [[50, 3, 0], [0, 40, 0], [7, 0, 30]]
    chart = svg.heatmap("confusion", classes, rows)
    assert 'data-actual="2" data-predicted="0" data-count="7"' in chart


def test_metric_directions():
    assert evaluation_facts.metric_direction("auc") == 1
    assert evaluation_facts.metric_direction("mean_squared_error") == -1
    assert evaluation_facts.metric_direction("example_count") == 0


def test_index_page_lists_models_without_runs():
    html = render.index_page([{"model": "digits_mlp", "key_metric": "accuracy",
                               "note": "no runs yet: run `tfxp run --model digits_mlp`",
                               "labels": {}, "runs": 0}], 0.0)
    assert "no runs yet: run `tfxp run --model digits_mlp`" in html


@pytest.mark.requires("chromium")
def test_browser_harness_reports_script_errors_and_failed_loads(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><html><body><p>x</p><img src=\"missing.png\">"
                    "<script>undefinedFunction()</script></body></html>")
    rendered = browser.render(pathlib.Path(page))
    assert any("undefinedFunction" in e for e in rendered.errors)
    assert any("load failed" in e or "missing.png" in e for e in rendered.errors)


def test_serving_labels_are_read_from_models_config_and_absence_is_tolerated(tmp_path):
    config = tmp_path / "models.config"
    assert serving_facts.serving_labels(config) == {}
    config.write_text('model_config_list { config { name: "census" base_path: "/models/census" '
                      'model_platform: "tensorflow" model_version_policy { specific { '
                      'versions: 1 versions: 2 } } version_labels { key: "stable" value: 1 } '
                      'version_labels { key: "canary" value: 2 } } }')
    assert serving_facts.serving_labels(config) == {"census": {"stable": 1, "canary": 2}}
    config.write_text("not a config")
    assert serving_facts.serving_labels(config) == {}
