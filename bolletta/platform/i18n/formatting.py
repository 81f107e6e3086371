"""Amounts, dates and numbers in the page's language, through Babel."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_skeleton, format_time
from babel.numbers import format_currency, format_decimal, format_percent

from bolletta.platform.clock import ROME

DEFAULT_LOCALE = "it"


def money(amount: Decimal | None, currency: str = "EUR", locale: str = DEFAULT_LOCALE) -> str:
    """``4.082,00 €`` (no-break space before the sign in Italian); empty for ``None``."""
    if amount is None:
        return ""
    return format_currency(amount, currency, locale=locale)


def day(value: date | None, locale: str = DEFAULT_LOCALE) -> str:
    """Format a date with the ``yMMdd`` skeleton (``19/09/2023`` in Italian); empty for ``None``."""
    if value is None:
        return ""
    return format_skeleton("yMMdd", value, locale=locale)


def moment(value: datetime | None, locale: str = DEFAULT_LOCALE) -> str:
    """Format a date and time in Europe/Rome with a four-digit year (``04/12/2026 21:36``); empty for ``None``."""
    if value is None:
        return ""
    return f"{day(value.astimezone(ROME).date(), locale)} {format_time(value, 'short', tzinfo=ROME, locale=locale)}"


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
