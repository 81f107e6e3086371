"""Exported files show statuses and states in the staff member's language and send one charset."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from bolletta.platform.i18n.catalog import gettext, pgettext
from bolletta.platform.i18n.dynamic_ids import MESSAGE_STATUS_IDS, PAYMENT_STATUS_IDS
from bolletta.platform.i18n.job_states import JOB_STATE_LABELS
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import StaffLogin, csrf_token, signed_in_client
from tests.integration.stats import dataset


@pytest.fixture
def data(stack: EmbeddedStack, tenant: str) -> dataset.Dataset:
    with stack.rt.db.tenant_session(tenant) as session:
        return dataset.build(session)


def export(stack: EmbeddedStack, login: StaffLogin, path: str, language: str = "it") -> bytes:
    with signed_in_client(stack, login) as client:
        page = client.get("/office/tickets")
        if language != "it":
            client.post("/office/language", data={"_csrf_token": csrf_token(page.text), "language": language,
                                                  "next": "/office/tickets"})
        response = client.post(path, data={"_csrf_token": csrf_token(page.text)})
    assert response.status_code == 200, response.text[:300]
    if path.split("?")[0].endswith("/csv"):
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return response.content


def csv_column(content: bytes, header: str) -> list[str]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    column = rows[0].index(header)
    return [row[column] for row in rows[1:]]


def test_csv_ticket_statuses_italian(stack: EmbeddedStack, operator: StaffLogin, data: dataset.Dataset) -> None:
    statuses = csv_column(export(stack, operator, "/office/exports/tickets/csv"), "Stato")
    italian = {pgettext("it", "message status", status): status for status in MESSAGE_STATUS_IDS}

    assert statuses
    assert set(statuses) <= set(italian), f"not Italian labels: {set(statuses) - set(italian)}"
    assert "errore S2S" in statuses  # the dataset has a ticket whose latest message is rejected
    assert "consegnato" in statuses
    assert not set(statuses) & set(MESSAGE_STATUS_IDS)


def test_csv_ticket_statuses_english(stack: EmbeddedStack, operator: StaffLogin, data: dataset.Dataset) -> None:
    statuses = csv_column(export(stack, operator, "/office/exports/tickets/csv", "en"), "Status")
    english = {pgettext("en", "message status", status) for status in MESSAGE_STATUS_IDS}

    assert statuses
    assert set(statuses) <= english


def test_xlsx_ticket_statuses_italian(stack: EmbeddedStack, operator: StaffLogin, data: dataset.Dataset) -> None:
    content = export(stack, operator, "/office/exports/tickets/xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    column = rows[0].index("Stato")
    statuses = {row[column] for row in rows[1:]}

    assert "errore S2S" in statuses
    assert statuses <= {pgettext("it", "message status", status) for status in MESSAGE_STATUS_IDS}
    assert rows[1][rows[0].index("Importo (€)")] == pytest.approx(80.0)  # numbers stay numbers


def test_csv_payment_statuses_italian(stack: EmbeddedStack, operator: StaffLogin, data: dataset.Dataset) -> None:
    content = export(stack, operator, "/office/exports/payments/csv")
    statuses = csv_column(content, "Stato")
    italian = {pgettext("it", "payment status", status) for status in PAYMENT_STATUS_IDS}

    assert statuses
    assert set(statuses) <= italian
    assert pgettext("it", "payment status", "completed") in statuses
    assert "completed" not in statuses
    assert all("," in amount for amount in csv_column(content, "Importo (€)"))  # Italian decimals


def test_csv_job_states_italian(stack: EmbeddedStack, operator: StaffLogin, data: dataset.Dataset) -> None:
    states = csv_column(export(stack, operator, "/office/exports/jobs/csv"), gettext("it", "State"))

    assert states
    assert set(states) == {"inoltrato"}
    assert not set(states) & set(JOB_STATE_LABELS)
