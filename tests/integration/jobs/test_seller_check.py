"""Bills whose seller is another company than the tenant carry a warning for approval."""

from __future__ import annotations

from sqlalchemy import select

from bolletta.platform.db.models.tenant import Bill
from bolletta.platform.demo.flow import SELLER_VAT_NUMBER
from bolletta.platform.i18n.message import render
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import create_test_tenant, new_slug, open_demo_job, wait_idle


def _warnings(stack: EmbeddedStack, vat_number: str) -> list[list[str]]:
    tenant = create_test_tenant(stack, new_slug("vat"), vat_number=vat_number)
    open_demo_job(stack, tenant)
    wait_idle(stack)
    with stack.rt.db.tenant_session(tenant) as session:
        bills = session.scalars(select(Bill)).all()
    return [[render(warning, "it") for warning in bill.warnings] for bill in bills]


def test_other_seller_is_flagged(stack: EmbeddedStack) -> None:
    warnings = _warnings(stack, "01234567897")

    assert warnings
    for bill_warnings in warnings:
        assert any("partita IVA del venditore" in warning and SELLER_VAT_NUMBER in warning
                   for warning in bill_warnings), bill_warnings


def test_own_seller_is_not_flagged(stack: EmbeddedStack) -> None:
    warnings = _warnings(stack, SELLER_VAT_NUMBER)

    assert warnings
    assert not any("partita IVA del venditore" in warning for bill_warnings in warnings for warning in bill_warnings)
