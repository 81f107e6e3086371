"""The tenant admin pages of data subject requests: access by role, the ZIP download, and erasure
only after the confirmation box."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import select

from bolletta.platform.db.models.tenant import AuditEntry, Bill, Contact
from bolletta.platform.stack import EmbeddedStack
from tests.integration.privacy.people import add_customer
from tests.integration.stack_support import StaffLogin, create_staff, csrf_token, signed_in_client


def _customer_actions(stack: EmbeddedStack, tenant: str) -> list[str]:
    with stack.rt.db.tenant_session(tenant) as session:
        query = select(AuditEntry.action).where(AuditEntry.action.like("customer.%")).order_by(AuditEntry.id)
        return list(session.scalars(query))


def _contacts(stack: EmbeddedStack, tenant: str, code: str) -> int:
    with stack.rt.db.tenant_session(tenant) as session:
        return len(session.scalars(select(Contact).where(Contact.customer_code == code)).all())


def test_pages_only_for_admins(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    operator = create_staff(stack, f"{tenant}.operatore", "tenant_operator", tenant)
    with signed_in_client(stack, operator) as client:
        page = client.get("/office/customer-data")
        token = csrf_token(client.get("/office/bills").text)
        posted = client.post("/office/customer-data/export", data={"customer_code": "X", "_csrf_token": token})
    with signed_in_client(stack, admin) as client:
        allowed = client.get("/office/customer-data")

    assert page.status_code == 403
    assert posted.status_code == 403
    assert allowed.status_code == 200
    assert "Dati del cliente" in allowed.text


def test_export_download(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    customer = add_customer(stack.rt, tenant, "WEB001", "RSSMRA80A01H501U")
    with signed_in_client(stack, admin) as client:
        token = csrf_token(client.get("/office/customer-data").text)
        response = client.post("/office/customer-data/export", data={"customer_code": "WEB001", "_csrf_token": token})
        missing = client.post("/office/customer-data/export", data={"customer_code": "NOPE", "_csrf_token": token})
        both = client.post("/office/customer-data/export",
                           data={"customer_code": "WEB001", "fiscal_code": "X", "_csrf_token": token})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "WEB001" not in response.headers["content-disposition"]
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "bills.jsonl" in names
    assert f"documents/{customer.public_ids[0]}.pdf" in names
    assert missing.status_code == 404
    assert "Nessuna bolletta o contatto" in missing.text
    assert both.status_code == 400
    assert _customer_actions(stack, tenant) == ["customer.export"]


def test_erase_needs_confirmation(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    customer = add_customer(stack.rt, tenant, "WEB002", "RSSMRA80A01H501U")
    add_customer(stack.rt, tenant, "WEB003", "VRDLGU75B02F205X")
    with signed_in_client(stack, admin) as client:
        token = csrf_token(client.get("/office/customer-data").text)
        form = {"customer_code": "WEB002", "_csrf_token": token}
        confirm_page = client.post("/office/customer-data/erase", data=form)
        unticked = client.post("/office/customer-data/erase", data={**form, "confirm_step": "1"})
        contacts_before = _contacts(stack, tenant, "WEB002")
        done = client.post("/office/customer-data/erase", data={**form, "confirm_step": "1", "confirm": "erase"})

    assert confirm_page.status_code == 200
    assert "Conferma la cancellazione" in confirm_page.text
    assert unticked.status_code == 200
    assert "Spunta la casella di conferma" in unticked.text
    assert contacts_before == 1
    assert done.status_code == 200
    assert "Dati cancellati" in done.text
    assert "Contatti eliminati" in done.text
    assert "stored_messages" not in done.text, "the result shows the internal count names"
    assert _contacts(stack, tenant, "WEB002") == 0
    assert _contacts(stack, tenant, "WEB003") == 1
    with stack.rt.db.tenant_session(tenant) as session:
        assert session.get_one(Bill, customer.bill_ids[0]).customer_name == ""
    assert _customer_actions(stack, tenant) == ["customer.erase"]
