"""The due date as a calendar event: an ``.ics`` file and Google Calendar and Outlook links.

The event is at 09:00 Europe/Rome on the due date, titled with the service and the bill number,
with reminders the day before and 10 minutes before. Its text names the utility, the bill
number, the due date and the amount, and never the ticket link or any bill address: a calendar is
often shared or synchronised to places the bill should not reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from icalendar import Alarm, Calendar, Event

from bolletta.platform import clock
from bolletta.platform.i18n import formatting
from bolletta.platform.i18n.catalog import translations

EVENT_HOUR = time(9, 0)
EVENT_LENGTH = timedelta(minutes=30)
REMINDERS = (timedelta(days=1), timedelta(minutes=10))
GOOGLE_URL = "https://calendar.google.com/calendar/render"
OUTLOOK_URL = "https://outlook.live.com/calendar/0/deeplink/compose"
SERVICE_NAMES = {"electricity": "Electricity", "gas": "Gas", "water": "Water"}


@dataclass(frozen=True)
class DueDateEvent:
    """The facts of the reminder, already in the page language."""

    uid: str
    title: str
    description: str
    start: datetime
    """Aware, in Europe/Rome."""

    @property
    def end(self) -> datetime:
        return self.start + EVENT_LENGTH


def due_date_event(*, public_id: str, utility: str, service: str, number: str, due: date, amount: Decimal,
                   currency: str, language: str) -> DueDateEvent:
    """Build the event of a bill's due date in ``language``."""
    gettext = translations(language).gettext
    title = gettext("{service} bill no. {number}").format(
        service=gettext(SERVICE_NAMES.get(service, "Electricity")), number=number)
    description = gettext("{utility}: bill no. {number} is due on {due}, amount {amount}.").format(
        utility=utility, number=number, due=formatting.day(due, language),
        amount=formatting.money(amount, currency, language))
    start = datetime.combine(due, EVENT_HOUR, tzinfo=clock.ROME)
    return DueDateEvent(uid=f"{public_id}-{due.isoformat()}@bolletta", title=title, description=description,
                        start=start)


def ics(event: DueDateEvent) -> bytes:
    """The event as an iCalendar file with its two reminders."""
    calendar = Calendar()
    calendar.add("prodid", "-//Bolletta Smart//bolletta//IT")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    entry = Event()
    entry.add("uid", event.uid)
    entry.add("dtstamp", clock.now())
    entry.add("dtstart", event.start)
    entry.add("dtend", event.end)
    entry.add("summary", event.title)
    entry.add("description", event.description)
    for before in REMINDERS:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", event.description)
        alarm.add("trigger", -before)
        entry.add_component(alarm)
    calendar.add_component(entry)
    return calendar.to_ical()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def google_link(event: DueDateEvent) -> str:
    """A Google Calendar link that opens the event ready to save."""
    return GOOGLE_URL + "?" + urlencode({
        "action": "TEMPLATE", "text": event.title, "details": event.description,
        "dates": f"{_utc(event.start)}/{_utc(event.end)}", "ctz": "Europe/Rome",
    })


def outlook_link(event: DueDateEvent) -> str:
    """An Outlook on the web link that opens the event ready to save."""
    return OUTLOOK_URL + "?" + urlencode({
        "path": "/calendar/action/compose", "rru": "addevent", "subject": event.title,
        "body": event.description, "startdt": event.start.isoformat(), "enddt": event.end.isoformat(),
    })
