"""Chart geometry for the bill pages, drawn as inline SVG by ``portal/_charts.html``.

No charting library runs in the browser: the server computes each bar's box here, the template
lays out the SVG, and every chart sits beside a table or list that states the same values in text.
Only positive values are drawn (a bonus or a refund has no bar); the text keeps them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

CHART_WIDTH = 320
"""Width of the SVG ``viewBox``; the image scales to the card's width."""
ROW_HEIGHT = 40
"""Height of one horizontal bar's row: its label line, then the bar."""
BAR_THICKNESS = 14
COLUMN_AREA_HEIGHT = 140
"""Height of the columns' drawing area, above the period labels."""
LABEL_SPACE = 36
"""Room left of or under the bars for the value and period labels."""


@dataclass(frozen=True)
class Bar:
    """One bar: its label and value, and its box in SVG user units."""

    label: str
    value: Decimal
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    """Bars of one chart and the size of its ``viewBox``."""

    kind: str
    """``rows`` (horizontal bars, labels above) or ``columns`` (vertical bars, labels below)."""
    width: int
    height: int
    bars: tuple[Bar, ...]

    @property
    def empty(self) -> bool:
        return not self.bars


def _positive(items: Sequence[tuple[str, Decimal]]) -> list[tuple[str, Decimal]]:
    return [(label, value) for label, value in items if value > 0]


def rows(items: Sequence[tuple[str, Decimal]], width: int = CHART_WIDTH) -> Chart:
    """Horizontal bars scaled to the largest value, one row per item, label above its bar."""
    drawn = _positive(items)
    top = max((value for _label, value in drawn), default=Decimal(0))
    usable = width - 4 * LABEL_SPACE // 2
    bars = tuple(
        Bar(label=label, value=value, x=0, y=index * ROW_HEIGHT + ROW_HEIGHT - BAR_THICKNESS - 4,
            width=round(float(value / top) * usable, 1), height=BAR_THICKNESS)
        for index, (label, value) in enumerate(drawn)
    )
    return Chart(kind="rows", width=width, height=max(len(bars) * ROW_HEIGHT, 1), bars=bars)


def columns(items: Sequence[tuple[str, Decimal]], width: int = CHART_WIDTH) -> Chart:
    """Vertical bars in item order (oldest period first), scaled to the largest value."""
    drawn = _positive(items)
    top = max((value for _label, value in drawn), default=Decimal(0))
    slot = width / max(len(drawn), 1)
    thickness = min(slot * 0.7, 48)
    bars = tuple(
        Bar(label=label, value=value, x=round(index * slot + (slot - thickness) / 2, 1),
            y=round(COLUMN_AREA_HEIGHT - float(value / top) * (COLUMN_AREA_HEIGHT - 16), 1),
            width=round(thickness, 1), height=round(float(value / top) * (COLUMN_AREA_HEIGHT - 16), 1))
        for index, (label, value) in enumerate(drawn)
    )
    return Chart(kind="columns", width=width, height=COLUMN_AREA_HEIGHT + LABEL_SPACE, bars=bars)
