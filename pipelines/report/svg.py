"""Small inline SVG charts (line, histogram, bars, heat map): no plotting dependency, no script."""
import math
from html import escape
from typing import List, Optional, Sequence, Tuple

COLORS = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2")
_PAD_LEFT, _PAD_RIGHT, _PAD_TOP, _PAD_BOTTOM = 48, 12, 22, 36

Series = Tuple[str, Sequence[Tuple[float, float]]]


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e5 or magnitude < 1e-3:
        return f"{value:.1e}"
    return f"{value:.3g}"


def _ticks(low: float, high: float, count: int = 5) -> List[float]:
    if high <= low:
        return [low]
    step = (high - low) / (count - 1)
    return [low + i * step for i in range(count)]


def _range(values: Sequence[float], fixed: Optional[Tuple[float, float]]) -> Tuple[float, float]:
    if fixed:
        return fixed
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    low, high = min(finite), max(finite)
    if high == low:
        low, high = low - 0.5, high + 0.5
    return low, high


def _label(x, y, anchor: str, markup: str) -> str:
    """An anchored `<text>` (tick, axis or category label). `x` and `y` come formatted to the
    precision the caller wants; `markup` is inserted as is, so callers escape user text."""
    return f'<text x="{x}" y="{y}" text-anchor="{anchor}">{markup}</text>'


class _Frame:
    """Maps data coordinates into a plot area and draws the axes."""

    def __init__(self, width, height, x_range, y_range, x_label, y_label):
        self.width, self.height = width, height
        self.x_range, self.y_range = x_range, y_range
        self.inner_w = width - _PAD_LEFT - _PAD_RIGHT
        self.inner_h = height - _PAD_TOP - _PAD_BOTTOM
        self.x_label, self.y_label = x_label, y_label

    def x(self, value: float) -> float:
        low, high = self.x_range
        return _PAD_LEFT + (value - low) / (high - low) * self.inner_w

    def y(self, value: float) -> float:
        low, high = self.y_range
        return _PAD_TOP + self.inner_h - (value - low) / (high - low) * self.inner_h

    def axes(self) -> List[str]:
        parts = [f'<rect x="{_PAD_LEFT}" y="{_PAD_TOP}" width="{self.inner_w}" '
                 f'height="{self.inner_h}" fill="#fff" stroke="#cbd5e1"/>']
        for tick in _ticks(*self.y_range):
            y = self.y(tick)
            parts.append(f'<line x1="{_PAD_LEFT}" x2="{_PAD_LEFT + self.inner_w}" y1="{y:.1f}" '
                         f'y2="{y:.1f}" stroke="#eef2f7"/>')
            parts.append(_label(_PAD_LEFT - 4, f"{y + 3:.1f}", "end", _fmt(tick)))
        parts.extend(_label(f"{self.x(tick):.1f}", _PAD_TOP + self.inner_h + 13, "middle",
                            _fmt(tick)) for tick in _ticks(*self.x_range))
        parts.append(_label(f"{_PAD_LEFT + self.inner_w / 2:.1f}", self.height - 4, "middle",
                            escape(self.x_label)))
        parts.append(f'<text transform="translate(11,{_PAD_TOP + self.inner_h / 2:.1f}) '
                     f'rotate(-90)" text-anchor="middle">{escape(self.y_label)}</text>')
        return parts


def _svg(width: int, height: int, title: str, body: List[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'<text x="{width / 2:.0f}" y="14" text-anchor="middle" class="chart-title">'
            f'{escape(title)}</text>{"".join(body)}</svg>')


def _legend(labels: Sequence[str], width: int) -> List[str]:
    parts, x = [], _PAD_LEFT + 6
    for i, label in enumerate(labels):
        if not label:
            continue
        parts.append(f'<rect x="{x}" y="{_PAD_TOP + 5}" width="9" height="9" '
                     f'fill="{COLORS[i % len(COLORS)]}"/>')
        parts.append(f'<text x="{x + 12}" y="{_PAD_TOP + 13}">{escape(label)}</text>')
        x += 18 + 6 * len(label)
    return parts


def line_chart(title: str, series: Sequence[Series], x_label: str, y_label: str,
               x_range: Optional[Tuple[float, float]] = None,
               y_range: Optional[Tuple[float, float]] = None, diagonal: bool = False,
               markers: bool = False, width: int = 340, height: int = 250) -> str:
    """One polyline per series; `diagonal` draws the y = x reference (ROC, calibration)."""
    points = [p for _, data in series for p in data]
    frame = _Frame(width, height, _range([p[0] for p in points], x_range),
                   _range([p[1] for p in points], y_range), x_label, y_label)
    body = frame.axes()
    if diagonal:
        low = max(frame.x_range[0], frame.y_range[0])
        high = min(frame.x_range[1], frame.y_range[1])
        body.append(f'<line x1="{frame.x(low):.1f}" y1="{frame.y(low):.1f}" '
                    f'x2="{frame.x(high):.1f}" y2="{frame.y(high):.1f}" stroke="#94a3b8" '
                    f'stroke-dasharray="4 3"/>')
    for i, (_, data) in enumerate(series):
        color = COLORS[i % len(COLORS)]
        finite = [(x, y) for x, y in data if math.isfinite(x) and math.isfinite(y)]
        coords = " ".join(f"{frame.x(x):.1f},{frame.y(y):.1f}" for x, y in finite)
        body.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.8" '
                    f'points="{coords}"/>')
        if markers:
            body.extend(f'<circle cx="{frame.x(x):.1f}" cy="{frame.y(y):.1f}" r="2.5" '
                        f'fill="{color}"/>' for x, y in finite)
    body.extend(_legend([label for label, _ in series], width))
    return _svg(width, height, title, body)


