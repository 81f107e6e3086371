"""Paying from the summary with the sandbox gateway, and bills that offer no online payment."""

from __future__ import annotations

import httpx

from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.i18n import formatting
from tests.integration.portal.helpers import Portal, csrf_cookie, csrf_token, has_pay_button, unpaid

VERIFYING_MARK = 'class="status verifying"'
PAID_MARK = 'class="status paid"'


def test_sandbox_payment_marks_bill_paid(portal: Portal) -> None:
    token, bill = portal.claim_bill_to_pay()
    ticket = portal.ticket(token)
    instalment = unpaid(bill)[0]
    summary_path = f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario"

    with portal.client() as client:
        summary = portal.open_bill(client, token)
        assert has_pay_button(summary.text)
        order_id = portal.start_payment(client, bill, summary.text)

        started = portal.payment(order_id)
        assert started.status == "pending"
        assert started.amount == instalment.amount
        assert started.instalment_id == instalment.id
        assert started.ticket_id == ticket.id

        sandbox_path = f"/c/{DEMO_SLUG}/sandbox/{order_id}"
        sandbox = client.get(sandbox_path)
        assert sandbox.status_code == 200
        assert formatting.money(instalment.amount, bill.currency) in sandbox.text

        confirmed = client.post(sandbox_path, data={"outcome": "pay", "_csrf_token": csrf_token(sandbox.text)})
        assert confirmed.status_code == 303
        back = httpx.URL(confirmed.headers["location"])
        assert back.path == summary_path
        assert back.params["payment"] == "returned"

        returned = client.get(f"{back.path}?{back.query.decode()}")
        assert returned.status_code == 200
        assert VERIFYING_MARK in returned.text or PAID_MARK in returned.text
        assert not has_pay_button(returned.text)

        completed = portal.wait_for_payment(order_id, "completed")
        paid = client.get(summary_path)

    assert completed.amount == instalment.amount
    assert completed.completed_at is not None
    assert portal.bill(bill.id).paid_at is not None
    assert PAID_MARK in paid.text
    assert order_id in paid.text
    assert not has_pay_button(paid.text)
    assert portal.payment_event_kinds(order_id) == ["payment_started", "payment_completed"]


def test_sandbox_page_is_italian_by_default(portal: Portal) -> None:
    token, bill = portal.claim_bill_to_pay()

    with portal.client() as client:
        summary = portal.open_bill(client, token)
        pressed = client.post(f"/c/{DEMO_SLUG}/b/{bill.public_id}/paga",
                              data={"gateway": "sandbox", "_csrf_token": csrf_token(summary.text)})
        sandbox = client.get(pressed.headers["location"])
        client.post(httpx.URL(pressed.headers["location"]).path,
                    data={"outcome": "cancel", "_csrf_token": csrf_token(sandbox.text)})

    assert httpx.URL(pressed.headers["location"]).params["lang"] == "it"
    assert sandbox.status_code == 200
    assert '<html lang="it"' in sandbox.text
    assert "Pagamento di prova" in sandbox.text
    assert ">Paga</button>" in sandbox.text
    assert formatting.money(unpaid(bill)[0].amount, bill.currency) in sandbox.text


def test_sandbox_page_follows_english_choice(portal: Portal) -> None:
    token, bill = portal.claim_bill_to_pay()

    with portal.client() as client:
        portal.open_bill(client, token)
        english = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario?lang=en")
        pressed = client.post(f"/c/{DEMO_SLUG}/b/{bill.public_id}/paga",
                              data={"gateway": "sandbox", "_csrf_token": csrf_token(english.text)})
        location = pressed.headers["location"]
        sandbox = client.get(location)
        # A browser without the bill's session cookie, as when the sandbox is served from another host.
        with portal.client() as other_host:
            cookieless = other_host.get(location)
        back = client.post(httpx.URL(location).path,
                           data={"outcome": "cancel", "_csrf_token": csrf_token(sandbox.text)})
        returned = client.get(back.headers["location"])

    assert httpx.URL(location).params["lang"] == "en"
    for page in (sandbox, cookieless):
        assert page.status_code == 200
        assert '<html lang="en"' in page.text
        assert "Sandbox payment" in page.text
        assert "Simulated payment page for tests: no money moves." in page.text
        assert ">Pay</button>" in page.text
        assert "Pagamento di prova" not in page.text
        assert "€" + f"{unpaid(bill)[0].amount:,.2f}" in page.text
    assert '<html lang="en"' in returned.text


