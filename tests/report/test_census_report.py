"""The census report, built from real runs, against TFMA's, TFDV's and MLMD's own values, and
rendered in headless Chromium."""
import glob
import os
import re

import pytest

from pipelines import run_info
from tests.report import browser
from tests.report.conftest import ARTIFACTS
from tests.report.html_values import parse

pytestmark = pytest.mark.e2e


def _latest(history):
    return run_info.load_run(str(history.home / "metadata.sqlite"), "census-sample")


def _evaluation_uri(history) -> str:
    return _latest(history).output("Evaluator", "evaluation").uri


def test_metrics_per_slice_equal_tfma_for_candidate_and_baseline(reported_history):
    import tensorflow_model_analysis as tfma

    page = parse(reported_history.page)
    checked = 0
    for model in ("candidate", "baseline"):
        result = tfma.load_eval_result(_evaluation_uri(reported_history), model_name=model)
        shown = page.values(("slice", "metric"), model=model)
        for slice_key, per_output in result.slicing_metrics:
            name = ", ".join(f"{k}={v.decode() if isinstance(v, bytes) else v}"
                             for k, v in slice_key) or "Overall"
            for metric, value in per_output[""][""].items():
                if metric.endswith("_diff") or "doubleValue" not in value:
                    continue
                if metric == "example_count" and name != "Overall" and model == "baseline":
                    continue
                assert shown[(name, metric)] == value["doubleValue"], (model, name, metric)
                checked += 1
    assert checked > 50


def test_the_eval_config_reader_matches_tfmas_public_result(reported_history):
    """evaluation_facts.load_eval_config is the one private TFMA call: it must keep agreeing with
    what tfma.load_eval_result (public) returns."""
    import tensorflow_model_analysis as tfma

    from pipelines.report import evaluation_facts

    uri = _evaluation_uri(reported_history)
    assert evaluation_facts.load_eval_config(uri) == \
        tfma.load_eval_result(uri, model_name="candidate").config


def test_differences_are_highlighted_in_the_right_direction(reported_history):
    html = reported_history.page.read_text()
    auc_diff = re.search(r'<td class="num (\w*)" data-slice="Overall" data-model="diff" '
                         r'data-metric="auc"', html)
    assert auc_diff and auc_diff.group(1) == "worse"


def test_not_blessed_run_explains_each_failed_threshold_in_words(reported_history):
    import tensorflow_model_analysis as tfma

    page = parse(reported_history.page)
    assert page.text_by_id["blessed"].strip() == "NOT BLESSED"
    failures_text = page.text_by_id["failures"]
    validation = tfma.load_validation_result(_evaluation_uri(reported_history))
    assert not validation.validation_ok
    failed = [f for s in validation.metric_validations_per_slice for f in s.failures]
    assert failed
    for failure in failed:
        value = failure.metric_value.double_value.value
        assert f"{failure.metric_key.name} = {value:.4f}" in failures_text
    assert "auc" in failures_text and "is below the required minimum 0.82" in failures_text
    assert "fails the absolute change threshold -0.02 against the last blessed model" \
        in failures_text


def test_feature_statistics_equal_tfdv_for_train_and_eval(reported_history):
    import tensorflow_data_validation as tfdv

    statistics = _latest(reported_history).output("StatisticsGen", "statistics").uri
    page = parse(reported_history.page)
    shown = page.values(("feature", "split", "stat"))
    checked = 0
    for split in ("train", "eval"):
        stats = tfdv.load_stats_binary(os.path.join(statistics, f"Split-{split}",
                                                    "FeatureStats.pb"))
        dataset = stats.datasets[0]
        for feature in dataset.features:
            name = feature.path.step[0]
            if feature.HasField("num_stats"):
                expected = {"mean": feature.num_stats.mean, "std_dev": feature.num_stats.std_dev,
                            "min": feature.num_stats.min, "max": feature.num_stats.max,
                            "median": feature.num_stats.median,
                            "count": feature.num_stats.common_stats.num_non_missing}
            else:
                expected = {"unique": feature.string_stats.unique,
                            "count": feature.string_stats.common_stats.num_non_missing}
            for stat, value in expected.items():
                assert shown[(name, split, stat)] == float(value), (name, split, stat)
                checked += 1
    assert checked >= 60


