"""The customer pages in a real browser: axe-core on every section in Italian and Arabic, keyboard
navigation to the payment button, the page weight on first load, and pages without JavaScript.

Screenshots of each section at phone width go to ``artefacts/screenshots`` (``BOLLETTA_ARTEFACTS_DIR``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bolletta.platform.db.models.tenant import Bill, Payment, Ticket
from bolletta.platform.demo.run import DemoResult, run_demo
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.settings import load_settings
from bolletta.platform.tickets.tokens import token_hash
from tests.e2e.browser import ARTEFACTS_DIR, PHONE, axe_violations, describe
from tests.e2e.customer import payable_link

SECTIONS = ("sommario", "importi", "consumi", "dati")
MAX_FIRST_LOAD_BYTES = 150 * 1024


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoResult]:
    data_dir: Path = tmp_path_factory.mktemp("a11y-demo")
    settings = load_settings(environ={}, data_dir=str(data_dir), http_port=0, sftp_port=0,
                             tenant_path_prefix=True, cookie_secure=False)
    result = run_demo(settings, smtp_port=0)
    yield result
    result.stack.stop()


def payable_links(demo: DemoResult) -> list[str]:
    """Links of bills payable online with no payment attempt yet, so each test can take its own."""
    links = []
    with demo.stack.rt.db.tenant_session(DEMO_SLUG) as session:
        for _channel, _recipient, link in demo.customer_links:
            ticket = session.scalar(select(Ticket).where(
                Ticket.token_hash == token_hash(demo.stack.rt.ticket_key, link.rsplit("/", 1)[1])))
            bill = session.get(Bill, ticket.bill_id) if ticket else None
            attempts = session.scalar(select(func.count()).select_from(Payment).where(Payment.bill_id == bill.id)) \
                if bill else 1
            if bill and bill.payable_online and bill.paid_at is None and not bill.direct_debit and not attempts:
                links.append(link)
    return links


def open_bill(browser: Any, demo: DemoResult, **context_options: Any) -> tuple[Any, Any, str]:
    """A new phone-sized browser that opened a payable bill's link; returns context, page and bill URL."""
    context = browser.new_context(viewport=PHONE, bypass_csp=True, **context_options)
    page = context.new_page()
    page.goto(payable_links(demo)[0])
    return context, page, page.url.rsplit("/", 1)[0]


@pytest.mark.parametrize("language", ["it", "ar"])
def test_sections_have_no_serious_violations(browser: Any, demo: DemoResult, language: str) -> None:
    context, page, base = open_bill(browser, demo)
    shots = ARTEFACTS_DIR / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    found: dict[str, str] = {}
    try:
        page.goto(f"{base}/sommario?lang={language}")
        for section in SECTIONS:
            page.goto(f"{base}/{section}")
            assert page.locator("html").get_attribute("lang") == language
            page.screenshot(path=str(shots / f"{section}-{language}.png"), full_page=True)
            violations = axe_violations(page)
            if violations:
                found[section] = describe(violations)
    finally:
        context.close()

    assert not found, "\n".join(f"{section}:\n{text}" for section, text in found.items())


def test_keyboard_reaches_the_pay_button(browser: Any, demo: DemoResult) -> None:
    context, page, _base = open_bill(browser, demo)
    try:
        page.keyboard.press("Tab")
        first = page.evaluate("document.activeElement.className")
        reached = False
        for _ in range(40):
            page.keyboard.press("Tab")
            focused = page.evaluate("[document.activeElement.tagName, document.activeElement.textContent.trim()]")
            if focused[0] == "BUTTON" and focused[1].startswith("Paga online"):
                reached = True
                break
        assert reached, "Tab never reached the pay button"
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/c/{DEMO_SLUG}/sandbox/**")
    finally:
        context.close()

    assert first == "skip-link"


def test_summary_weighs_under_150_kb_on_first_load(browser: Any, demo: DemoResult) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    sizes: list[int] = []
    third_party: list[str] = []

    def count(response: Any) -> None:
        if not response.url.startswith(demo.stack.base_url):
            third_party.append(response.url)
        body = response.body() if response.status < 300 else b""
        headers = sum(len(name) + len(value) + 4 for name, value in response.headers.items())
        sizes.append(len(body) + headers)

    page.on("response", count)
    try:
        page.goto(payable_link(demo), wait_until="networkidle")
    finally:
        context.close()

    assert not third_party
    assert sum(sizes) < MAX_FIRST_LOAD_BYTES, f"{sum(sizes)} bytes over {len(sizes)} responses"


def test_pages_work_without_javascript(browser: Any, demo: DemoResult) -> None:
    context, page, base = open_bill(browser, demo, java_script_enabled=False)
    try:
        assert page.get_by_text("Quanto pagare").is_visible()
        assert not page.locator("[data-speech-button]").is_visible()
        assert page.get_by_text("Testo letto ad alta voce").is_visible()
        page.goto(f"{base}/importi")
        assert page.locator("svg.chart").count() >= 1
        page.goto(f"{base}/sommario")
        page.get_by_role("button", name="Paga online").click()
        page.wait_for_url(f"**/c/{DEMO_SLUG}/sandbox/**")
    finally:
        context.close()