def test_paid_bill_cannot_be_paid_again(portal: Portal) -> None:
    token, bill = portal.claim_bill_to_pay()
    earlier_statuses = [payment.status for payment in portal.payments(bill.id)]

    with portal.client() as client:
        summary = portal.open_bill(client, token)
        order_id = portal.start_payment(client, bill, summary.text)
        headers, body = portal.notification(order_id, "completed", unpaid(bill)[0].amount)
        assert portal.post_notification(headers, body).status_code == 200

        again = client.post(f"/c/{DEMO_SLUG}/b/{bill.public_id}/paga",
                            data={"gateway": "sandbox", "_csrf_token": csrf_token(summary.text)})

    assert again.status_code == 303
    assert httpx.URL(again.headers["location"]).params["payment"] == "paid"
    assert [payment.status for payment in portal.payments(bill.id)] == [*earlier_statuses, "completed"]


def test_instalment_bill_charges_first_instalment(portal: Portal) -> None:
    token, bill = portal.claim_bill_to_pay(unpaid_instalments=2)
    first, second = unpaid(bill)
    assert first.amount != bill.amount_due

    with portal.client() as client:
        summary = portal.open_bill(client, token)
        assert formatting.money(first.amount, bill.currency) in summary.text
        order_id = portal.start_payment(client, bill, summary.text)
        sandbox_path = f"/c/{DEMO_SLUG}/sandbox/{order_id}"
        sandbox = client.get(sandbox_path)
        client.post(sandbox_path, data={"outcome": "pay", "_csrf_token": csrf_token(sandbox.text)})
        completed = portal.wait_for_payment(order_id, "completed")
        after = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario")

    assert completed.amount == first.amount
    assert completed.instalment_id == first.id
    stored = portal.bill(bill.id)
    paid_instalments = {item.id: item.paid_at is not None for item in stored.instalments}
    assert paid_instalments == {first.id: True, second.id: False}
    assert stored.paid_at is None
    assert formatting.money(second.amount, bill.currency) in after.text
    assert formatting.day(second.due_date) in after.text
    assert has_pay_button(after.text)


def test_declined_payment_leaves_bill_payable(portal: Portal) -> None:
    token, bill = portal.claim_bill_to_pay()

    with portal.client() as client:
        summary = portal.open_bill(client, token)
        order_id = portal.start_payment(client, bill, summary.text)
        sandbox_path = f"/c/{DEMO_SLUG}/sandbox/{order_id}"
        sandbox = client.get(sandbox_path)
        client.post(sandbox_path, data={"outcome": "fail", "_csrf_token": csrf_token(sandbox.text)})
        portal.wait_for_payment(order_id, "failed")
        after = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario")

    assert portal.bill(bill.id).paid_at is None
    assert has_pay_button(after.text)
    assert PAID_MARK not in after.text
    assert portal.payment_event_kinds(order_id) == ["payment_started", "payment_failed"]


FAILED_NOTICES = {
    "it": "Il pagamento non è andato a buon fine. Puoi riprovare.",
    "en": "The payment failed. You can try again.",
    "de": "Die Zahlung ist fehlgeschlagen. Sie können es erneut versuchen.",
    "fr": "Le paiement a échoué. Vous pouvez réessayer.",
    "es": "El pago no se ha completado. Puedes intentarlo de nuevo.",
    "ro": "Plata nu a reușit. Puteți încerca din nou.",
    "ar": "فشل الدفع. يمكنك المحاولة مرة أخرى.",
}
SANDBOX_NAMES = {"it": "Sandbox (pagamenti simulati)", "de": "Sandbox (simulierte Zahlungen)",
                 "ar": "بيئة تجريبية (مدفوعات محاكاة)"}


