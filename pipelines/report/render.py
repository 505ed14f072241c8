"""HTML for a run report and the index page: one self-contained file each (inline CSS and SVG,
no script, no external resource). Exact values sit in data-value attributes for tests and tools."""
import datetime
import math
from html import escape
from typing import Dict, Iterable, List, Optional, Sequence

from pipelines.report import svg
from pipelines.report.data_facts import DataSection, FeatureStats
from pipelines.report.evaluation_facts import ModelSection, metric_direction
from pipelines.report.gather import RunReport

CSS = """
:root{--fg:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--ok:#15803d;--bad:#b91c1c}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg);margin:0;padding:0 24px 40px}
header{padding:18px 0 8px;border-bottom:1px solid var(--line)}
h1{font-size:22px;margin:0 0 6px}h2{font-size:18px;margin:28px 0 8px;padding-top:6px;
border-top:2px solid var(--line)}h3{font-size:15px;margin:18px 0 6px}
nav a{margin-right:14px;color:#1d4ed8;text-decoration:none}
code{font:12px ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
table{border-collapse:collapse;background:#fff;margin:6px 0 10px}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f1f5f9;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600;
color:#fff;background:var(--muted)}
.badge.ok,.badge.executed{background:var(--ok)}.badge.bad,.badge.failed{background:var(--bad)}
.badge.cached{background:#0369a1}
.better{color:var(--ok);font-weight:600}.worse{color:var(--bad);font-weight:600}
.failure{color:var(--bad)}.note{color:var(--muted)}.exceeded{background:#fee2e2}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.grid{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 10px}
.card table{margin:4px 0}
svg.chart{font:10px system-ui,sans-serif;fill:#334155;background:#fff}
svg.chart .chart-title{font-size:12px;font-weight:600}
small.diff{display:block;font-size:11px}
"""


def _number(value: Optional[float], digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.{digits}f}" if abs(value) < 1e6 else f"{value:.4g}"


def _value_attrs(**attrs) -> str:
    """data-* attributes; data-value carries the exact float (repr round-trips)."""
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        text = repr(float(value)) if key == "value" else str(value)
        parts.append(f'data-{key.replace("_", "-")}="{escape(text)}"')
    return " ".join(parts)


