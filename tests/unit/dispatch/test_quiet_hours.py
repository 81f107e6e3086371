"""Quiet hours read in the tenant's time zone, over midnight and across daylight saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bolletta.platform.dispatch.rules import quiet_until
from bolletta.tenants.config import QuietHours

DEFAULT = QuietHours()


@pytest.mark.parametrize(
    ("at", "until"),
    [
        (datetime(2026, 12, 4, 20, 30, tzinfo=UTC), datetime(2026, 12, 5, 7, 0, tzinfo=UTC)),  # 21:30 in Rome
        (datetime(2026, 12, 5, 5, 0, tzinfo=UTC), datetime(2026, 12, 5, 7, 0, tzinfo=UTC)),  # 06:00 in Rome
        (datetime(2026, 7, 1, 19, 30, tzinfo=UTC), datetime(2026, 7, 2, 6, 0, tzinfo=UTC)),  # 21:30 CEST
        (datetime(2026, 12, 4, 7, 0, tzinfo=UTC), None),  # 08:00 in Rome: the period is over
        (datetime(2026, 12, 4, 19, 59, tzinfo=UTC), None),  # 20:59 in Rome
    ],
)
def test_sms_waits_until_the_end_of_quiet_hours(at: datetime, until: datetime | None) -> None:
    assert quiet_until(DEFAULT, "sms", at) == until


def test_email_goes_any_time_by_default() -> None:
    assert quiet_until(DEFAULT, "email", datetime(2026, 12, 4, 23, 0, tzinfo=UTC)) is None


def test_period_within_one_day() -> None:
    lunch = QuietHours(start="13:00", end="14:30", kinds=["whatsapp"])
    assert quiet_until(lunch, "whatsapp", datetime(2026, 12, 4, 12, 15, tzinfo=UTC)) == datetime(
        2026, 12, 4, 13, 30, tzinfo=UTC)
    assert quiet_until(lunch, "sms", datetime(2026, 12, 4, 12, 15, tzinfo=UTC)) is None
