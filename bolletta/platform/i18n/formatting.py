"""Amounts, dates and numbers in the page's language, through Babel.

Dates and times go through :func:`date_locale`, because the customers and the staff live in Italy:
English pages write ``01/09/2031 21:36`` as British English does, not ``9/1/2031 9:36 PM`` as
American English does. Amounts and other numbers keep the page language's own locale.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date, format_skeleton, format_time
from babel.numbers import format_currency, format_decimal, format_percent

from bolletta.platform.clock import ROME

DEFAULT_LOCALE = "it"

DATE_LOCALES = {"en": "en_GB"}
"""Locale of the dates and times of a page language, where it differs from the language itself.

Babel's ``en`` (2.19) is American English: month first and a 12-hour clock. ``en_GB`` writes the day first
with two digits (``01/09/2031``) and uses a 24-hour clock, as Italian does, with English month names.
"""


def money(amount: Decimal | None, currency: str = "EUR", locale: str = DEFAULT_LOCALE) -> str:
    """``4.082,00 €`` (no-break space before the sign in Italian); empty for ``None``."""
    if amount is None:
        return ""
    return format_currency(amount, currency, locale=locale)


def date_locale(locale: str) -> str:
    """Return the locale that formats dates and times for the page language ``locale``."""
    return DATE_LOCALES.get(locale, locale)


def day(value: date | None, locale: str = DEFAULT_LOCALE) -> str:
    """Format a date with the ``yMMdd`` skeleton (``19/09/2023`` in Italian and English); empty for ``None``."""
    if value is None:
        return ""
    return format_skeleton("yMMdd", value, locale=date_locale(locale))


def long_day(value: date, locale: str = DEFAULT_LOCALE) -> str:
    """Format a date with the month's name (``19 settembre 2031``, ``19 September 2031``)."""
    return format_date(value, format="long", locale=date_locale(locale))


def moment(value: datetime | None, locale: str = DEFAULT_LOCALE) -> str:
    """Format a date and time in Europe/Rome with a four-digit year (``04/12/2026 21:36``); empty for ``None``."""
    if value is None:
        return ""
    time = format_time(value, "short", tzinfo=ROME, locale=date_locale(locale))
    return f"{day(value.astimezone(ROME).date(), locale)} {time}"


def quantity(value: Decimal | None, locale: str = DEFAULT_LOCALE) -> str:
    """Format a quantity with the decimals the flow sent, in the locale's digits; empty for ``None``."""
    if value is None:
        return ""
    return format_decimal(value.normalize(), locale=locale, decimal_quantization=False)


def unit_price(amount: Decimal | None, currency: str = "EUR", locale: str = DEFAULT_LOCALE) -> str:
    """A unit price with every decimal the flow sent (``0,118720 €`` stays six decimals); empty for ``None``."""
    if amount is None:
        return ""
    return format_currency(amount, currency, locale=locale, decimal_quantization=False)


def percent(value: Decimal | None, locale: str = DEFAULT_LOCALE) -> str:
    """A percentage given in hundredths (``12.3`` is ``12,3%`` in Italian); empty for ``None``."""
    if value is None:
        return ""
    return format_percent(value / 100, locale=locale, decimal_quantization=False)


def kilobytes(size: int, locale: str = DEFAULT_LOCALE) -> str:
    """Format a size in bytes as kilobytes (1024 bytes) with one decimal: ``189,9 KB`` in Italian."""
    return f"{format_decimal(size / 1024, format='#,##0.0', locale=locale)} KB"
