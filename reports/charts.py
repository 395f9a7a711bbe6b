"""Server-rendered inline SVG charts: a line chart over days and a bar chart; no JavaScript, no CDN.

Each chart carries a <title> and <desc> (read by screen readers via aria-labelledby), axis labels,
and a small data table fallback is left to the page (every chart sits next to its table).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 84, 16, 30, 40
COLOURS = ("#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2")
_ids = itertools.count(1)


@dataclass(frozen=True)
class Line:
    """One series of a line chart."""

    label: str
    values: Sequence[float]


def nice_max(value: float) -> float:
    """A round upper bound for the y axis (1, 2, 5 × 10^n) at or above the value."""
    if value <= 0:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        bound = step * 10 ** exponent
        if bound >= value:
            return bound
    return 10 ** (exponent + 1)


def _frame(chart_id: str, title: str, description: str, body: list[str], y_max: float, y_label: str,
           y_format: Callable[[float], str]) -> SafeString:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{chart_id}-title">{escape(title)}</title>',
             f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
             # The title is also drawn, so sighted readers see what the chart shows.
             f'<text x="{LEFT}" y="16" font-size="13" font-weight="600" aria-hidden="true">{escape(title)}</text>']
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#6b7280">'
                     f'{escape(y_format(y_max * fraction))}</text>')
    parts.append(f'<text x="12" y="{TOP + plot_h / 2:.1f}" font-size="11" fill="#6b7280" text-anchor="middle" '
                 f'transform="rotate(-90 12 {TOP + plot_h / 2:.1f})">{escape(y_label)}</text>')
    parts.extend(body)
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="#9ca3af"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 -- every text above went through escape()


def line_chart(*, title: str, x_labels: Sequence[str], lines: Sequence[Line], y_label: str,
               y_format: Callable[[float], str] = lambda v: f"{v:,.0f}") -> SafeString:
    """A line chart of one or more series over the same x labels (days), with a legend."""
    chart_id = f"chart-{next(_ids)}"
    count = len(x_labels)
    y_max = nice_max(max((max(line.values, default=0) for line in lines), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_at(index: int) -> float:
        return LEFT + (plot_w * index / (count - 1) if count > 1 else plot_w / 2)

    def y_at(value: float) -> float:
        return TOP + plot_h * (1 - value / y_max)

    body = []
    for index in sorted({0, count // 2, count - 1}) if count else []:
        body.append(f'<text x="{x_at(index):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11" '
                    f'fill="#6b7280">{escape(x_labels[index])}</text>')
    for number, line in enumerate(lines):
        colour = COLOURS[number % len(COLOURS)]
        points = " ".join(f"{x_at(i):.1f},{y_at(v):.1f}" for i, v in enumerate(line.values))
        body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
                    f'<title>{escape(line.label)}</title></polyline>')
        legend_x = LEFT + number * 160
        body.append(f'<rect x="{legend_x}" y="{HEIGHT - 14}" width="10" height="10" fill="{colour}"/>'
                    f'<text x="{legend_x + 14}" y="{HEIGHT - 5}" font-size="11">{escape(line.label)}</text>')
    summary = "; ".join(f"{line.label}: {y_format(sum(line.values))}" for line in lines)
    description = f"{x_labels[0]} – {x_labels[-1]}. {summary}" if count else summary
    return _frame(chart_id, title, description, body, y_max, y_label, y_format)


def bar_chart(*, title: str, labels: Sequence[str], values: Sequence[float], y_label: str,
              y_format: Callable[[float], str] = lambda v: f"{v:,.0f}") -> SafeString:
    """A vertical bar chart (a funnel, a top-N list), each bar labelled below and valued above."""
    chart_id = f"chart-{next(_ids)}"
    y_max = nice_max(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(values), 1)
    body = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        colour = COLOURS[index % len(COLOURS)]
        height = plot_h * value / y_max
        x = LEFT + slot * index + slot * 0.15
        y = TOP + plot_h - height
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}" fill="{colour}">'
                    f'<title>{escape(label)}: {escape(y_format(value))}</title></rect>')
        body.append(f'<text x="{x + slot * 0.35:.1f}" y="{max(y - 4, TOP + 10):.1f}" text-anchor="middle" '
                    f'font-size="11">{escape(y_format(value))}</text>')
        body.append(f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                    f'font-size="11" fill="#6b7280">{escape(label[:18])}</text>')
    description = "; ".join(f"{label}: {y_format(value)}" for label, value in zip(labels, values, strict=True))
    return _frame(chart_id, title, description, body, y_max, y_label, y_format)
