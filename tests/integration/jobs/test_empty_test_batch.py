"""A tenant without test recipients: its test batch reaches nobody and cannot be approved."""

from __future__ import annotations

import pytest

from bolletta.platform.demo.flow import DemoFlow
from bolletta.platform.errors import EmptyTestBatch
from bolletta.platform.jobs import approval, states
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import (
    create_staff,
    create_test_tenant,
    csrf_token,
    load_job,
    mails_to,
    new_slug,
    open_demo_job,
    run_to_test_sent,
    signed_in_client,
    wait_idle,
)


@pytest.fixture
def lonely_tenant(stack: EmbeddedStack) -> str:
    """A tenant whose staff get job e-mails but which has no test recipients."""
    return create_test_tenant(stack, new_slug("job"), test_recipients=[])


def test_empty_batch_cannot_be_approved(stack: EmbeddedStack, lonely_tenant: str, demo_flow: DemoFlow) -> None:
    job_id = run_to_test_sent(stack, lonely_tenant, demo_flow)
    operator = create_staff(stack, f"{lonely_tenant}.operatore", "tenant_operator", lonely_tenant)

    with pytest.raises(EmptyTestBatch, match="test_recipients"):
        approval.approve(stack.rt, lonely_tenant, job_id, operator.staff)

    assert load_job(stack, lonely_tenant, job_id).state == states.TEST_SENT


def test_job_page_names_missing_recipients(stack: EmbeddedStack, lonely_tenant: str, demo_flow: DemoFlow) -> None:
    job_id = run_to_test_sent(stack, lonely_tenant, demo_flow)
    operator = create_staff(stack, f"{lonely_tenant}.operatore", "tenant_operator", lonely_tenant)

    with signed_in_client(stack, operator) as client:
        page = client.get(f"/office/jobs/{job_id}")
        approve = client.post(f"/office/jobs/{job_id}/approve", data={"_csrf_token": csrf_token(page.text)})
        after = client.get(approve.headers["location"])
        client.post("/office/language", data={"language": "en", "next": f"/office/jobs/{job_id}",
                                              "_csrf_token": csrf_token(after.text)})
        english = client.get(f"/office/jobs/{job_id}")

    assert page.status_code == 200
    assert "Nessun destinatario di test configurato" in page.text
    assert "test_recipients" in page.text
    assert f'action="/office/jobs/{job_id}/approve"' not in page.text
    assert approve.status_code == 303
    assert "non ha raggiunto nessuno" in after.text
    assert load_job(stack, lonely_tenant, job_id).state == states.TEST_SENT
    assert "No test recipients are configured" in english.text


def test_rejected_empty_batch_lets_flow_in_again(
    stack: EmbeddedStack, lonely_tenant: str, demo_flow: DemoFlow
) -> None:
    job_id = run_to_test_sent(stack, lonely_tenant, demo_flow)
    operator = create_staff(stack, f"{lonely_tenant}.operatore", "tenant_operator", lonely_tenant)

    with signed_in_client(stack, operator) as client:
        page = client.get(f"/office/jobs/{job_id}")
        client.post(f"/office/jobs/{job_id}/reject", data={"_csrf_token": csrf_token(page.text),
                                                           "reason": "Mancano i destinatari di test"})
        rejected = client.get(f"/office/jobs/{job_id}")
    wait_idle(stack)
    again = open_demo_job(stack, lonely_tenant, flow=demo_flow)
    wait_idle(stack)

    assert "carica di nuovo il flusso" in page.text
    assert load_job(stack, lonely_tenant, job_id).state == states.TEST_REJECTED
    assert "le sue bollette sono state ritirate" in rejected.text
    assert again.created is True
    job = load_job(stack, lonely_tenant, again.job_id)
    assert job.state == states.TEST_SENT
    assert job.bills_accepted == len(demo_flow.document_numbers)
    assert job.report["duplicates"] == []


def test_job_mail_names_missing_recipients(stack: EmbeddedStack, lonely_tenant: str, demo_flow: DemoFlow) -> None:
    run_to_test_sent(stack, lonely_tenant, demo_flow)

    mails = mails_to(stack, f"staff@{lonely_tenant}.example")
    [test_sent] = [mail for mail in mails if "test di pre-produzione inviato" in str(mail.message["Subject"])]
    text = test_sent.message.get_body(preferencelist=("plain",)).get_content()
    assert "nessun destinatario di test configurato" in text
    assert "no test recipients are configured" in text
    assert "test_recipients" in text
    assert "carica di nuovo il flusso" in text
    assert "upload the flow again" in text


def test_batch_with_recipients_is_approved(stack: EmbeddedStack, demo_flow: DemoFlow) -> None:
    tenant = create_test_tenant(stack, new_slug("job"))
    job_id = run_to_test_sent(stack, tenant, demo_flow)
    operator = create_staff(stack, f"{tenant}.operatore", "tenant_operator", tenant)

    approval.approve(stack.rt, tenant, job_id, operator.staff)

    assert load_job(stack, tenant, job_id).state == states.APPROVED
    text = "\n".join(mail.message.get_body(preferencelist=("plain",)).get_content()
                     for mail in mails_to(stack, f"staff@{tenant}.example"))
    assert "nessun destinatario di test" not in text