def test_header_rows_per_split_equal_the_statistics(reported_history):
    import tensorflow_data_validation as tfdv

    statistics = _latest(reported_history).output("StatisticsGen", "statistics").uri
    html = reported_history.page.read_text()
    for split in ("train", "eval"):
        stats = tfdv.load_stats_binary(os.path.join(statistics, f"Split-{split}",
                                                    "FeatureStats.pb"))
        assert f'data-split="{split}" data-value="{float(stats.datasets[0].num_examples)!r}"' \
            in html


def test_pipeline_section_lists_components_as_mlmd_recorded_them(reported_history):
    run = _latest(reported_history)
    page = parse(reported_history.page)
    states = {a["data-component"]: a["data-state"] for a in page.tagged
              if "data-component" in a}
    assert states == {c.node_id: c.state for c in run.components}
    assert "cached" in states.values() and states["Trainer"] == "executed"
    html = reported_history.page.read_text()
    assert run.output("Trainer", "model").uri in html


def _category_shares(dataset, name):
    feature = next(f for f in dataset.features if f.path.step[0] == name)
    counts = {b.label: b.sample_count for b in feature.string_stats.rank_histogram.buckets}
    return {label: count / sum(counts.values()) for label, count in counts.items()}


def test_drift_note_and_skew_distances_come_from_tfdv(reported_history):
    """Each categorical feature's train/eval skew is the L-infinity distance of its category
    shares in StatisticsGen's output (worked out here from the statistics themselves)."""
    import tensorflow_data_validation as tfdv

    page = parse(reported_history.page)
    assert "StatisticsGen was cached" in page.text_by_id["drift-note"]
    skew = page.values(("feature",), comparison="skew")
    assert {"age", "sex", "education"} <= set(f for (f,) in skew)
    statistics = _latest(reported_history).output("StatisticsGen", "statistics").uri
    train, evaluation = (
        tfdv.load_stats_binary(os.path.join(statistics, f"Split-{split}", "FeatureStats.pb"))
        .datasets[0] for split in ("train", "eval"))
    categorical = [f.path.step[0] for f in train.features if f.HasField("string_stats")]
    assert {"sex", "education", "race"} <= set(categorical)
    for name in categorical:
        shares = _category_shares(train, name), _category_shares(evaluation, name)
        expected = max(abs(shares[0].get(c, 0.0) - shares[1].get(c, 0.0))
                       for c in set(shares[0]) | set(shares[1]))
        assert skew[(name,)] == pytest.approx(expected, abs=1e-6), name


