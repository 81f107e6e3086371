"""The onboarding wizard in a real browser: a platform admin signs in with TOTP, fills every step,
sees a problem next to its field, and activates the utility; the previews follow what is typed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.stack import EmbeddedStack
from tests.integration.admin.console_support import enrol, forget_last_code
from tests.integration.admin.test_onboarding_pages import _forms
from tests.integration.stack_support import create_staff, mails_to, new_slug, running_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("wizard-e2e")) as started:
        yield started


def _fill(page: Any, form: dict[str, str]) -> None:
    for name, value in form.items():
        page.fill(f'[name="{name}"]', value)


def _sign_in(stack: EmbeddedStack, page: Any, username: str) -> None:
    login = create_staff(stack, username, "platform_admin", None)
    admin = enrol(stack, login)
    forget_last_code(stack, admin.username)
    page.goto(f"{stack.base_url}/admin/login")
    page.fill("#username", admin.username)
    page.fill("#password", login.password)
    page.click("button[type=submit]")
    page.fill("#code", pyotp.TOTP(admin.secret).now())
    page.click("button[type=submit]")


def test_wizard_in_browser(stack: EmbeddedStack, browser: Any) -> None:
    slug = new_slug("br")
    forms = _forms(slug)
    context = browser.new_context()
    page = context.new_page()
    try:
        _sign_in(stack, page, "ops.browser")
        page.goto(f"{stack.base_url}/admin/onboarding")
        page.click("text=Attiva una nuova azienda")

        _fill(page, {**forms["company"], "vat_number": "12345678901"})
        page.click("text=Salva e continua")
        vat_error = page.inner_text("#e-vat_number")
        page.fill('[name="vat_number"]', forms["company"]["vat_number"])
        page.click("text=Salva e continua")
        for step in ("look", "messages", "senders", "languages", "contacts", "payments", "flow", "staff"):
            assert page.url.endswith(f"/{step}"), (step, page.url)
            _fill(page, forms[step])
            page.click("text=Salva e continua")
        page.click("text=Attiva l'azienda")
        final_url = page.url
    finally:
        context.close()

    assert "partita IVA valida" in vat_error
    assert final_url.endswith(f"/admin/tenants/{slug}")
    with stack.rt.db.platform_session() as session:
        assert session.scalar(select(Tenant.status).where(Tenant.slug == slug)) == "active"
    assert mails_to(stack, f"admin@{slug}.example")


def test_previews_follow_typing(stack: EmbeddedStack, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        _sign_in(stack, page, "ops.preview")
        page.goto(f"{stack.base_url}/admin/onboarding")
        page.click("text=Attiva una nuova azienda")
        draft_path = page.url.rsplit("/", 1)[0]
        page.goto(f"{draft_path}/look")
        page.fill('[name="branding.display_name"]', "Luce Chiara")
        page.fill('[name="branding.primary_color"]', "#123456")
        page.wait_for_selector("#preview .brand-name:text-is('Luce Chiara')")
        stylesheet = page.get_attribute("#preview link[rel=stylesheet]", "href")
        brand = page.eval_on_selector(
            "#preview .look-preview", "element => getComputedStyle(element).getPropertyValue('--brand').trim()")

        page.goto(f"{draft_path}/messages")
        page.fill('[name="texts.it.sms"]', "{{ utility }}: bolletta {{ document_number }} pronta {{ link }}")
        page.wait_for_selector("#preview pre:has-text('bolletta 2026/A/000123 pronta')")
        counts = page.inner_text("#preview .sms-length")
        page.fill('[name="texts.it.sms"]', "{{ utility }}: bolletta {{ document_number }} pronta, â {{ link }}")
        page.wait_for_selector("#preview pre:has-text('pronta, â')")
        ucs2_counts = page.inner_text("#preview .sms-length")
    finally:
        context.close()

    assert stylesheet is not None
    assert "123456" in stylesheet
    assert brand == "#123456"
    assert "Codifica: GSM-7" in counts
    assert "Parti SMS: 1" in counts
    assert "Codifica: UCS-2" in ucs2_counts
