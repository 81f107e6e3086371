"""FatturaPA cost layouts: the regulated summary of 2016 and the receipt-style layout of 2025."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from bolletta.platform.i18n.message import render
from bolletta.platform.ingest.cost_categories import (
    DEFAULT_RECEIPT_2025_RULES,
    RECEIPT_2025_CATEGORIES,
    checked_cost_rules,
    classify_cost,
    classify_part,
    layout_of_rules,
)
from bolletta.platform.ingest.fatturapa import read_fatturapa
from bolletta.platform.ingest.flow_schema import RECEIPT_2025_CATEGORIES as SCHEMA_RECEIPT_CATEGORIES
from bolletta.platform.ingest.flow_schema import SUMMARY_2016_CATEGORIES, Cost
from bolletta.platform.ingest.reader import read_flow

RIEPILOGO = "oca_l10n_italy/IT05979361218_ripilogoiva.xml"

RECEIPT_DESCRIPTIONS = [
    "Accisa sull'energia elettrica",  # 905 kWh
    "Quota potenza – rete e oneri",  # 4.9 kW
    "Quota consumi – rete e oneri",  # 905 kWh, repeating the sale line's quantity
    "Quota fissa – rete e oneri",
    "Quota fissa – vendita",
    "Quota consumi – vendita",  # 905 kWh
    "Interessi di mora",
]


def receipt_bill(samples_dir: Path, descriptions: list[str] = RECEIPT_DESCRIPTIONS) -> bytes:
    """Return the sample bill with its seven line descriptions replaced, in line order."""
    text = (samples_dir / "fatturapa" / RIEPILOGO).read_text(encoding="utf-8")
    replacements = iter(descriptions)
    text = re.sub(
        r"<Descrizione>[^<]*</Descrizione>", lambda _: f"<Descrizione>{next(replacements)}</Descrizione>", text
    )
    return text.encode()


@pytest.mark.parametrize(
    ("description", "category", "part"),
    [
        ("Quota consumi – vendita", "consumption_quota", "sale"),
        ("Quota consumi - rete e oneri di sistema", "consumption_quota", "network_system"),
        ("QUOTA FISSA – RETE E ONERI", "fixed_quota", "network_system"),
        ("Quota fissa vendita", "fixed_quota", "sale"),
        ("Quota potenza – trasporto e gestione del contatore", "power_quota", "network_system"),
        ("Quota variabile materia energia", "consumption_quota", "sale"),
        ("Ricalcolo quota consumi – vendita", "recalculation", "sale"),
        ("Bonus sociale elettrico", "social_bonus", None),
        ("Canone di abbonamento alla televisione per uso privato", "tv_licence", None),
        ("Interessi moratori", "late_interest", None),
        ("Servizi aggiuntivi: assicurazione casa", "additional_services", None),
        ("Accisa", "excise", None),
        ("Spesa per la materia energia", "other", None),
    ],
)
def test_receipt_keywords(description: str, category: str, part: str | None) -> None:
    assert classify_cost(description, DEFAULT_RECEIPT_2025_RULES) == category
    if category.endswith("_quota"):
        assert classify_part(description) == part


def test_categories_match_jsonl_schema() -> None:
    assert set(SCHEMA_RECEIPT_CATEGORIES) == RECEIPT_2025_CATEGORIES
    assert {category for _, category in DEFAULT_RECEIPT_2025_RULES} <= set(SCHEMA_RECEIPT_CATEGORIES)


def test_summary_layout_is_default(samples_dir: Path) -> None:
    [bill], _ = read_fatturapa((samples_dir / "fatturapa" / RIEPILOGO).read_bytes(), "bill.xml")

    assert bill.details == {"costs_layout": "summary_2016"}
    assert {cost.category for cost in bill.costs} <= set(SUMMARY_2016_CATEGORIES)


def test_receipt_layout_bill(samples_dir: Path) -> None:
    [bill], rejected = read_fatturapa(receipt_bill(samples_dir), "bill.xml", costs_layout="receipt_2025")

    assert rejected == []
    assert bill.details["costs_layout"] == "receipt_2025"
    assert [cost.category for cost in bill.costs] == [
        "excise", "power_quota", "consumption_quota", "fixed_quota", "fixed_quota", "consumption_quota",
        "late_interest", "vat", "vat",
    ]
    # Only the sale part of the consumption quota counts, because the network line repeats the kWh.
    assert bill.consumption == Decimal("905.00")
    assert bill.consumption_unit == "kWh"
    receipt_costs = bill.details["receipt_costs"]
    assert [(cost["category"], cost.get("part")) for cost in receipt_costs[:7]] == [
        ("excise", None),
        ("power_quota", "network_system"),
        ("consumption_quota", "network_system"),
        ("fixed_quota", "network_system"),
        ("fixed_quota", "sale"),
        ("consumption_quota", "sale"),
        ("late_interest", None),
    ]
    assert receipt_costs[5]["amount"] == "73.73000000"
    assert receipt_costs[5]["quantity"] == "905.00"
    assert bill.warnings == []


def test_receipt_costs_decode_as_jsonl_costs(samples_dir: Path) -> None:
    [bill], _ = read_fatturapa(receipt_bill(samples_dir), "bill.xml", costs_layout="receipt_2025")

    for item in bill.details["receipt_costs"]:
        cost = Cost(**item)
        assert cost.category in SCHEMA_RECEIPT_CATEGORIES


def test_quota_without_part_warns(samples_dir: Path) -> None:
    descriptions = [*RECEIPT_DESCRIPTIONS[:6], "Quota potenza"]
    [bill], _ = read_fatturapa(receipt_bill(samples_dir, descriptions), "bill.xml", costs_layout="receipt_2025")

    assert bill.details["receipt_costs"][6] == {
        "category": "power_quota", "label": "Quota potenza", "amount": "3.52000000", "quantity": "1.00", "unit": "Nr",
        "unit_price": "3.52000000",
    }
    [warning] = bill.warnings
    assert "DettaglioLinee 7 is a power_quota cost" in render(warning, "en")


def test_rule_fixes_part(samples_dir: Path) -> None:
    descriptions = [*RECEIPT_DESCRIPTIONS[:6], "Quota potenza"]
    rules = [["quota potenza", "power_quota/network_system"], *DEFAULT_RECEIPT_2025_RULES]
    [bill], _ = read_fatturapa(receipt_bill(samples_dir, descriptions), "bill.xml", cost_rules=rules)

    assert bill.details["costs_layout"] == "receipt_2025"
    assert bill.details["receipt_costs"][6]["part"] == "network_system"
    assert bill.costs[6].category == "power_quota"
    assert bill.warnings == []


def test_tenant_rules_choose_layout() -> None:
    assert layout_of_rules([["quota fissa", "fixed_quota"]]) == "receipt_2025"
    assert layout_of_rules([["materia energia", "supply"]]) == "summary_2016"
    assert layout_of_rules([]) == "summary_2016"


def test_receipt_layout_through_read_flow(samples_dir: Path) -> None:
    [bill] = read_flow(receipt_bill(samples_dir), "bill.xml", costs_layout="receipt_2025").bills

    assert bill.details["costs_layout"] == "receipt_2025"
    assert bill.consumption == Decimal("905.00")


@pytest.mark.parametrize(
    ("rules", "layout", "message"),
    [
        ([["quota fissa", "fixed_quota"]], "summary_2016", "summary_2016 layout does not have"),
        ([["trasporto", "transport_meter"]], "receipt_2025", "receipt_2025 layout does not have"),
        ([["quota fissa", "fixed_quota/retail"]], "receipt_2025", "'fixed_quota/retail'"),
        ([["accisa", "excise/sale"]], "receipt_2025", "'excise/sale'"),
        ([], "receipt_2026", "costs_layout is 'receipt_2026'"),
    ],
)
def test_bad_layout_rules_raise(rules: list[list[str]], layout: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        checked_cost_rules(rules, layout)


def test_empty_rules_mean_layout_default() -> None:
    assert checked_cost_rules([], "receipt_2025") == DEFAULT_RECEIPT_2025_RULES
