"""The "Canary rollout" section of a model's report: every `tfxp canary watch` decision with the
numbers behind it, read from `<models_root>/canary-watch/<model>.json` (serving.rollout.canary_watch).

Self-contained (its own small table markup, the page's CSS classes) so it can be added to a page
without touching the other sections: `add_to_page(html, section(watches))`.
"""
from html import escape
from typing import Dict, List

MARKER = "</body>"


def _num(value, suffix="") -> str:
    return "-" if value is None else f"{value}{suffix}"


def _side(stats: Dict) -> List[str]:
    return [f'<td class="num">{stats["requests"]:,}</td>',
            f'<td class="num">{stats["errors"]:,}</td>',
            f'<td class="num" data-value="{stats["error_rate"]!r}">{stats["error_rate"]:.2%}</td>',
            f'<td class="num">{_num(stats["p50_ms"], " ms")}</td>',
            f'<td class="num">{_num(stats["p99_ms"], " ms")}</td>']


def section(watches: List[Dict]) -> str:
    """HTML for the recorded watches, newest first; empty string when there are none."""
    if not watches:
        return ""
    parts = ['<section id="canary"><h2>Canary rollout (tfxp canary watch)</h2>']
    for watch in reversed(watches):
        outcome = watch.get("outcome") or "in progress"
        badge = {"promoted": "ok", "rolled back": "bad"}.get(outcome, "")
        rules = watch.get("rules", {})
        parts.append(
            f'<h3>v{watch["canary"]} against stable v{watch["stable"]}, started '
            f'{escape(watch["started"])} <span class="badge {badge}">{escape(outcome)}</span></h3>'
            f'<p class="note">Steps {", ".join(f"{s}%" for s in watch["steps"])}; every '
            f'{watch["interval_s"]} s; rules: at least {rules.get("min_requests")} canary requests '
            f'per step, error rate within {rules.get("max_error_margin", 0):.2%} of stable, p99 '
            f'within {rules.get("max_p99_ratio")} x stable.</p>')
        head = ("<tr><th rowspan=2>time</th><th rowspan=2>weight</th><th colspan=5>canary "
                "(this step)</th><th colspan=5>stable (whole watch)</th><th rowspan=2>decision"
                "</th></tr><tr>" + "<th>requests</th><th>errors</th><th>error rate</th>"
                "<th>p50</th><th>p99</th>" * 2 + "</tr>")
        rows = []
        for d in watch["decisions"]:
            cls = {"rollback": "failure", "promote": "better"}.get(d["action"], "")
            rows.append(f'<tr data-action="{escape(d["action"])}"><td>{escape(d["time"])}</td>'
                        f'<td class="num">{d["weight"]}%</td>' + "".join(_side(d["canary"]))
                        + "".join(_side(d["stable"]))
                        + f'<td class="{cls}"><b>{escape(d["action"])}</b>: '
                          f'{escape(d["reason"])}</td></tr>')
        parts.append(f'<table class="canary">{head}{"".join(rows)}</table>')
    parts.append("</section>")
    return "".join(parts)


def add_to_page(html: str, section_html: str) -> str:
    """Append the section at the end of the page body."""
    if not section_html:
        return html
    at = html.rfind(MARKER)
    return html[:at] + section_html + html[at:] if at >= 0 else html + section_html
