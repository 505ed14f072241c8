"""The report's canary section shows each recorded decision with its numbers."""
from pipelines.report import canary_section

WATCH = {"model": "census", "stable": 1, "canary": 2, "steps": [10, 100], "interval_s": 30,
         "rules": {"min_requests": 100, "max_error_margin": 0.01, "max_p99_ratio": 1.5},
         "started": "2026-12-01T04:00:00Z", "outcome": "rolled back",
         "decisions": [
             {"time": "04:00:30", "weight": 10, "action": "rollback",
              "reason": "canary errors 12 exceed what 1.00% of 100 requests allows",
              "canary": {"requests": 100, "errors": 12, "error_rate": 0.12, "p50_ms": 1.5,
                         "p99_ms": 9.0},
              "stable": {"requests": 900, "errors": 0, "error_rate": 0.0, "p50_ms": 1.2,
                         "p99_ms": None}}]}


def test_section_lists_decisions_with_numbers_and_outcome():
    html = canary_section.section([WATCH])
    assert 'id="canary"' in html and "rolled back" in html
    assert 'data-action="rollback"' in html and "12.00%" in html and "9.0 ms" in html
    assert "<td class=\"num\">-</td>" in html  # a missing p99 is shown as a dash
    page = canary_section.add_to_page("<html><body><p>run</p></body></html>", html)
    assert page.index("<p>run</p>") < page.index('id="canary"') < page.index("</body>")


def test_no_watches_leave_the_page_unchanged():
    assert canary_section.section([]) == ""
    assert canary_section.add_to_page("<body></body>", "") == "<body></body>"