def histogram(title: str, series: Sequence[Tuple[str, Sequence[Tuple[float, float, float]]]],
              x_label: str, width: int = 300, height: int = 170) -> str:
    """Numeric histograms (low, high, count) overlaid as fractions of each series' total."""
    buckets = [b for _, data in series for b in data]
    frame = _Frame(width, height, _range([b[0] for b in buckets] + [b[1] for b in buckets], None),
                   (0.0, 1.0), x_label, "fraction")
    fractions = []
    for _, data in series:
        total = sum(b[2] for b in data) or 1.0
        fractions.append([(lo, hi, count / total) for lo, hi, count in data])
    top = max([f for data in fractions for _, _, f in data] or [1.0]) or 1.0
    frame.y_range = (0.0, top * 1.1)
    body = frame.axes()
    for i, data in enumerate(fractions):
        color = COLORS[i % len(COLORS)]
        for lo, hi, fraction in data:
            x0, x1 = frame.x(lo), frame.x(hi)
            y = frame.y(fraction)
            body.append(f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0, 1.0):.1f}" '
                        f'height="{frame.y(0) - y:.1f}" fill="{color}" fill-opacity="0.45" '
                        f'stroke="{color}" stroke-width="0.6"/>')
    body.extend(_legend([label for label, _ in series], width))
    return _svg(width, height, title, body)


def bars(title: str, categories: Sequence[str], series: Sequence[Tuple[str, Sequence[float]]],
         width: int = 300, bar_height: int = 11) -> str:
    """Horizontal grouped bars: one group per category, one bar per series (fractions)."""
    label_w = 110
    group_h = bar_height * len(series) + 4
    height = _PAD_TOP + 18 + group_h * len(categories) + 6
    top = max([v for _, values in series for v in values] or [1.0]) or 1.0
    scale = (width - label_w - 46) / top
    body = _legend([label for label, _ in series], width)
    for row, category in enumerate(categories):
        y0 = _PAD_TOP + 18 + row * group_h
        shown = category if len(category) <= 18 else category[:17] + "…"
        body.append(_label(label_w - 4, f"{y0 + group_h / 2 + 3:.1f}", "end", escape(shown)))
        for i, (_, values) in enumerate(series):
            value = values[row] if row < len(values) else 0.0
            y = y0 + i * bar_height
            body.append(f'<rect x="{label_w}" y="{y}" width="{value * scale:.1f}" '
                        f'height="{bar_height - 1}" fill="{COLORS[i % len(COLORS)]}" '
                        f'fill-opacity="0.75"/>')
            body.append(f'<text x="{label_w + value * scale + 3:.1f}" y="{y + bar_height - 2}">'
                        f'{value:.1%}</text>')
    return _svg(width, int(height), title, body)


def heatmap(title: str, labels: Sequence[str], matrix: Sequence[Sequence[float]],
            x_label: str = "predicted", y_label: str = "actual") -> str:
    """A confusion matrix: rows actual, columns predicted, shade by the row's fraction."""
    n = len(labels)
    cell = max(22, min(48, 420 // max(n, 1)))
    left, top = 70, 56
    width = max(left + cell * n + 10, int(7.4 * len(title)) + 10)
    height = top + cell * n + 12
    body = []
    for r, row in enumerate(matrix):
        total = sum(row) or 1.0
        for c, count in enumerate(row):
            share = count / total
            color = f"rgba(37,99,235,{0.08 + 0.92 * share:.3f})" if count else "#f8fafc"
            x, y = left + c * cell, top + r * cell
            text_color = "#fff" if share > 0.55 else "#0f172a"
            body.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{color}" '
                        f'stroke="#e2e8f0"/>')
            body.append(f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + 4:.1f}" '
                        f'text-anchor="middle" fill="{text_color}" data-actual="{r}" '
                        f'data-predicted="{c}" data-count="{count:g}">{count:g}</text>')
    for i, label in enumerate(labels):
        shown = escape(label[:9])
        body.append(_label(f"{left + i * cell + cell / 2:.1f}", top - 6, "middle", shown))
        body.append(_label(left - 5, f"{top + i * cell + cell / 2 + 4:.1f}", "end", shown))
    body.append(_label(f"{left + cell * n / 2:.1f}", top - 22, "middle", escape(x_label)))
    body.append(f'<text transform="translate(12,{top + cell * n / 2:.1f}) rotate(-90)" '
                f'text-anchor="middle">{escape(y_label)}</text>')
    return _svg(width, height, title, body)