def test_training_curves_cover_every_epoch_metric_in_the_tensorboard_logs(reported_history):
    import tensorflow as tf

    model_run = _latest(reported_history).output("Trainer", "model_run").uri
    tags = set()
    for path in glob.glob(os.path.join(model_run, "*", "*tfevents*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(v.tag[len("epoch_"):] for v in event.summary.value
                        if v.tag.startswith("epoch_"))
    html = reported_history.page.read_text()
    training = html[html.index('id="training"'):]
    assert tags and all(f"<title>{tag}</title>" in training for tag in tags)


def test_pages_are_self_contained(reported_history):
    for path in [reported_history.page, reported_history.build.index]:
        page = parse(path)
        assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
        html = path.read_text()
        assert not re.findall(r'(?:src|href)="(?!#|census-sample-|index\.html)', html)
        assert set(re.findall(r"https?://[^\s\"'<)]+", html)) <= {"http://www.w3.org/2000/svg"}


def test_index_links_the_run_with_key_metric_and_versions(reported_history):
    import tensorflow_model_analysis as tfma

    index = parse(reported_history.build.index)
    result = tfma.load_eval_result(_evaluation_uri(reported_history), model_name="candidate")
    auc = dict(result.slicing_metrics)[()][""][""]["auc"]["doubleValue"]
    assert index.values(("model",), metric="auc") == {("census",): auc}
    links = [a["href"] for a in index.attributes if "href" in a]
    assert links == [reported_history.page.name]
    pushed = [a["data-pushed"] for a in index.tagged if "data-pushed" in a]
    assert pushed == ["1"]


@pytest.mark.requires("chromium")
def test_report_renders_in_headless_chromium_without_errors(reported_history):
    from io import BytesIO

    from PIL import Image

    rendered = browser.render(reported_history.page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "report-census.png").write_bytes(rendered.screenshot)
    assert rendered.errors == []
    # The reported run has a stable baseline, so the golden holdout section is there too.
    assert rendered.layout["sections"] == ["pipeline", "data", "model", "holdout", "training"]
    assert rendered.layout["charts"] >= 15 and rendered.layout["text"] > 3000
    image = Image.open(BytesIO(rendered.screenshot)).convert("RGB")
    assert image.height > 3000
    colors = image.resize((200, 600)).getcolors(maxcolors=100000)
    assert len(colors) > 50
    index = browser.render(reported_history.build.index)
    (ARTIFACTS / "report-index.png").write_bytes(index.screenshot)
    assert index.errors == []


def test_report_build_time_is_recorded(reported_history):
    """The time build_reports reports is its own: above zero, within the caller's clock."""
    assert 0 < reported_history.build.seconds <= reported_history.build_seconds


def test_a_shifted_feature_is_flagged_as_drift_with_tfdvs_distance(reported_history):
    from tensorflow_metadata.proto.v0 import statistics_pb2

    from pipelines.report import data_facts, render

    run = _latest(reported_history)
    stats = data_facts.load_statistics(run.output("StatisticsGen", "statistics").uri)
    previous = statistics_pb2.DatasetFeatureStatistics()
    previous.CopyFrom(stats["train"])
    sex = next(f for f in previous.features if f.path.step[0] == "sex").string_stats
    counts = {v.value: v.frequency for v in sex.top_values}
    swapped = dict(zip(counts, reversed(list(counts.values()))))
    for value in sex.top_values:
        value.frequency = swapped[value.value]
    for bucket in sex.rank_histogram.buckets:
        bucket.sample_count = swapped[bucket.label]
    schema = data_facts._schema_for(run, stats["train"])
    checks = data_facts.distances(schema, stats["train"], stats["eval"], previous)
    drift = {c.feature: c for c in checks if c.comparison == "drift"}
    male, female = sorted(counts.values(), reverse=True)
    expected = abs(male - female) / (male + female)
    assert drift["sex"].measure == "L-infinity"
    assert drift["sex"].value == pytest.approx(expected)
    assert drift["sex"].exceeded and not drift["age"].exceeded
    html = render._distance_table(checks)
    assert '<tr class="exceeded"><td class="" >sex</td>' in html


def test_cli_reports_an_earlier_run_by_id(reported_history, tmp_path, capsys):
    from pipelines import cli

    first = run_info.load_runs(str(reported_history.home / "metadata.sqlite"),
                               "census-sample")[0]
    code = cli.main(["report", "--model", "census", "--sample", "--pipeline-root",
                     str(reported_history.home), "--run", first.run_id, "--out", str(tmp_path)])
    assert code == 0
    pages = [p for p in tmp_path.glob("census-sample-*.html")]
    assert len(pages) == 1 and str(pages[0]) in capsys.readouterr().out
    page = parse(pages[0])
    assert page.text_by_id["blessed"].strip() == "BLESSED"
    assert page.text_by_id["run-id"] == first.run_id
    html = pages[0].read_text()
    assert "No blessed baseline yet" in html and "version 1" in html
    assert "first run: there are no earlier statistics" in page.text_by_id["drift-note"]
    assert cli.main(["report", "--model", "census", "--sample", "--pipeline-root",
                     str(reported_history.home), "--run", "no-such-run",
                     "--out", str(tmp_path)]) == 1
    assert first.run_id in capsys.readouterr().err
