"""The dashboard's chart as plain geometry: the server draws it as SVG, no JavaScript library.

Two panels over the same days share the x axis: runs per day (failed ones stacked in red on
the others) and records moved per day. Each panel has its own scale, so neither is flattened
by the other; the template (admin/forcebridge/chart.html) turns the shapes into SVG elements.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

WIDTH = 960
PANEL_HEIGHT = 120
TOP = 26  # room for a panel's title
BOTTOM = 22  # room for the day labels
LEFT = 8
GAP = 0.3  # the share of a day's slot left empty between bars


@dataclass(frozen=True)
class DayBar:
    day: dt.date
    runs: int
    failed_runs: int
    moved: int


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Panel:
    title: str
    top: float
    rects: list[Rect]
    values: list[Label]
    baseline: float


def _panel(title: str, top: float, slot: float, bars: list[tuple[DayBar, list[tuple[int, str, str]]]],
           ) -> Panel:
    """One panel: for each day, stacked segments (value, css class, tooltip) from the bottom."""
    peak = max((sum(v for v, _, _ in parts) for _, parts in bars), default=0) or 1
    area = PANEL_HEIGHT - TOP - BOTTOM
    baseline = top + PANEL_HEIGHT - BOTTOM
    rects, values = [], []
    for index, (bar, parts) in enumerate(bars):
        x = LEFT + index * slot + slot * GAP / 2
        width = slot * (1 - GAP)
        y = baseline
        for value, css, tip in parts:
            if not value:
                continue
            height = max(1.5, area * value / peak)
            y -= height
            rects.append(Rect(round(x, 1), round(y, 1), round(width, 1), round(height, 1), css,
                              f"{bar.day:%a %d %b}: {tip}"))
        total = sum(v for v, _, _ in parts)
        if total:
            values.append(Label(round(x + width / 2, 1), round(y - 4, 1), _short(total)))
    return Panel(title, top, rects, values, baseline)


def _short(number: int) -> str:
    if number >= 1_000_000:
        return f"{number / 1_000_000:.1f}M"
    if number >= 10_000:
        return f"{number // 1000}k"
    return str(number)


def bar_chart(bars: list[DayBar]) -> dict:
    """The shapes of both panels and the day labels, in a WIDTH-wide view box."""
    slot = (WIDTH - 2 * LEFT) / max(1, len(bars))
    runs = _panel("Runs per day", 0, slot, [
        (bar, [(bar.runs - bar.failed_runs, "fb-bar-ok", f"{bar.runs - bar.failed_runs} ok"),
               (bar.failed_runs, "fb-bar-failed", f"{bar.failed_runs} failed or deferred")])
        for bar in bars])
    moved = _panel("Records moved per day", PANEL_HEIGHT, slot, [
        (bar, [(bar.moved, "fb-bar-records", f"{bar.moved} records created, updated or deleted")])
        for bar in bars])
    days = [Label(round(LEFT + (i + 0.5) * slot, 1), 0, f"{bar.day:%d %b}")
            for i, bar in enumerate(bars)]
    return {"width": WIDTH, "height": 2 * PANEL_HEIGHT, "panels": [runs, moved], "days": days,
            "day_offsets": [runs.baseline + 15, moved.baseline + 15]}
