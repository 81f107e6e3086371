"""The section pages through the app: tabs, events, language switching and the calendar file."""

from __future__ import annotations

import re

from icalendar import Calendar

from bolletta.platform.demo.tenant import DEMO_SLUG
from tests.integration.portal.helpers import Portal, is_payable


def tab_links(html: str) -> list[str]:
    return re.findall(r'class="tab[^"]*"[^>]*href="[^"]*/([a-z]+)"', html)


def test_every_tab_opens_its_section_and_is_recorded(portal: Portal) -> None:
    token, bill = portal.claim_token()
    ticket = portal.ticket(token)

    with portal.client() as client:
        summary = portal.open_bill(client, token)
        tabs = tab_links(summary.text)
        pages = {slug: client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/{slug}") for slug in tabs}

    assert tabs[0] == "sommario" and "importi" in tabs and "dati" in tabs
    assert all(page.status_code == 200 for page in pages.values())
    assert summary.headers["content-type"] == "text/html; charset=utf-8"
    assert {page.headers["content-type"] for page in pages.values()} == {"text/html; charset=utf-8"}
    assert all("/pdf" in page.text for page in pages.values())
    kinds = portal.recorded_views(ticket.id, len(tabs) + 1)
    assert kinds.count("viewed") == 1
    assert kinds.count("section_viewed") == len(tabs) + 1


def test_language_switch_is_remembered_and_recorded(portal: Portal) -> None:
    token, bill = portal.reuse_token(lambda bill: True)
    ticket = portal.ticket(token)
    kinds_before = portal.event_kinds(ticket.id)
    before = kinds_before.count("language_changed")

    with portal.client() as client:
        portal.open_bill(client, token)
        english = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario?lang=en")
        later = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/importi")

    assert '<html lang="en"' in english.text and "Amount due" in english.text
    assert '<html lang="en"' in later.text
    kinds = portal.recorded_views(ticket.id, kinds_before.count("section_viewed") + 3)
    assert kinds.count("language_changed") == before + 1


def test_contact_language_comes_before_the_browser_language(portal: Portal) -> None:
    token, bill = portal.reuse_token(lambda bill: True)

    with portal.client() as client:
        client.headers["Accept-Language"] = "en-GB,en;q=0.9"
        client.get(f"/c/{DEMO_SLUG}/t/{token}")
        page = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario")

    # The demo's contacts CSV says "it" for every customer, and the tenant uses it.
    assert '<html lang="it"' in page.text


def test_calendar_file_has_the_due_date_and_no_link(portal: Portal) -> None:
    token, bill = portal.reuse_token(is_payable)
    ticket = portal.ticket(token)

    with portal.client() as client:
        portal.open_bill(client, token)
        response = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/scadenza.ics")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    start = event.decoded("dtstart")
    assert (start.hour, start.minute, str(start.tzinfo)) == (9, 0, "Europe/Rome")
    assert bill.document_number in str(event["summary"])
    assert len(event.walk("VALARM")) == 2
    assert "http" not in response.text
    assert token not in response.text
    assert bill.public_id not in str(event["description"])
    assert "calendar_added" in portal.event_kinds(ticket.id)


def test_google_calendar_link_is_recorded(portal: Portal) -> None:
    token, bill = portal.reuse_token(is_payable)
    ticket = portal.ticket(token)
    before = portal.event_kinds(ticket.id).count("calendar_added")

    with portal.client() as client:
        portal.open_bill(client, token)
        response = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/scadenza/google")

    location = response.headers["location"]
    assert response.status_code == 303
    assert location.startswith("https://calendar.google.com/calendar/render?action=TEMPLATE")
    assert token not in location and bill.public_id not in location and "acme" not in location.split("?")[0]
    assert portal.event_kinds(ticket.id).count("calendar_added") == before + 1


def test_pagopa_bill_shows_the_notice(portal: Portal) -> None:
    token, bill = portal.reuse_token(
        lambda bill: bill.paid_at is None and any(item.notice_code for item in bill.instalments))
    code = next(item.notice_code for item in bill.instalments if item.notice_code)

    with portal.client() as client:
        html = portal.open_bill(client, token).text

    grouped = " ".join(code[index:index + 4] for index in range(0, len(code), 4))
    assert grouped in html
    assert 'class="segno"' in html


def test_arabic_page_is_right_to_left(portal: Portal) -> None:
    token, bill = portal.reuse_token(lambda bill: True)

    with portal.client() as client:
        portal.open_bill(client, token)
        page = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario?lang=ar")
        german = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario?lang=de")

    assert '<html lang="ar" dir="rtl">' in page.text
    assert "المبلغ المستحق" in page.text
    assert '<html lang="de" dir="ltr">' in german.text and "Zu zahlen" in german.text


def test_tenant_font_block_and_order(portal: Portal) -> None:
    from bolletta.tenants.registry import get_tenant, save_config, tenant_config

    original = tenant_config(get_tenant(portal.rt.db, DEMO_SLUG))
    changed = tenant_config(get_tenant(portal.rt.db, DEMO_SLUG))
    changed.portal.font = "source-sans"
    changed.portal.blocks = {"sommario": "<p><strong>{{ utility }}</strong>: {{ amount_due }}</p>"}
    changed.portal.hidden_sections = ["dati"]
    save_config(portal.rt.db, DEMO_SLUG, changed)
    token, bill = portal.reuse_token(lambda bill: True)
    try:
        with portal.client() as client:
            html = portal.open_bill(client, token).text
            css = client.get(f"/c/{DEMO_SLUG}/theme.css").text
            font = client.get(f"/c/{DEMO_SLUG}/font.woff2")
            hidden = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/dati")
    finally:
        save_config(portal.rt.db, DEMO_SLUG, original)

    assert "<p><strong>ACME Energia</strong>: " in html
    assert "dati" not in tab_links(html)
    assert hidden.status_code == 303
    assert f'url("/c/{DEMO_SLUG}/font.woff2")' in css and "Source Sans Pro" in css
    assert font.status_code == 200 and font.content[:4] == b"wOF2"


def test_low_contrast_theme_cannot_be_saved(portal: Portal) -> None:
    import pytest

    from bolletta.platform.errors import ConfigurationError
    from bolletta.tenants.registry import get_tenant, save_config, tenant_config

    changed = tenant_config(get_tenant(portal.rt.db, DEMO_SLUG))
    changed.branding.primary_color = "#f0f0f0"

    with pytest.raises(ConfigurationError, match="contrast"):
        save_config(portal.rt.db, DEMO_SLUG, changed)


def test_staff_preview_records_nothing(portal: Portal) -> None:
    import anyio

    from bolletta.platform.portal.routes import preview_section
    from bolletta.tenants.registry import get_tenant

    _token, bill = portal.reuse_token(lambda bill: True)
    before = portal.bill_event_kinds(bill.id)

    html = anyio.run(preview_section, get_tenant(portal.rt.db, DEMO_SLUG), bill.id, "importi", "en")

    assert html is not None and bill.document_number in html and "Cost breakdown" in html
    assert portal.bill_event_kinds(bill.id) == before
