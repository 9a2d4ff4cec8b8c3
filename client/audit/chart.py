"""The log-growth chart of the report: an inline SVG drawn here, no script, no external file.

A step line of the log's size (entries) against the time each entry was appended. The
times are the relay's own (``appended_at``, not signed), so the chart shows when the
relay says the directory changed: a burst of issuances, or entries with a time earlier than
their predecessors', is for the auditor to ask about. Logs of more than :data:`MAX_POINTS`
entries are drawn from an even sample of them, always including the first and the last.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from html import escape

WIDTH = 720
HEIGHT = 240
MARGIN_LEFT = 56
MARGIN_RIGHT = 16
MARGIN_TOP = 16
MARGIN_BOTTOM = 40
MAX_POINTS = 2000


def _date(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp))


def _sample(points: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    if len(points) <= MAX_POINTS:
        return list(points)
    step = (len(points) - 1) / (MAX_POINTS - 1)
    return [points[round(i * step)] for i in range(MAX_POINTS)]


def log_growth_svg(timeline: Sequence[tuple[int, int]]) -> str:
    """``timeline`` is (appended_at, size after the entry) per entry, in log order."""
    label = f"Growth of the transparency log: {len(timeline)} entries"
    if not timeline:
        return (
            f'<svg viewBox="0 0 {WIDTH} 40" width="{WIDTH}" height="40" role="img"'
            f' aria-label="{escape(label)}"><text x="8" y="24">The log is empty.</text></svg>'
        )
    points = _sample(timeline)
    first, last = points[0][0], max(t for t, _ in points)
    span = max(last - first, 1)
    top = max(size for _, size in points)
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def x(moment: int) -> float:
        return MARGIN_LEFT + plot_w * (moment - first) / span

    def y(size: int) -> float:
        return MARGIN_TOP + plot_h * (1 - size / top)

    path = [f"{x(first):.1f},{y(0):.1f}"]
    for moment, size in points:
        path.append(f"{x(moment):.1f},{y(size - 1 if size else 0):.1f}")
        path.append(f"{x(moment):.1f},{y(size):.1f}")
    bottom = MARGIN_TOP + plot_h
    return "\n".join(
        [
            f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img"'
            f' aria-label="{escape(label)}">',
            f"<title>{escape(label)}</title>",
            f'<line x1="{MARGIN_LEFT}" y1="{bottom}" x2="{WIDTH - MARGIN_RIGHT}" y2="{bottom}"'
            ' stroke="#555"/>',
            f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" y2="{bottom}"'
            ' stroke="#555"/>',
            f'<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="{" ".join(path)}"/>',
            f'<text x="{MARGIN_LEFT - 6}" y="{MARGIN_TOP + 4}" text-anchor="end"'
            f' font-size="12">{top}</text>',
            f'<text x="{MARGIN_LEFT - 6}" y="{bottom}" text-anchor="end" font-size="12">0</text>',
            f'<text x="{MARGIN_LEFT}" y="{HEIGHT - 12}" font-size="12">'
            f"{escape(_date(first))}</text>",
            f'<text x="{WIDTH - MARGIN_RIGHT}" y="{HEIGHT - 12}" text-anchor="end"'
            f' font-size="12">{escape(_date(last))}</text>',
            "</svg>",
        ]
    )