def _time(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S")


def _page(title: str, body: Iterable[str]) -> str:
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width\"><title>{escape(title)}</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "",
           row_classes: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    classes = list(row_classes)
    body = "".join((f'<tr class="{classes[i]}">' if i < len(classes) and classes[i] else "<tr>")
                   + "".join(row) + "</tr>" for i, row in enumerate(rows))
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _td(text: str, cls: str = "", attrs: str = "") -> str:
    return f'<td class="{cls}" {attrs}>{text}</td>'


def _blessed_badge(blessed: Optional[bool]) -> str:
    if blessed is None:
        return '<span class="badge" id="blessed">not evaluated</span>'
    return (f'<span class="badge {"ok" if blessed else "bad"}" id="blessed">'
            f'{"BLESSED" if blessed else "NOT BLESSED"}</span>')


# ---- run page ----

def _header(report: RunReport) -> str:
    run = report.run
    rows = report.data.rows if report.data else {}
    rows_text = ", ".join(f'<span {_value_attrs(split=s, value=n)} class="rows">{escape(s)} '
                          f'{n:,}</span>' for s, n in rows.items()) or "unknown"
    candidate, baseline = report.key_values
    key = (f"{_number(candidate)}" + (f" (baseline {_number(baseline)})"
                                       if baseline is not None else "")) \
        if candidate is not None else "-"
    pushed = (f"version {report.pushed_version} <code>{escape(report.pushed_destination)}</code>"
              if report.pushed_version else "nothing pushed by this run")
    if not report.pushed_version and report.latest_pushed_version:
        pushed += f" (the last pushed version is {report.latest_pushed_version})"
    facts = [("model", escape(report.model)), ("pipeline", escape(report.pipeline_name)),
             ("run", f'<code id="run-id">{escape(run.run_id)}</code>'),
             ("started", _time(run.started)), ("rows", rows_text),
             ("verdict", _blessed_badge(report.blessed)),
             (f"key metric ({escape(report.key_metric)})", key), ("pushed", pushed)]
    problems = "".join(f'<p class="failure">Could not read {escape(p)}</p>'
                       for p in report.problems)
    return (f"<header><h1>{escape(report.model)} &mdash; run {escape(run.run_id)}</h1>"
            '<nav><a href="index.html">all models</a><a href="#pipeline">pipeline</a>'
            '<a href="#data">data</a><a href="#model">model</a><a href="#training">training</a>'
            f'</nav><dl class="facts">'
            + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
            + f"</dl>{problems}</header>")


def _pipeline(report: RunReport) -> str:
    rows = []
    for component in report.run.components:
        outputs = "<br>".join(
            f"{escape(key)}: {escape(a.type_name)} <code>{escape(a.uri)}</code>"
            for key, artifacts in component.outputs.items() for a in artifacts) or "-"
        rows.append([_td(escape(component.node_id)),
                     _td(f'<span class="badge {component.state}">{component.state}</span>',
                         attrs=f'data-component="{escape(component.node_id)}" '
                               f'data-state="{component.state}"'),
                     _td(f"{component.seconds:.1f} s", "num"), _td(outputs)])
    states = [c.state for c in report.run.components]
    total = sum(c.seconds for c in report.run.components)
    return ('<section id="pipeline"><h2>Pipeline</h2>'
            f'<p>{states.count("executed")} executed, {states.count("cached")} cached, '
            f'{len(states) - states.count("executed") - states.count("cached")} other; '
            f'{total:.1f} s of component time.</p>'
            + _table(["component", "state", "duration", "outputs (from ML Metadata)"], rows)
            + "</section>")


_NUMERIC_STATS = ("count", "missing", "mean", "std_dev", "zeros", "min", "median", "max")
_STRING_STATS = ("count", "missing", "unique", "avg_length")


def _readable(value: str) -> bool:
    """False for raw bytes and TFDV's placeholders such as __BYTES_VALUE__."""
    placeholder = value.startswith("__") and value.endswith("__")
    return len(value) <= 64 and value.isprintable() and not placeholder


MAX_FEATURE_CHARTS = 100


def _feature_card(feature: FeatureStats, with_chart: bool = True) -> str:
    names = _NUMERIC_STATS if feature.kind == "numeric" else _STRING_STATS
    rows = []
    for split, stats in feature.stats.items():
        cells = [_td(escape(split))]
        for name in names:
            value = stats.get(name)
            cells.append(_td(_number(value, 3), "num", _value_attrs(
                feature=feature.name, split=split, stat=name, value=value)))
        rows.append(cells)
    table = _table(["split"] + list(names), rows)
    if not with_chart:
        chart = ""
    elif feature.kind == "numeric" and feature.histograms:
        chart = svg.histogram(f"{feature.name} distribution",
                              list(feature.histograms.items()), feature.name)
    elif feature.top_values:
        splits = list(feature.top_values)
        first = feature.top_values[splits[0]]
        categories = [value for value, _ in first if _readable(value)][:8]
        series = []
        for split in splits:
            counts = dict(feature.top_values[split])
            total = feature.stats.get(split, {}).get("count") or 1.0
            series.append((split, [counts.get(c, 0.0) / total for c in categories]))
        chart = svg.bars(f"{feature.name}: top values", categories, series) if categories \
            else '<p class="note">Binary values (e.g. encoded images): no top values shown.</p>'
    else:
        chart = ""
    return (f'<div class="card feature" data-feature="{escape(feature.name)}">'
            f'<h3>{escape(feature.name)} <span class="note">({feature.kind})</span></h3>'
            f"{table}{chart}</div>")


def _data(data: Optional[DataSection]) -> str:
    if data is None:
        return ('<section id="data"><h2>Data</h2><p class="note">This run has no StatisticsGen '
                "output.</p></section>")
    parts = ['<section id="data"><h2>Data (TensorFlow Data Validation)</h2>',
             f'<p class="note">Statistics: <code>{escape(data.statistics_uri)}</code></p>',
             "<h3>Anomalies</h3>"]
    if data.anomalies:
        parts.append(_table(["split", "feature", "severity", "anomaly", "description"], [
            [_td(escape(a.split)), _td(escape(a.feature)), _td(escape(a.severity)),
             _td(escape(a.short), "failure"), _td(escape(a.description))]
            for a in data.anomalies], "anomalies"))
    else:
        splits = ", ".join(data.rows) or "any split"
        parts.append(f'<p id="no-anomalies">ExampleValidator found no anomalies in {splits} '
                     "against the schema.</p>")
    parts.append("<h3>Drift and skew</h3>")
    parts.append(f'<p class="note" id="drift-note">{escape(data.drift_note)} Skew compares the '
                 "train and eval splits of this run. L-infinity distance is used for "
                 "categorical features, Jensen-Shannon divergence for numeric ones.</p>")
    if data.distances:
        exceeded = [c for c in data.distances if c.exceeded]
        parts.append(f"<p>{len(exceeded)} of {len(data.distances)} comparisons exceed their "
                     "threshold.</p>")
        parts.append(_distance_table(data.distances))
    parts.append(_gate(data.gate))
    parts.append("<h3>Features</h3>")
    if len(data.features) > MAX_FEATURE_CHARTS:
        parts.append(f'<p class="note">{len(data.features)} features: charts for the first '
                     f"{MAX_FEATURE_CHARTS} only.</p>")
    parts.append('<div class="grid">' + "".join(
        _feature_card(f, i < MAX_FEATURE_CHARTS) for i, f in enumerate(data.features))
        + "</div></section>")
    return "".join(parts)


def _gate(gate) -> str:
    """What the data gate measured against the stable version, and drift it was told to accept."""
    if gate is None:
        return ""
    if not gate.drift_accepted:
        against = gate.stable_version_dir or gate.note or "-"
        return (f'<p class="note" id="data-gate">The data gate passed this data (drift checked '
                f"against: {escape(against)}).</p>")
    exceeded = gate.drifted + [d for d in gate.skew if d.exceeded]
    rows = [[_td(escape(d.feature)), _td(escape(d.comparison)), _td(escape(d.measure)),
             _td(f"{d.value:.4f}", "num worse", _value_attrs(feature=d.feature,
                                                              comparison=d.comparison,
                                                              value=d.value)),
             _td(f"{d.threshold:g}", "num")] for d in exceeded]
    return ('<div id="drift-accepted"><p class="failure">Drift accepted: this run trained on '
            "data that changed against the stable version "
            f"({escape(gate.stable_version_dir or 'none')}), knowingly "
            "(<code>tfxp run --accept-drift</code>).</p>"
            + _table(["feature", "comparison", "distance", "value", "threshold"], rows,
                     "accepted-drift") + "</div>")


def _serving_skew(section) -> str:
    """`tfxp skew`'s last result for this model: a table per feature and a chart per skewed one."""
    if section is None:
        return ""
    result = section.result
    ordered = sorted(result.distances, key=lambda d: (not d.exceeded, d.feature))
    rows = [[_td(escape(d.feature)), _td(escape(d.measure)),
             _td(f"{d.value:.4f}", "num worse" if d.exceeded else "num",
                 _value_attrs(feature=d.feature, comparison="serving-skew", value=d.value)),
             _td(f"{d.threshold:g}", "num"), _td("SKEW" if d.exceeded else "ok"),
             _td(escape(result.training_summary.get(d.feature, "-"))),
             _td(escape(result.serving_summary.get(d.feature, "-")))] for d in ordered]
    verdict = (f"{len(result.skewed)} feature(s) skewed: "
               + ", ".join(escape(d.feature) for d in result.skewed)) if result.skewed \
        else "No feature is skewed."
    return ('<section id="serving-skew"><h2>Serving skew</h2>'
            f'<p class="note">{result.requests} request rows from '
            f"<code>{escape(result.logs)}</code> compared with the training data of "
            f"<code>{escape(result.version_dir)}</code> (<code>tfxp skew</code>), with the "
            "schema's skew thresholds.</p>"
            f'<p id="serving-skew-verdict">{verdict}</p>'
            + _table(["feature", "distance", "value", "threshold", "skew", "training",
                      "serving"], rows, "serving-skew")
            + '<div class="grid">' + "".join(_feature_card(f) for f in section.features)
            + "</div></section>")




def _distance_table(checks) -> str:
    """One row per feature: drift and skew side by side, rows over a threshold first."""
    by_feature: Dict[str, Dict[str, object]] = {}
    for check in checks:
        by_feature.setdefault(check.feature, {})[check.comparison] = check
    ordered = sorted(by_feature.items(),
                     key=lambda kv: (not any(c.exceeded for c in kv[1].values()), kv[0]))
    rows, classes = [], []
    for feature, found in ordered:
        first = next(iter(found.values()))
        cells = [_td(escape(feature)), _td(escape(first.measure))]
        for comparison in ("drift", "skew"):
            check = found.get(comparison)
            cells.append(_td("-" if check is None else
                             f"{check.value:.4f} (max {check.threshold:g})",
                             "num worse" if check is not None and check.exceeded else "num",
                             _value_attrs(feature=feature, comparison=comparison,
                                          value=check.value if check else None)))
        rows.append(cells)
        classes.append("exceeded" if any(c.exceeded for c in found.values()) else "")
    return _table(["feature", "distance", "drift vs previous train", "skew train vs eval"],
                  rows, "distances", classes)


def _slice_order(name: str):
    return (name != "Overall", name)


def _metric_cell(slice_name: str, metric: str, per_model: Dict[str, Dict[str, float]]) -> str:
    candidate = per_model.get("candidate", {}).get(metric)
    baseline = per_model.get("baseline", {}).get(metric)
    diff = per_model.get("diff", {}).get(metric)
    if diff is None and candidate is not None and baseline is not None:
        diff = candidate - baseline

    def attrs(model, value):
        return _value_attrs(slice=slice_name, model=model, metric=metric, value=value)

    inner = (f'<span {attrs("candidate", candidate)}>{_number(candidate)}</span>'
             if candidate is not None else "-")
    if baseline is not None:
        inner += f' <span class="note" {attrs("baseline", baseline)}>/ {_number(baseline)}</span>'
    if diff is not None:
        direction = metric_direction(metric) * (1 if diff > 0 else -1 if diff < 0 else 0)
        cls = "better" if direction > 0 and abs(diff) > 1e-9 else \
            "worse" if direction < 0 and abs(diff) > 1e-9 else "note"
        inner += f'<small class="diff {cls}" {attrs("diff", diff)}>Δ {diff:+.4f}</small>'
    return _td(inner, "num")


def _metrics_tables(model: ModelSection) -> str:
    slices = sorted(model.metrics, key=_slice_order)
    metric_names = sorted({m for per_model in model.metrics.values()
                           for values in per_model.values() for m in values},
                          key=lambda m: (m != "example_count", m))
    overall = model.metrics.get("Overall", {})
    rows = []
    for metric in metric_names:
        candidate = overall.get("candidate", {}).get(metric)
        baseline = overall.get("baseline", {}).get(metric)
        diff = overall.get("diff", {}).get(metric)
        if diff is None and candidate is not None and baseline is not None:
            diff = candidate - baseline
        signed = metric_direction(metric) * (diff or 0.0)
        cls = "better" if signed > 1e-9 else "worse" if signed < -1e-9 else ""
        rows.append([_td(escape(metric)),
                     _td(_number(candidate), "num", _value_attrs(
                         slice="Overall", model="candidate", metric=metric, value=candidate)),
                     _td(_number(baseline), "num", _value_attrs(
                         slice="Overall", model="baseline", metric=metric, value=baseline)),
                     _td("-" if diff is None else f"{diff:+.4f}", f"num {cls}", _value_attrs(
                         slice="Overall", model="diff", metric=metric, value=diff))])
    parts = ["<h3>Overall: candidate beside baseline</h3>",
             _table(["metric", "candidate", "baseline", "difference"], rows, "overall-metrics")]
    if not model.has_baseline:
        parts.append('<p class="note">No blessed baseline yet: the candidate was judged on '
                     "value thresholds only.</p>")
    others = [s for s in slices if s != "Overall"]
    if others:
        shown = [m for m in metric_names if m != "example_count"]
        slice_rows = []
        for name in others:
            per_model = model.metrics[name]
            count = per_model.get("candidate", {}).get("example_count")
            slice_rows.append([_td(escape(name)), _td(_number(count), "num", _value_attrs(
                slice=name, model="candidate", metric="example_count", value=count))]
                              + [_metric_cell(name, m, per_model) for m in shown])
        parts.append("<h3>Per slice (candidate / baseline, Δ = candidate − baseline)</h3>")
        parts.append(_table(["slice", "examples"] + shown, slice_rows, "slice-metrics"))
    return "".join(parts)


def _validation(report: RunReport, model: ModelSection) -> str:
    parts = ["<h3>Validation</h3>"]
    if model.thresholds:
        parts.append("<p>Thresholds the candidate had to meet:</p><ul>"
                     + "".join(f"<li>{escape(t)}</li>" for t in model.thresholds) + "</ul>")
    if model.failures is None:
        parts.append('<p class="note">TFMA wrote no validation result for this run.</p>')
    elif model.failures:
        parts.append(f'<p class="failure">{len(model.failures)} threshold(s) failed, so the '
                     "model was not blessed:</p><ul id=\"failures\">"
                     + "".join(f'<li class="failure" data-slice="{escape(f.slice)}" '
                               f'data-metric="{escape(f.metric)}">[{escape(f.slice)}] '
                               f"{escape(f.message)}</li>" for f in model.failures) + "</ul>")
    else:
        verdict = "and the model was blessed" if report.blessed else \
            "but the model was not blessed"
        parts.append(f'<p id="validation-ok">Every threshold passed {verdict}.</p>')
    return "".join(parts)


def _plots(model: ModelSection) -> str:
    plots = model.plots
    charts = []
    if plots.roc:
        charts.append(svg.line_chart("ROC curve", list(plots.roc.items()), "false positive rate",
                                     "true positive rate", (0, 1), (0, 1), diagonal=True))
    if plots.pr:
        charts.append(svg.line_chart("Precision-recall curve", list(plots.pr.items()), "recall",
                                     "precision", (0, 1), (0, 1)))
    if plots.calibration:
        charts.append(svg.line_chart(
            "Calibration", [(k, [(p, y) for p, y, _ in v]) for k, v in plots.calibration.items()],
            "mean prediction", "observed label rate", (0, 1), (0, 1), diagonal=True,
            markers=True))
    for label, (classes, matrix) in plots.confusion.items():
        threshold = plots.confusion_threshold.get(label, 0.0)
        charts.append(svg.heatmap(f"Confusion matrix: {label} at {threshold:.3g}",
                                  classes, matrix))
    if not charts:
        return ('<p class="note">The eval config asks for no plots; add TFMA\'s '
                "ConfusionMatrixPlot and CalibrationPlot (binary) or "
                "MultiClassConfusionMatrixPlot (multi-class) metrics.</p>")
    return ('<h3>Plots (overall slice)</h3><div class="grid plots">'
            + "".join(f'<div class="card">{c}</div>' for c in charts) + "</div>")


def _model(report: RunReport) -> str:
    model = report.model_section
    if model is None:
        return ('<section id="model"><h2>Model</h2><p class="note">This run has no Evaluator '
                "output (the pipeline stopped before evaluation).</p></section>")
    return ('<section id="model"><h2>Model evaluation (TensorFlow Model Analysis)</h2>'
            f'<p class="note">Evaluation: <code>{escape(model.evaluation_uri)}</code></p>'
            + _validation(report, model) + _metrics_tables(model) + _plots(model) + "</section>")


def _training(report: RunReport) -> str:
    parts = ['<section id="training"><h2>Training curves</h2>']
    if not report.curves:
        parts.append('<p class="note">No per-epoch TensorBoard summaries were found'
                     + (f" under <code>{escape(report.model_run_uri)}</code>"
                        if report.model_run_uri else "") + ".</p></section>")
        return "".join(parts)
    parts.append(f'<p class="note">From the Trainer\'s TensorBoard logs: '
                 f"<code>{escape(report.model_run_uri or '')}</code></p><div class=\"grid\">")
    for metric, per_run in report.curves.items():
        series = [(run, [(float(step) + 1, value) for step, value in points])
                  for run, points in per_run.items()]
        parts.append('<div class="card">' + svg.line_chart(
            metric, series, "epoch", metric, markers=True) + "</div>")
    parts.append("</div></section>")
    return "".join(parts)


def _latency_gate(report: RunReport) -> str:
    """The infra validator's latency gate: verdict in words, per-version figures."""
    gate = report.latency_gate
    if not gate:
        return ""
    verdict = str(gate.get("latency_gate"))
    parts = ['<section id="latency-gate"><h2>Latency gate</h2>',
             f'<p class="{"failure" if verdict == "failed" else "note"}" id="latency-verdict">'
             f"{escape(verdict)}: {escape(str(gate.get('latency_gate_reason', '')))}</p>"]
    if "latency_gate_candidate_p95_ms" in gate:
        parts.append(f'<p class="note">{escape(str(gate.get("latency_gate_request_source")))}, '
                     f"concurrency {gate.get('latency_gate_concurrency')}, "
                     f"{gate.get('latency_gate_rounds')} alternating rounds of "
                     f"{gate.get('latency_gate_requests_per_round')} requests per version "
                     f"against stable version {gate.get('latency_gate_stable_version')}; "
                     f"allowed p95 ratio {gate.get('latency_gate_ratio')}, measured "
                     f"{gate.get('latency_gate_p95_ratio')} "
                     f"(95% CI {gate.get('latency_gate_p95_ratio_ci')}).</p>")
        rows = []
        for side in ("candidate", "stable"):
            cells = [_td(side)]
            for metric in ("p50", "p95", "p99"):
                value = gate.get(f"latency_gate_{side}_{metric}_ms")
                ci = gate.get(f"latency_gate_{side}_{metric}_ci_ms", "")
                cells.append(_td(f"{_number(value, 2)} <small>({escape(str(ci))})</small>",
                                 "num", _value_attrs(gate=side, metric=metric, value=value)))
            cells.append(_td(f"{float(gate.get(f'latency_gate_{side}_error_rate', 0)):.1%} of "
                             f"{gate.get(f'latency_gate_{side}_requests')}", "num"))
            rows.append(cells)
        parts.append(_table(["version", "p50 ms (95% CI)", "p95 ms (95% CI)", "p99 ms (95% CI)",
                             "errors"], rows, "latency-gate"))
    return "".join(parts) + "</section>"


def _holdout_table(model: ModelSection) -> str:
    """Overall metrics on the holdout; data-set="holdout" keeps them apart from the eval
    split's values."""
    overall = model.metrics.get("Overall", {})
    names = sorted({m for values in overall.values() for m in values},
                   key=lambda m: (m != "example_count", m))
    rows = []
    for metric in names:
        cells = [_td(escape(metric))]
        for which in ("candidate", "baseline", "diff"):
            value = overall.get(which, {}).get(metric)
            cells.append(_td(_number(value), "num", _value_attrs(
                set="holdout", side=which, metric=metric, value=value)))
        rows.append(cells)
    return _table(["metric", "candidate", "baseline", "difference"], rows, "holdout-metrics")


def _holdout(report: RunReport) -> str:
    """The golden holdout: candidate beside baseline on the pinned set, and the verdict."""
    if report.holdout is None and not report.holdout_note:
        return ""
    lost = (f'<p class="failure" id="lost-on">The candidate lost on: '
            f"{escape(report.lost_on)}.</p>") if report.lost_on else ""
    if report.holdout is None:
        return ('<section id="holdout"><h2>Golden holdout</h2>' + lost
                + f'<p class="note">Not judged: {escape(report.holdout_note)}.</p></section>')
    failures = report.holdout.failures or []
    verdict = ('<ul id="holdout-failures">' + "".join(
        f'<li class="failure">[{escape(f.slice)}] {escape(f.message)}</li>' for f in failures)
        + "</ul>") if failures else \
        '<p id="holdout-ok">The candidate did not lose against the baseline here.</p>'
    return ('<section id="holdout"><h2>Golden holdout</h2><p class="note">The pinned '
            "evaluation set the stable version was judged on (or the file named with "
            "<code>--holdout</code>): candidate and baseline, change thresholds only.</p>"
            + lost + verdict + _holdout_table(report.holdout) + "</section>")


def run_page(report: RunReport) -> str:
    """The HTML page of one run."""
    return _page(f"{report.model} run {report.run.run_id}",
                 [_header(report), _pipeline(report), _data(report.data),
                  _serving_skew(report.serving_skew), _model(report), _holdout(report),
                  _latency_gate(report), _training(report)])


# ---- index ----

def index_page(rows: List[Dict], generated: float) -> str:
    """The page listing every model's latest run."""
    table_rows = []
    for row in rows:
        link = (f'<a href="{escape(row["page"])}">{escape(row["run_id"])}</a>'
                if row.get("page") else f'<span class="note">{escape(row["note"])}</span>')
        labels = row.get("labels") or {}
        table_rows.append([
            _td(escape(row["model"]), attrs=f'data-model="{escape(row["model"])}"'),
            _td(link),
            _td(escape(row["key_metric"])),
            _td(_number(row.get("candidate")), "num", _value_attrs(
                model=row["model"], metric=row["key_metric"], value=row.get("candidate"))),
            _td(_number(row.get("baseline")), "num"),
            _td(_blessed_badge(row.get("blessed")).replace(' id="blessed"', "")
                if row.get("page") else "-"),
            _td(str(row["pushed_version"]) if row.get("pushed_version") else "-", "num",
                f'data-pushed="{row.get("pushed_version") or ""}"'),
            _td(str(labels.get("stable", "-")), "num"),
            _td(str(labels.get("canary", "-")), "num"),
            _td(str(row.get("runs", 0)), "num")])
    body = ["<header><h1>Model reports</h1>",
            f'<p class="note">Generated {_time(generated)}. Each link opens the latest run\'s '
            "report; stable and canary are the versions TF Serving's models.config labels.</p>"
            "</header>",
            _table(["model", "latest run", "key metric", "candidate", "baseline", "verdict",
                    "last pushed version", "stable", "canary", "runs"], table_rows, "index")]
    return _page("Model reports", body)
