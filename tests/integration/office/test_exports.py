"""Exports over HTTP: the filters applied, CSV and XLSX, large exports in the background, all audited."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select

from bolletta.platform.db.models.tenant import AuditEntry, Export
from bolletta.platform.office import exports
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import StaffLogin, csrf_token, signed_in_client, wait_idle
from tests.integration.stats import dataset


@pytest.fixture
def data(stack: EmbeddedStack, tenant: str) -> dataset.Dataset:
    with stack.rt.db.tenant_session(tenant) as session:
        return dataset.build(session)


def audit_of(stack: EmbeddedStack, tenant: str) -> list[AuditEntry]:
    with stack.rt.db.tenant_session(tenant) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action.like("export.%"))
                                    .order_by(AuditEntry.id)))


def test_csv_export_applies_filters(stack: EmbeddedStack, tenant: str, operator: StaffLogin,
                                    data: dataset.Dataset) -> None:
    with signed_in_client(stack, operator) as client:
        token = csrf_token(client.get("/office/tickets").text)
        response = client.post("/office/exports/tickets/csv?channel=sms&viewed=1&sort=document&dir=asc",
                               data={"_csrf_token": token})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffTicket;N. documento;")
    lines = text.strip().splitlines()
    assert len(lines) == 1 + 6
    assert [line.split(";")[1] for line in lines[1:]] == ["B1", "B15", "B17", "B3", "B4", "B6"]
    assert all(";80,00;" in line for line in lines[1:])
    assert "+393" not in text  # contacts stay masked
    [entry] = audit_of(stack, tenant)
    assert entry.action == "export.download"
    assert entry.detail["rows"] == 6
    assert entry.detail["filters"]["channel"] == "sms"


def test_xlsx_export_has_numbers(stack: EmbeddedStack, tenant: str, operator: StaffLogin,
                                 data: dataset.Dataset) -> None:
    with signed_in_client(stack, operator) as client:
        token = csrf_token(client.get("/office/tickets").text)
        response = client.post("/office/exports/tickets/xlsx?channel=whatsapp", data={"_csrf_token": token})

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3
    assert rows[0][1] == "N. documento"
    assert all(row[5] == pytest.approx(80.0) for row in rows[1:])


def test_large_export_runs_in_background(stack: EmbeddedStack, tenant: str, operator: StaffLogin,
                                         data: dataset.Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "DIRECT_LIMIT", 3)
    with signed_in_client(stack, operator) as client:
        token = csrf_token(client.get("/office/tickets").text)
        queued = client.post("/office/exports/tickets/csv", data={"_csrf_token": token})
        wait_idle(stack)
        listing = client.get("/office/exports")
        with stack.rt.db.tenant_session(tenant) as session:
            export = session.scalars(select(Export)).one()
        download = client.get(f"/office/exports/{export.id}/download")

    assert queued.status_code == 303
    assert queued.headers["location"] == f"/office/exports?queued={export.id}"
    assert export.state == "ready"
    assert export.rows == 16
    assert f'href="/office/exports/{export.id}/download"' in listing.text
    assert download.status_code == 200
    assert len(download.content.decode("utf-8").strip().splitlines()) == 17
    assert [entry.action for entry in audit_of(stack, tenant)] == ["export.request", "export.download"]


def test_viewer_cannot_export(stack: EmbeddedStack, tenant: str, viewer: StaffLogin, data: dataset.Dataset) -> None:
    with signed_in_client(stack, viewer) as client:
        token = csrf_token(client.get("/office/tickets").text)
        response = client.post("/office/exports/tickets/csv", data={"_csrf_token": token})

    assert response.status_code == 403
    assert audit_of(stack, tenant) == []


def test_unknown_export_is_not_found(stack: EmbeddedStack, operator: StaffLogin) -> None:
    with signed_in_client(stack, operator) as client:
        token = csrf_token(client.get("/office/tickets").text)
        response = client.post("/office/exports/secrets/csv", data={"_csrf_token": token})

    assert response.status_code == 404
