"""The two charts of "Stat. ticket" as inline SVG, drawn on the server (no script on staff pages).

Bars: SMS, e-mail and errors per period, with a line for viewed tickets. Lines: % viewed, % viewed
of SMS, % viewed of e-mail and % payments per period. Every value is a number we computed and every
label is ours, escaped anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

from bolletta.platform.stats.figures import PeriodRow, paid_rate, viewed_rate

WIDTH = 720
HEIGHT = 240
LEFT = 48
BOTTOM = 28
TOP = 12
COLOURS = {"sms": "#0b4f8a", "email": "#2f9e6b", "errors": "#c0392b", "viewed": "#f2a900", "paid": "#6c3fb5"}


def _x(index: int, count: int) -> float:
    return LEFT + (WIDTH - LEFT - 8) * (index + 0.5) / max(count, 1)


def _y(value: float, top: float) -> float:
    return HEIGHT - BOTTOM - (HEIGHT - BOTTOM - TOP) * (value / top if top else 0)


def _frame(labels: Sequence[str], top: float, unit: str) -> list[str]:
    parts = [f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}" stroke="#999"/>',
             f'<text x="4" y="{TOP + 8}" font-size="11">{escape(f"{top:g}{unit}")}</text>']
    for index, label in enumerate(labels):
        parts.append(f'<text x="{_x(index, len(labels)):.1f}" y="{HEIGHT - 8}" font-size="11" '
                     f'text-anchor="middle">{escape(label)}</text>')
    return parts


def _line(values: Sequence[float | None], top: float, colour: str) -> str:
    points = [f"{_x(i, len(values)):.1f},{_y(v, top):.1f}" for i, v in enumerate(values) if v is not None]
    if not points:
        return ""
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(points)}"/>'


def _legend(items: Sequence[tuple[str, str]]) -> str:
    parts = []
    for index, (label, colour) in enumerate(items):
        x = LEFT + index * 150
        parts.append(f'<rect x="{x}" y="0" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="10" font-size="11">{escape(label)}</text>')
    return "".join(parts)


def _svg(title: str, body: list[str]) -> Markup:
    # Safe: the parts hold only numbers we computed, fixed colours and labels passed through escape().
    return Markup(  # noqa: S704
        f'<svg viewBox="0 -16 {WIDTH} {HEIGHT + 16}" role="img" aria-label="{escape(title)}">'
                  f'<title>{escape(title)}</title>{"".join(body)}</svg>')


def volume_chart(rows: Sequence[PeriodRow], labels: Sequence[str], names: dict[str, str], title: str) -> Markup:
    """Grouped bars of SMS, e-mail and errors per period, and a line of viewed tickets."""
    series = [("sms", [row.figures.channel("sms").tickets for row in rows]),
              ("email", [row.figures.channel("email").tickets for row in rows]),
              ("errors", [row.figures.total.errors for row in rows])]
    viewed = [float(row.figures.total.viewed) for row in rows]
    top = float(max([1, *viewed, *(value for _, values in series for value in values)]))
    body = _frame(labels, top, "")
    slot = (WIDTH - LEFT - 8) / max(len(rows), 1)
    bar = slot / 4
    for offset, (name, values) in enumerate(series):
        for index, value in enumerate(values):
            x = LEFT + slot * index + bar * (offset + 0.5)
            y = _y(value, top)
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{HEIGHT - BOTTOM - y:.1f}" '
                        f'fill="{COLOURS[name]}"><title>{escape(names[name])}: {value}</title></rect>')
    body.append(_line(viewed, top, COLOURS["viewed"]))
    body.append(_legend([(names[key], COLOURS[key]) for key in ("sms", "email", "errors", "viewed")]))
    return _svg(title, body)


def rate_chart(rows: Sequence[PeriodRow], labels: Sequence[str], names: dict[str, str], title: str) -> Markup:
    """Lines of % viewed (all, SMS, e-mail) and % payments per period; periods without a value are skipped."""

    def as_float(value: Decimal | None) -> float | None:
        return None if value is None else float(value)

    series = {
        "viewed": [as_float(viewed_rate(row.figures.total)) for row in rows],
        "sms": [as_float(viewed_rate(row.figures.channel("sms"))) for row in rows],
        "email": [as_float(viewed_rate(row.figures.channel("email"))) for row in rows],
        "paid": [as_float(paid_rate(row.figures.total)) for row in rows],
    }
    body = _frame(labels, 100.0, "%")
    body += [_line(values, 100.0, COLOURS[key]) for key, values in series.items()]
    body.append(_legend([(names[f"rate_{key}"], COLOURS[key]) for key in series]))
    return _svg(title, body)
