"""The ticket link: redirect to the bill, when a ticket counts as viewed, and links that no longer work."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bolletta.platform import clock
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.i18n import formatting
from bolletta.platform.tokens import random_base62
from tests.integration.portal.helpers import OTHER_SLUG, Portal, without_csrf

SESSION_COOKIE = "bolletta"


def test_link_redirects_to_summary(portal: Portal) -> None:
    token, bill = portal.claim_token(lambda bill: bool(bill.instalments))
    ticket = portal.ticket(token)
    assert ticket.first_viewed_at is None

    with portal.client() as client:
        opened = client.get(f"/c/{DEMO_SLUG}/t/{token}")
        assert opened.status_code == 303
        assert opened.headers["location"] == f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario"
        assert token not in opened.headers["location"]
        assert SESSION_COOKIE in opened.cookies

        summary = client.get(opened.headers["location"])

    assert summary.status_code == 200
    instalments = sorted(bill.instalments, key=lambda item: (item.due_date, item.position))
    first_due = instalments[0]
    amount_text = formatting.money(first_due.amount, bill.currency)
    assert "\xa0€" in amount_text
    assert amount_text in summary.text
    assert formatting.day(first_due.due_date) in summary.text
    assert re.search(r"\d{2}/\d{2}/\d{4}", formatting.day(first_due.due_date))
    assert bill.document_number in summary.text

    kinds = portal.recorded_views(ticket.id, 1)
    viewed = portal.ticket_by_id(ticket.id)
    assert viewed.first_viewed_at is not None
    assert kinds.count("viewed") == 1
    assert kinds.count("link_opened") == 1


def test_probes_record_only_link_opened(portal: Portal) -> None:
    token, bill = portal.claim_token()
    ticket = portal.ticket(token)
    path = f"/c/{DEMO_SLUG}/t/{token}"

    with portal.client() as scanner:
        probe = scanner.head(path)
        assert probe.status_code == 200
        assert probe.content == b""
        bare = scanner.get(path)
        assert bare.status_code == 303

    assert portal.event_kinds(ticket.id) == ["link_opened", "link_opened"]
    assert portal.ticket_by_id(ticket.id).first_viewed_at is None

    with portal.client() as customer:
        portal.open_bill(customer, token)
        portal.recorded_views(ticket.id, 1)
        first_viewed_at = portal.ticket_by_id(ticket.id).first_viewed_at
        assert first_viewed_at is not None
        again = customer.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario")
        assert again.status_code == 200

    kinds = portal.recorded_views(ticket.id, 2)
    assert kinds.count("viewed") == 1
    assert kinds.count("link_opened") == 3
    assert kinds.count("section_viewed") == 2
    assert portal.ticket_by_id(ticket.id).first_viewed_at == first_viewed_at


def test_probe_of_unknown_token_answers_like_known(portal: Portal) -> None:
    token, _bill = portal.claim_token()
    with portal.client() as client:
        known = client.head(f"/c/{DEMO_SLUG}/t/{token}")
        unknown = client.head(f"/c/{DEMO_SLUG}/t/{random_base62()}")
    assert known.status_code == unknown.status_code
    assert known.content == unknown.content == b""


def _invalid_page(portal: Portal, path: str) -> tuple[int, str]:
    with portal.client() as client:
        response = client.get(path)
    return response.status_code, without_csrf(response.text)


def test_unusable_links_get_one_page(portal: Portal) -> None:
    expired_token, expired = portal.claim_test_token()
    revoked_token, revoked = portal.claim_test_token()
    now = clock.now()
    portal.set_ticket(expired.id, expires_at=now - timedelta(seconds=1))
    portal.set_ticket(revoked.id, revoked_at=now)

    pages = {
        "unknown": _invalid_page(portal, f"/c/{DEMO_SLUG}/t/{random_base62()}"),
        "malformed": _invalid_page(portal, f"/c/{DEMO_SLUG}/t/not-a-token"),
        "short": _invalid_page(portal, f"/c/{DEMO_SLUG}/t/{random_base62(21)}"),
        "expired": _invalid_page(portal, f"/c/{DEMO_SLUG}/t/{expired_token}"),
        "revoked": _invalid_page(portal, f"/c/{DEMO_SLUG}/t/{revoked_token}"),
    }

    status, body = pages["unknown"]
    assert status == 404
    for case, (case_status, case_body) in pages.items():
        assert case_status == status, case
        assert case_body == body, case
    for ticket in (expired, revoked):
        bill = portal.bill(ticket.bill_id)
        assert bill.document_number not in body
        assert bill.customer_name not in body
        assert portal.ticket_by_id(ticket.id).first_viewed_at is None


def test_other_tenant_path_rejects_token(portal: Portal) -> None:
    token, bill = portal.claim_token()
    with portal.client() as client:
        other = client.get(f"/c/{OTHER_SLUG}/t/{token}")
        unknown = client.get(f"/c/{OTHER_SLUG}/t/{random_base62()}")

    assert other.status_code == unknown.status_code == 404
    assert without_csrf(other.text) == without_csrf(unknown.text)
    assert bill.document_number not in other.text
    assert portal.event_kinds(portal.ticket(token).id) == []


@pytest.mark.parametrize("change", ["expire", "revoke"])
def test_open_session_ends_with_ticket(portal: Portal, change: str) -> None:
    token, ticket = portal.claim_test_token()
    bill = portal.bill(ticket.bill_id)
    summary_path = f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario"

    with portal.client() as client:
        portal.open_bill(client, token)
        if change == "expire":
            portal.set_ticket(ticket.id, expires_at=clock.now() - timedelta(seconds=1))
        else:
            portal.set_ticket(ticket.id, revoked_at=clock.now())
        after = client.get(summary_path)
        pdf = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/pdf")

    with portal.client() as stranger:
        invalid = stranger.get(f"/c/{DEMO_SLUG}/t/{random_base62()}")
    assert after.status_code == invalid.status_code
    assert without_csrf(after.text) == without_csrf(invalid.text)
    assert bill.document_number not in after.text
    assert pdf.status_code == invalid.status_code
    assert pdf.headers["content-type"].startswith("text/html")


def test_revoking_one_ticket_keeps_the_other(portal: Portal) -> None:
    (older_token, older), (newer_token, newer) = portal.claim_test_token_pair()
    bill = portal.bill(older.bill_id)
    summary_path = f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario"

    with portal.client() as client:
        portal.open_bill(client, older_token)
        portal.open_bill(client, newer_token)
        portal.set_ticket(newer.id, revoked_at=clock.now())
        through_older = client.get(summary_path)
        portal.set_ticket(older.id, revoked_at=clock.now())
        through_none = client.get(summary_path)

    assert through_older.status_code == 200
    assert bill.document_number in through_older.text
    assert through_none.status_code == 404
    assert bill.document_number not in through_none.text
