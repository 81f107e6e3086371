"""Time and channel rules of a dispatch: quiet hours and the per-customer channel choice.

Every time rule reads :func:`bolletta.platform.clock.now`, so tests move time with the injectable
clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bolletta.platform import clock
from bolletta.tenants.config import QuietHours, TenantConfig


class ContactLike(Protocol):
    channel: str
    address: str


def _hhmm(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


def quiet_until(quiet: QuietHours, kind: str, at: datetime | None = None) -> datetime | None:
    """Return when the quiet period around ``at`` ends (aware UTC) if a ``kind`` message must wait.

    ``None`` means the message may go now. A period whose end is before its start runs over
    midnight (the default 21:00 to 08:00).
    """
    if kind not in quiet.kinds or quiet.start == quiet.end:
        return None
    at = clock.as_utc(at or clock.now())
    zone = ZoneInfo(quiet.timezone)
    local = at.astimezone(zone)
    start, end = _hhmm(quiet.start), _hhmm(quiet.end)
    now_time = local.time()
    if start < end:
        inside = start <= now_time < end
        end_day = local.date()
    else:
        inside = now_time >= start or now_time < end
        end_day = local.date() + timedelta(days=1) if now_time >= start else local.date()
    if not inside:
        return None
    return clock.as_utc(datetime.combine(end_day, end, tzinfo=zone))


def ordered_contacts(config: TenantConfig, contacts: Sequence[ContactLike]) -> list[ContactLike]:
    """Return the contacts with a configured channel, in the tenant's priority order."""
    rank = {kind: index for index, kind in enumerate(config.channel_priority)}
    usable = [contact for contact in contacts if config.channel_plugins.get(contact.channel)]
    return sorted(usable, key=lambda contact: rank.get(contact.channel, len(rank)))


def first_choices(
    config: TenantConfig, contacts: Sequence[ContactLike], suppressed: Iterable[tuple[str, str]] = ()
) -> tuple[list[ContactLike], list[ContactLike]]:
    """Return the contacts to message now and those skipped because they are suppressed.

    In ``all`` mode every usable contact not suppressed; in ``priority`` mode the first one in
    priority order that is not suppressed.
    """
    blocked = set(suppressed)
    chosen: list[ContactLike] = []
    skipped: list[ContactLike] = []
    for contact in ordered_contacts(config, contacts):
        if (contact.channel, contact.address) in blocked:
            skipped.append(contact)
            continue
        if config.channel_mode == "priority" and chosen:
            continue
        chosen.append(contact)
    return chosen, skipped
