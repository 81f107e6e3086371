from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from bolletta.platform.i18n.formatting import day, moment, money, quantity


def test_money_italian_with_no_break_space() -> None:
    assert money(Decimal("4082")) == "4.082,00\u00a0€"
    assert money(Decimal("0.5")) == "0,50\u00a0€"


def test_day_uses_four_digit_year() -> None:
    assert day(date(2023, 9, 19)) == "19/09/2023"


def test_moment_in_rome_time_with_full_year() -> None:
    assert moment(datetime(2026, 12, 4, 20, 36, tzinfo=UTC)) == "04/12/2026 21:36"
    assert moment(datetime(2026, 7, 1, 10, 0, tzinfo=UTC)) == "01/07/2026 12:00"


def test_quantity_keeps_sent_decimals() -> None:
    assert quantity(Decimal("905.000")) == "905"
    assert quantity(Decimal("1234.5670")) == "1.234,567"
    assert quantity(None) == ""
