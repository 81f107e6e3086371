from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from bolletta.platform.i18n.formatting import day, long_day, moment, money, percent, quantity


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


def test_english_day_is_day_first() -> None:
    assert day(date(2026, 12, 25), "en") == "25/12/2026"
    assert day(date(2031, 9, 1), "en") == "01/09/2031"


def test_english_moment_is_day_first_24_hour() -> None:
    assert moment(datetime(2026, 12, 4, 20, 36, tzinfo=UTC), "en") == "04/12/2026 21:36"


def test_english_long_day_puts_day_first() -> None:
    assert long_day(date(2031, 9, 19), "en") == "19 September 2031"
    assert long_day(date(2031, 9, 19)) == "19 settembre 2031"


def test_english_numbers_stay_english() -> None:
    assert money(Decimal("4082"), locale="en") == "€4,082.00"
    assert quantity(Decimal("1234.5670"), "en") == "1,234.567"
    assert percent(Decimal("12.3"), "en") == "12.3%"


def test_other_languages_keep_own_dates() -> None:
    assert day(date(2026, 12, 25), "de") == "25.12.2026"
    assert day(date(2026, 12, 25), "fr") == "25/12/2026"