def test_declined_payment_says_it_failed(portal: Portal) -> None:
    token, bill = portal.claim_bill_to_pay()

    with portal.client() as client:
        summary = portal.open_bill(client, token)
        order_id = portal.start_payment(client, bill, summary.text)
        sandbox_path = f"/c/{DEMO_SLUG}/sandbox/{order_id}"
        sandbox = client.get(sandbox_path)
        back = client.post(sandbox_path, data={"outcome": "fail", "_csrf_token": csrf_token(sandbox.text)})
        portal.wait_for_payment(order_id, "failed")
        returned = client.get(back.headers["location"])  # the sandbox sends the customer back here
        pages = {language: client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario?lang={language}")
                 for language in FAILED_NOTICES}

    assert returned.status_code == 200
    assert VERIFYING_MARK not in returned.text
    assert FAILED_NOTICES["it"] in returned.text
    for language, notice in FAILED_NOTICES.items():
        assert notice in pages[language].text, f"no failure notice in {language}"
        assert "Sandbox (simulated payments)" not in pages[language].text or language == "en"
    for language, name in SANDBOX_NAMES.items():
        assert name in pages[language].text, f"sandbox name not translated in {language}"
    assert has_pay_button(pages["it"].text)


def test_browser_return_alone_pays_nothing(portal: Portal) -> None:
    token, bill = portal.claim_bill_to_pay()
    earlier_attempts = len(portal.payments(bill.id))

    with portal.client() as client:
        summary = portal.open_bill(client, token)
        order_id = portal.start_payment(client, bill, summary.text)
        returned = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario?payment=returned&esito=OK")
        second_try = client.post(f"/c/{DEMO_SLUG}/b/{bill.public_id}/paga",
                                 data={"gateway": "sandbox", "_csrf_token": csrf_token(summary.text)})

    assert VERIFYING_MARK in returned.text
    assert PAID_MARK not in returned.text
    assert not has_pay_button(returned.text)
    assert portal.bill(bill.id).paid_at is None
    assert portal.payment(order_id).status == "pending"
    assert second_try.status_code == 303
    assert httpx.URL(second_try.headers["location"]).params["payment"] == "pending"
    assert len(portal.payments(bill.id)) == earlier_attempts + 1
    assert portal.payment_event_kinds(order_id) == ["payment_started"]


def test_pay_without_csrf_token_is_403(portal: Portal) -> None:
    token, bill = portal.reuse_token(lambda bill: bill.payable_online and bill.paid_at is None)
    before = portal.payment_count()

    with portal.client() as client:
        portal.open_bill(client, token)
        missing = client.post(f"/c/{DEMO_SLUG}/b/{bill.public_id}/paga", data={"gateway": "sandbox"})
        wrong = client.post(f"/c/{DEMO_SLUG}/b/{bill.public_id}/paga",
                            data={"gateway": "sandbox", "_csrf_token": "forged"})

    assert missing.status_code == 403
    assert wrong.status_code == 403
    assert portal.payment_count() == before


def test_credit_note_has_no_pay_button(portal: Portal) -> None:
    token, bill = portal.reuse_token(lambda bill: bill.document_type == "TD04")
    _check_not_payable(portal, token, bill.public_id, bill.id)


def test_direct_debit_has_no_pay_button(portal: Portal) -> None:
    token, bill = portal.reuse_token(lambda bill: bill.direct_debit and bill.document_type != "TD04")
    _check_not_payable(portal, token, bill.public_id, bill.id)


def _check_not_payable(portal: Portal, token: str, public_id: str, bill_id: int) -> None:
    with portal.client() as client:
        summary = portal.open_bill(client, token)
        assert not has_pay_button(summary.text)
        forced = client.post(f"/c/{DEMO_SLUG}/b/{public_id}/paga",
                             data={"gateway": "sandbox", "_csrf_token": csrf_cookie(client)})

    assert forced.status_code == 303
    assert httpx.URL(forced.headers["location"]).params["payment"] == "not_payable"
    assert portal.payments(bill_id) == []
    assert "payment_started" not in portal.bill_event_kinds(bill_id)
