"""docs/benchmarks.md and its chart, from the measured figures."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.sending import Sending

# Goals the figures are held to.
MAX_SECONDS_AT_100 = 1.0
MAX_PEAK_MIB = 64.0
MAX_LOCK_RATIO = 1.5
MAX_SEND_RATIO = 2.0  # a real run's cost per message sent, over the durable floor's
MAX_STARTUP_RATIO = 1.3  # a dry run's whole-process CPU, over a minimal Django process's


@dataclass
class JobFigures:
    seconds: float
    queries: int
    peak_mib: float
    sent: int = 0


@dataclass
class ScaleFigures:
    scale: int
    seed_seconds: float
    members: int
    flights: int
    dry: dict[str, JobFigures] = field(default_factory=dict)
    real: dict[str, JobFigures] = field(default_factory=dict)
    sending: dict[str, Sending] = field(default_factory=dict)


def ok(condition: bool) -> str:
    return "✅" if condition else "❌"


COLORS = ["#1d4e89", "#d64933", "#2f9e44", "#e67700", "#7048e8", "#0c8599", "#a61e4d", "#5c940d"]


def svg_chart(
    series: Mapping[str, Sequence[tuple[float, float]]],
    title: str,
    y_label: str,
    x_tick: str = "scale {x:g}",
    dashed: frozenset[str] = frozenset(),
    ticks: Sequence[float] | None = None,
) -> str:
    """A line chart with a logarithmic x axis (the scale, or a count) and a linear y axis;
    the series named in ``dashed`` are drawn dashed (a reference, such as a floor)."""
    width, height, left, right, top, bottom = 760, 420, 70, 220, 40, 50
    xs = sorted({x for points in series.values() for x, _ in points})
    y_max = max((y for points in series.values() for _, y in points), default=1.0) * 1.15 or 1.0
    span_xs = [*xs, *(ticks or ())]
    x_lo, x_hi = math.log10(min(span_xs)), math.log10(max(span_xs))
    span = (x_hi - x_lo) or 1.0

    def px(x: float) -> float:
        return left + (math.log10(x) - x_lo) / span * (width - left - right)

    def py(y: float) -> float:
        return top + (1 - y / y_max) * (height - top - bottom)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{left}" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{py(0)}" x2="{width - right}" y2="{py(0)}" stroke="#333"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{py(0)}" stroke="#333"/>',
        f'<text x="14" y="{top + 10}" transform="rotate(-90 14 {top + 10})" text-anchor="end">'
        f"{escape(y_label)}</text>",
    ]
    for tick in range(6):
        value = y_max * tick / 5
        parts.append(
            f'<line x1="{left - 4}" y1="{py(value)}" x2="{width - right}" y2="{py(value)}" stroke="#eee"/>'
        )
        parts.append(f'<text x="{left - 8}" y="{py(value) + 4}" text-anchor="end">{value:.2f}</text>')
    for x in ticks if ticks is not None else xs:
        label = escape(x_tick.format(x=x))
        parts.append(f'<text x="{px(x)}" y="{height - bottom + 18}" text-anchor="middle">{label}</text>')
    for index, (name, points) in enumerate(sorted(series.items())):
        color = COLORS[index % len(COLORS)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in sorted(points))
        dash = ' stroke-dasharray="6 4"' if name in dashed else ""
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        for x, y in points:
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}"/>')
        legend_y = top + 18 * index
        parts.append(f'<rect x="{width - right + 16}" y="{legend_y}" width="12" height="12" fill="{color}"/>')
        parts.append(f'<text x="{width - right + 34}" y="{legend_y + 10}">{escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
