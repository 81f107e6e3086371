"""Who may open a bill page: only a browser whose session cookie lists a usable ticket of that bill."""

from __future__ import annotations

from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.tokens import random_base62
from tests.integration.portal.helpers import OTHER_SLUG, Portal, without_csrf


def _invalid_page(portal: Portal) -> tuple[int, str]:
    with portal.client() as client:
        response = client.get(f"/c/{DEMO_SLUG}/t/{random_base62()}")
    return response.status_code, without_csrf(response.text)


def test_bill_page_without_cookie_is_invalid(portal: Portal) -> None:
    _token, bill = portal.claim_token()
    invalid_status, invalid_body = _invalid_page(portal)

    with portal.client() as client:
        summary = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario")
        pdf = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/pdf")

    assert summary.status_code == invalid_status
    assert without_csrf(summary.text) == invalid_body
    assert bill.document_number not in summary.text
    assert bill.customer_name not in summary.text
    assert pdf.status_code == invalid_status
    assert not pdf.content.startswith(b"%PDF")
    assert "viewed" not in portal.bill_event_kinds(bill.id)


def test_cookie_opens_only_its_own_bill(portal: Portal) -> None:
    token, own_bill = portal.claim_token()
    _other_token, other_bill = portal.claim_token(lambda bill: bill.id != own_bill.id)
    invalid_status, invalid_body = _invalid_page(portal)

    with portal.client() as client:
        portal.open_bill(client, token)
        other = client.get(f"/c/{DEMO_SLUG}/b/{other_bill.public_id}/sommario")
        other_pdf = client.get(f"/c/{DEMO_SLUG}/b/{other_bill.public_id}/pdf")
        own_again = client.get(f"/c/{DEMO_SLUG}/b/{own_bill.public_id}/sommario")

    assert other.status_code == invalid_status
    assert without_csrf(other.text) == invalid_body
    assert other_bill.document_number not in other.text
    assert other_pdf.status_code == invalid_status
    assert not other_pdf.content.startswith(b"%PDF")
    assert own_again.status_code == 200
    assert own_bill.document_number in own_again.text


def test_cookie_of_acme_is_no_use_for_beta(portal: Portal) -> None:
    token, bill = portal.claim_token()

    with portal.client() as client:
        portal.open_bill(client, token)
        other_tenant = client.get(f"/c/{OTHER_SLUG}/b/{bill.public_id}/sommario")

    assert other_tenant.status_code == 404
    assert bill.document_number not in other_tenant.text
    assert bill.customer_name not in other_tenant.text


def test_two_bills_open_side_by_side(portal: Portal) -> None:
    first_token, first_bill = portal.claim_token()
    second_token, second_bill = portal.claim_token(lambda bill: bill.id != first_bill.id)

    with portal.client() as client:
        portal.open_bill(client, first_token)
        portal.open_bill(client, second_token)
        first = client.get(f"/c/{DEMO_SLUG}/b/{first_bill.public_id}/sommario")
        second = client.get(f"/c/{DEMO_SLUG}/b/{second_bill.public_id}/sommario")

    assert first.status_code == 200
    assert first_bill.document_number in first.text
    assert second.status_code == 200
    assert second_bill.document_number in second.text


def test_pdf_download_is_the_flow_pdf(portal: Portal) -> None:
    token, bill = portal.claim_token(lambda bill: bill.pdf_key is not None)
    ticket = portal.ticket(token)

    with portal.client() as client:
        portal.open_bill(client, token)
        pdf = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/pdf")

    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert pdf.content == portal.rt.storage.get(bill.pdf_key)
    assert "attachment" in pdf.headers["content-disposition"]
    assert portal.event_kinds(ticket.id).count("pdf_downloaded") == 1


def test_pdf_is_rendered_from_data_and_cached(portal: Portal) -> None:
    from bolletta.platform.portal.pdf import cache_key

    token, bill = portal.reuse_token(lambda bill: bill.pdf_key is None)
    ticket = portal.ticket(token)

    with portal.client() as client:
        portal.open_bill(client, token)
        first = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/pdf")
        second = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/pdf")

    assert first.status_code == 200
    assert first.content.startswith(b"%PDF")
    assert portal.rt.storage.exists(f"{DEMO_SLUG}/{cache_key(bill)}")
    assert second.content == first.content
    assert portal.event_kinds(ticket.id).count("pdf_downloaded") >= 2
