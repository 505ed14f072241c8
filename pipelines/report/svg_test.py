"""The report's inline SVG charts: data mapped into the plot area, user text escaped."""
import math
import re

from pipelines.report import svg


def test_a_line_chart_draws_one_polyline_per_series_without_non_finite_points():
    chart = svg.line_chart("ROC <census>", [("candidate", [(0, 0), (0.5, 0.8), (1, 1)]),
                                            ("baseline", [(0, 0), (math.nan, 0.3), (1, 1)])],
                           "false positive rate", "recall", x_range=(0, 1), y_range=(0, 1),
                           diagonal=True)
    lines = re.findall(r'<polyline [^>]*points="([^"]*)"', chart)
    assert len(lines) == 2
    assert len(lines[0].split()) == 3 and len(lines[1].split()) == 2
    assert "<title>ROC &lt;census&gt;</title>" in chart and "<census>" not in chart
    assert 'stroke-dasharray="4 3"' in chart  # the y = x reference


def test_the_frame_maps_the_range_onto_the_plot_area():
    chart = svg.line_chart("t", [("", [(0, 0), (1, 1)])], "x", "y", x_range=(0, 1),
                           y_range=(0, 1), width=340, height=250)
    start, end = re.search(r'points="([^"]*)"', chart).group(1).split()
    assert start == "48.0,214.0"  # left padding, bottom of the plot area
    assert end == "328.0,22.0"  # right edge, top padding


def test_histograms_are_fractions_of_each_series_total():
    chart = svg.histogram("age", [("train", [(0, 10, 30), (10, 20, 10)])], "age")
    heights = [float(h) for h in re.findall(r'height="([^"]*)" fill="[^"]*" fill-opacity="0.45"',
                                             chart)]
    assert len(heights) == 2 and abs(heights[0] / heights[1] - 3.0) < 0.05


def test_bars_print_each_value_as_a_percentage():
    chart = svg.bars("sex", ["Male", "Female"], [("train", [0.66, 0.34])])
    assert ">66.0%</text>" in chart and ">34.0%</text>" in chart


def test_a_heatmap_carries_each_cells_count():
    chart = svg.heatmap("confusion", ["0", "1"], [[5, 1], [2, 8]])
    cells = re.findall(r'data-actual="(\d)" data-predicted="(\d)" data-count="([^"]*)"', chart)
    assert cells == [("0", "0", "5"), ("0", "1", "1"), ("1", "0", "2"), ("1", "1", "8")]
