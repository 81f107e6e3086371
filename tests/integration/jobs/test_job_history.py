"""The history of a job in the backoffice, in the staff member's language, with old notes kept."""

from __future__ import annotations

import html
import re

import httpx
from sqlalchemy import select

from bolletta.platform.db.models.tenant import JobTransition
from bolletta.platform.demo.flow import DemoFlow
from bolletta.platform.jobs import states
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import StaffLogin, csrf_token, signed_in_client

HISTORY = re.compile(r'<ol class="history">(.*?)</ol>', re.DOTALL)
ENGLISH_NOTES = ("bills accepted", "test messages", "uploaded through", "no test recipients")
OLD_NOTE = "3 bills accepted, 0 rejected"
"""A note as the parser stored it before notes were translatable."""


def history(page: httpx.Response) -> list[str]:
    """The items of the job page's history, unescaped."""
    assert page.status_code == 200, page.text[:300]
    [items] = HISTORY.findall(page.text)
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", items, re.DOTALL)]


def switch_to_english(client: httpx.Client, job_id: int) -> None:
    page = client.get(f"/office/jobs/{job_id}")
    client.post("/office/language", data={"language": "en", "next": f"/office/jobs/{job_id}",
                                          "_csrf_token": csrf_token(page.text)})


def test_history_in_italian(stack: EmbeddedStack, operator: StaffLogin, tested_job: int, demo_flow: DemoFlow) -> None:
    with signed_in_client(stack, operator) as client:
        items = history(client.get(f"/office/jobs/{tested_job}"))

    text = "\n".join(items)
    assert len(items) == 4, text
    assert items[0].endswith(f" → ricevuto (api:test): {demo_flow.filename} caricato tramite API")
    assert "analizzato → test inviato (system:test-batch): messaggi di test: " in items[3]
    assert "in analisi → analizzato (system:parser): fatture accettate: " in items[2]
    assert ", scartate: 0" in items[2]
    for english in ENGLISH_NOTES:
        assert english not in text
    assert "test_sent" not in text


def test_history_in_english_shows_labels(stack: EmbeddedStack, operator: StaffLogin, tested_job: int) -> None:
    with signed_in_client(stack, operator) as client:
        switch_to_english(client, tested_job)
        page = client.get(f"/office/jobs/{tested_job}")
    items = history(page)

    text = "\n".join(items)
    assert "parsed → test sent (system:test-batch): test messages: " in items[3]
    assert "parsing → parsed (system:parser): bills accepted: " in items[2]
    assert "test_sent" not in text
    assert '<span class="badge state-test_sent">test sent</span>' in page.text


def test_old_plain_note_still_shown(stack: EmbeddedStack, tenant: str, operator: StaffLogin, tested_job: int) -> None:
    with stack.rt.db.tenant_session(tenant) as session:
        parsed = session.scalars(select(JobTransition).where(
            JobTransition.job_id == tested_job, JobTransition.to_state == states.PARSED)).one()
        parsed.note = OLD_NOTE
        session.commit()

    with signed_in_client(stack, operator) as client:
        italian = history(client.get(f"/office/jobs/{tested_job}"))
        switch_to_english(client, tested_job)
        english = history(client.get(f"/office/jobs/{tested_job}"))

    assert italian[2].endswith(f"in analisi → analizzato (system:parser): {OLD_NOTE}")
    assert english[2].endswith(f"parsing → parsed (system:parser): {OLD_NOTE}")


def test_typed_reason_shown_as_typed(stack: EmbeddedStack, operator: StaffLogin, tested_job: int) -> None:
    reason = '{"msgid": "scheduled start", "params": {}} <b>importi errati</b>'

    with signed_in_client(stack, operator) as client:
        page = client.get(f"/office/jobs/{tested_job}")
        client.post(f"/office/jobs/{tested_job}/reject", data={"_csrf_token": csrf_token(page.text),
                                                              "reason": reason})
        rejected = client.get(f"/office/jobs/{tested_job}")
    items = history(rejected)

    assert items[-1].endswith(f"test inviato → test respinto (user:{operator.staff.username}): {reason}")
    assert "<b>importi errati</b>" not in rejected.text
