""""Stat. ticket" and the dashboard over HTTP: the hand-computed figures as staff read them."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
import time_machine

from bolletta.platform.db.models.tenant import Job
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import StaffLogin, csrf_token, signed_in_client
from tests.integration.stats import dataset


@pytest.fixture
def data(stack: EmbeddedStack, tenant: str) -> dataset.Dataset:
    with stack.rt.db.tenant_session(tenant) as session:
        return dataset.build(session)


def cells(text: str) -> str:
    """The page's text with tags replaced by spaces, for reading table rows."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))


def test_year_page_shows_every_figure(stack: EmbeddedStack, viewer: StaffLogin, data: dataset.Dataset) -> None:
    with signed_in_client(stack, viewer) as client:
        page = client.get("/office/stats", params={"year": 2025})

    assert page.status_code == 200
    text = cells(page.text)
    assert "Statistiche inoltro ticket 2025" in text
    assert "Ticket 15 9 (60,00%) 4 (26,67%) 2 (13,33%)" in text
    assert "Errori 5 (33,33%) 2 1 2" in text
    assert "Errori S2S 2 1 0 1" in text
    assert "Visualizzati 1 7 (70,00%) 5 (71,43%) 2 (66,67%) 0 (–)" in text
    assert "Pagamenti online 2, 4 2 / 5 (40,00%) 2 / 4 (50,00%) 0 / 1 (0,00%) 0 / 0 (–)" in text
    assert "DLVRD 4 44,44% ERROR 3 2 22,22% TIMEOUT 1 11,11% In attesa 2 22,22% Totale 9" in text
    assert 'class="number best"' in page.text
    assert "gen 11 6 3 5 4 (2) 66,67% 1 50,00%" in text
    assert "apr 0 0 0 0 0 (0) – 0 –" in text
    assert "trend-up" in page.text
    assert "trend-down" in page.text
    assert "Le visualizzazioni sono al netto degli errori di recapito" in text
    assert "non in quello del pagamento" in text
    assert page.text.count("<svg") == 2


def test_per_issue_and_grouping(stack: EmbeddedStack, viewer: StaffLogin, data: dataset.Dataset) -> None:
    with signed_in_client(stack, viewer) as client:
        jobs = client.get("/office/stats", params={"year": 2025, "view": "jobs"})
        quarters = client.get("/office/stats", params={"year": 2025, "group": 3})
        one_job = client.get("/office/stats", params={"year": 2025, "job": data.job2})
        token = csrf_token(jobs.text)
        refreshed = client.post("/office/stats/refresh?year=2025&group=2", data={"_csrf_token": token})

    assert f'job={data.job2}">#{data.job2} febbraio.zip' in jobs.text
    assert "gen–mar 15" in cells(quarters.text)
    assert f"JOB #{data.job2}" in one_job.text
    assert "Ticket 3 " in cells(one_job.text)
    assert refreshed.status_code == 303
    assert refreshed.headers["location"] == "/office/stats?year=2025&group=2&view=month"


def test_dashboard_shows_this_month(stack: EmbeddedStack, tenant: str, operator: StaffLogin,
                                    data: dataset.Dataset) -> None:
    with (time_machine.travel(datetime(2025, 1, 20, 12, 0, tzinfo=UTC), tick=True),
          signed_in_client(stack, operator) as client):
        page = client.get("/office/")

    text = cells(page.text)
    assert "Ticket del mese (01/2025) 11" in text
    assert "% visualizzati 66,67%" in text
    assert "% pagati 50,00%" in text
    assert "gennaio.zip" in text


def test_dashboard_follows_dispatches(stack: EmbeddedStack, tenant: str, operator: StaffLogin,
                                      data: dataset.Dataset) -> None:
    with stack.rt.db.tenant_session(tenant) as session:
        job = session.get(Job, data.job2)
        assert job is not None
        job.state, job.bills_accepted = "dispatching", 10
        session.commit()

    with signed_in_client(stack, operator) as client:
        page = client.get("/office/")

    assert '<meta http-equiv="refresh" content="30">' in page.text
    assert f"#{data.job2} febbraio.zip inoltro in corso 3 7" in cells(page.text)


def test_period_table_exports(stack: EmbeddedStack, tenant: str, operator: StaffLogin,
                              data: dataset.Dataset) -> None:
    with signed_in_client(stack, operator) as client:
        page = client.get("/office/stats", params={"year": 2025, "group": 3})
        response = client.post("/office/exports/stats/csv?year=2025&group=3&view=month",
                               data={"_csrf_token": csrf_token(page.text)})

    assert 'action="/office/exports/stats/csv?year=2025&amp;group=3' in page.text
    lines = response.content.decode("utf-8").strip().splitlines()
    assert lines[0] == ("\ufeffAnno;Dal mese;Al mese;Totale ticket;SMS;EMAIL;WHATSAPP;Errori;Errori S2S;"
                        "Visualizzati;Bollette pagabili visualizzate;% visualizzati;Pagamenti;% pagamenti")
    assert lines[1] == "2025;1;3;15;9;4;2;5;2;7;5;70,00;2;40,00"
    assert lines[2] == "2025;4;6;0;0;0;0;0;0;0;0;;0;"
    assert len(lines) == 5
