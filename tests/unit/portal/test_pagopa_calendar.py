"""The pagoPA notice's QR payload and grouping, and the due-date event in any language."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from icalendar import Calendar

from bolletta.platform.portal.calendar import due_date_event, google_link, ics, outlook_link
from bolletta.platform.portal.pagopa import PagoPANotice, notice_for
from tests.unit.portal.bills import bill_from, parsed_jsonl, rich_record


def test_notice_payload_and_groups() -> None:
    notice = PagoPANotice(notice_code="301000000000012345", creditor_fiscal_code="07182930151",
                          amount=Decimal("4082.00"))

    assert notice.payload == "PAGOPA|002|301000000000012345|07182930151|408200"
    assert notice.grouped_code == "3010 0000 0000 0123 45"
    assert notice.qr_svg("QR").startswith('<svg role="img" ')


def test_notice_needs_a_valid_code() -> None:
    record = rich_record()
    record["document"]["pagopa"] = {"notice_code": "301000000000012345"}
    bill = bill_from(parsed_jsonl(record))

    assert notice_for(bill, None, "IT07182930151") is not None
    assert notice_for(bill, None, "not-a-vat") is None
    bill.details = {}
    for item in bill.instalments:
        item.notice_code = None
    assert notice_for(bill, None, "07182930151") is None


def event(language: str = "it"):
    return due_date_event(public_id="PUB", utility="ACME Energia", service="gas", number="2025/G/1",
                          due=date(2031, 9, 19), amount=Decimal("12.50"), currency="EUR", language=language)


def test_event_text_in_italian_and_english() -> None:
    assert event("it").title == "Bolletta Gas n. 2025/G/1"
    assert event("it").description == "ACME Energia: la bolletta n. 2025/G/1 scade il 19/09/2031, importo 12,50\xa0€."
    assert event("en").description == "ACME Energia: bill no. 2025/G/1 is due on 19/09/2031, amount €12.50."


def test_english_ics_description_is_day_first() -> None:
    entry = Calendar.from_ical(ics(event("en"))).walk("VEVENT")[0]

    assert str(entry["description"]) == "ACME Energia: bill no. 2025/G/1 is due on 19/09/2031, amount €12.50."


def test_ics_has_two_reminders_at_nine_rome_time() -> None:
    parsed = Calendar.from_ical(ics(event()))
    entry = parsed.walk("VEVENT")[0]

    assert entry.decoded("dtstart").isoformat() == "2031-09-19T09:00:00+02:00"
    assert sorted(str(alarm.decoded("trigger")) for alarm in entry.walk("VALARM")) == ["-1 day, 0:00:00",
                                                                                      "-1 day, 23:50:00"]
    assert "url" not in entry


def test_links_carry_the_event() -> None:
    google = parse_qs(urlsplit(google_link(event())).query)
    outlook = parse_qs(urlsplit(outlook_link(event())).query)

    assert google["dates"] == ["20310919T070000Z/20310919T073000Z"]
    assert outlook["startdt"] == ["2031-09-19T09:00:00+02:00"]
    assert google["text"] == outlook["subject"] == ["Bolletta Gas n. 2025/G/1"]
