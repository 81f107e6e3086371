"""Reading of a FatturaPA body's lines: cost summary, supply point, consumption and period."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from lxml import etree

from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.ingest.cost_categories import (
    CONSUMPTION_CATEGORY,
    DEFAULT_COST_RULES,
    RECEIPT_2025,
    RECEIPT_2025_CONSUMPTION_CATEGORY,
    RECEIPT_2025_QUOTAS,
    SUMMARY_2016,
    CostRule,
    classify_cost,
    classify_part,
    split_category,
)
from bolletta.platform.ingest.fatturapa_values import date_value, decimal_value
from bolletta.platform.ingest.records import CostLine
from bolletta.platform.ingest.safe_xml import child_elements, first_children, stripped_text

DEFAULT_SUPPLY_ADDRESS_TYPES = ("Ind.POD", "Ind.PDR")
"""``AltriDatiGestionali/TipoDato`` values whose ``RiferimentoTesto`` is the supply address."""

_UNITS = {"kwh": "kWh", "smc": "Smc", "m3": "m3", "mc": "m3", "m³": "m3"}
"""Consumption units by lower-case spelling, to their normalized form."""

_SERVICE_BY_UNIT = {"kWh": "electricity", "Smc": "gas", "m3": "water"}


class LineSummary(msgspec.Struct, kw_only=True):
    """Bill data read from the lines of one body: costs, supply point, consumption and period."""

    costs: list[CostLine] = []
    pod: str | None = None
    pdr: str | None = None
    supply_address: str | None = None
    consumption: Decimal | None = None
    consumption_unit: str | None = None
    period_from: date | None = None
    period_to: date | None = None
    service: str | None = None
    warnings: list[Text] = []
    receipt_costs: list[dict[str, Any]] = []
    """Every cost in the shape of a JSON Lines ``costs`` item (``category``, ``part``, ``label``,
    decimal strings), in line order with the VAT last. It stays empty under ``summary_2016``."""


def normalize_unit(unit: str | None) -> str | None:
    """Return ``kWh``, ``Smc`` or ``m3`` for consumption units in any spelling, else ``unit``."""
    if unit is None:
        return None
    return _UNITS.get(unit.strip().lower().replace(" ", ""), unit.strip())


def read_lines(
    beni_servizi: etree._Element | None,
    *,
    cost_rules: Sequence[CostRule] = DEFAULT_COST_RULES,
    costs_layout: str = SUMMARY_2016,
    supply_address_types: Collection[str] = DEFAULT_SUPPLY_ADDRESS_TYPES,
) -> LineSummary:
    """Summarize the ``DettaglioLinee`` and ``DatiRiepilogo`` of ``DatiBeniServizi``.

    ``cost_rules`` must already be checked for ``costs_layout`` (see ``checked_cost_rules``).

    Raises:
        BodyError: an amount, quantity or date on a line is malformed.
    """
    summary = LineSummary()
    address_keys = _address_keys(supply_address_types)
    consumption: dict[str, Decimal] = {}
    starts: list[date] = []
    ends: list[date] = []
    sections = child_elements(beni_servizi)

    for position, line in enumerate(sections.get("DettaglioLinee", ()), start=1):
        label = f"DettaglioLinee {position}"
        line_children = child_elements(line)
        fields = {name: elements[0] for name, elements in line_children.items()}
        cost = _read_cost(fields, label, cost_rules)
        if cost is None:
            summary.warnings.append(
                T_("{line} has no PrezzoTotale and was left out of the cost summary.", line=label)
            )
        else:
            category, part = split_category(cost.category)
            cost.category = category
            summary.costs.append(cost)
            if costs_layout == RECEIPT_2025:
                part = _receipt_part(category, part, cost.label, label, summary)
                summary.receipt_costs.append(_receipt_cost(cost, part))
            counted = _is_consumption(category, part, costs_layout)
            if counted and cost.quantity is not None and cost.unit in _SERVICE_BY_UNIT:
                consumption[cost.unit] = consumption.get(cost.unit, Decimal(0)) + cost.quantity

        _read_supply_point(line_children.get("CodiceArticolo", ()), summary)
        if summary.supply_address is None:
            summary.supply_address = _supply_address(line_children.get("AltriDatiGestionali", ()), address_keys)
        if (start := _date_field(fields, "DataInizioPeriodo", label)) is not None:
            starts.append(start)
        if (end := _date_field(fields, "DataFinePeriodo", label)) is not None:
            ends.append(end)

    for position, riepilogo in enumerate(sections.get("DatiRiepilogo", ()), start=1):
        vat = _read_vat(riepilogo, f"DatiRiepilogo {position}")
        summary.costs.append(vat)
        if costs_layout == RECEIPT_2025:
            summary.receipt_costs.append(_receipt_cost(vat, None))

    _set_consumption(summary, consumption)
    summary.period_from = min(starts, default=None)
    summary.period_to = max(ends, default=None)
    summary.service = _service(summary)
    return summary


def _read_cost(fields: dict[str, etree._Element], label: str, rules: Sequence[CostRule]) -> CostLine | None:
    """Read the cost of a line from its ``first_children``."""
    amount = _decimal_field(fields, "PrezzoTotale", label)
    if amount is None:
        return None
    description = stripped_text(fields.get("Descrizione")) or ""
    return CostLine(
        category=_classify(description, rules),
        label=description,
        amount=amount,
        quantity=_decimal_field(fields, "Quantita", label),
        unit=normalize_unit(stripped_text(fields.get("UnitaMisura"))),
        unit_price=_decimal_field(fields, "PrezzoUnitario", label),
    )


_classified: tuple[Sequence[CostRule], dict[str, str]] = ((), {})
"""The rules last classified with, and the category of each description seen with them."""
CLASSIFIED_MAX = 4096
"""Descriptions remembered for one rule table. A full memo is emptied and filled again."""


def _classify(description: str, rules: Sequence[CostRule]) -> str:
    """Return :func:`classify_cost`, remembered per description while the same rule table is used.

    Bills repeat the same few descriptions, and one rule table serves a whole flow. Only a tuple of
    rules is remembered: ``checked_cost_rules`` returns a tuple of string pairs, which cannot change
    between calls. The memo keeps a reference to the table, so no other table can get its id.
    """
    global _classified
    if not isinstance(rules, tuple):
        return classify_cost(description, rules)
    memo_rules, memo = _classified
    if memo_rules is not rules or len(memo) >= CLASSIFIED_MAX:
        memo = {}
        _classified = (rules, memo)
    category = memo.get(description)
    if category is None:
        category = memo[description] = classify_cost(description, rules)
    return category


def _decimal_field(fields: dict[str, etree._Element], name: str, label: str) -> Decimal | None:
    return decimal_value(stripped_text(fields.get(name)), (name,), label=label)


def _date_field(fields: dict[str, etree._Element], name: str, label: str) -> date | None:
    return date_value(stripped_text(fields.get(name)), (name,), label=label)


def _is_consumption(category: str, part: str | None, costs_layout: str) -> bool:
    """Tell whether a line's quantity is the consumption, never a repeat of it."""
    if costs_layout == RECEIPT_2025:
        # The network part of the consumption quota repeats the kWh or Smc of the sale part.
        return category == RECEIPT_2025_CONSUMPTION_CATEGORY and part == "sale"
    return category == CONSUMPTION_CATEGORY


def _receipt_part(category: str, part: str | None, description: str, label: str, summary: LineSummary) -> str | None:
    """Return the part of a ``receipt_2025`` quota line, or ``None`` for other categories."""
    if category not in RECEIPT_2025_QUOTAS:
        return None
    part = part or classify_part(description)
    if part is None:
        summary.warnings.append(T_(
            "{line} is a {category} cost, but its description names neither the sale nor the network and "
            "system charges part, so the part is left empty. Add a cost rule such as {category}/sale "
            "for this wording.",
            line=label, category=category,
        ))
    return part


def _receipt_cost(cost: CostLine, part: str | None) -> dict[str, Any]:
    """Return ``cost`` with its part as a JSON Lines ``costs`` item, leaving out empty fields."""
    item: dict[str, Any] = {"category": cost.category, "part": part, "label": cost.label, "amount": str(cost.amount)}
    item["quantity"] = None if cost.quantity is None else str(cost.quantity)
    item["unit"] = cost.unit
    item["unit_price"] = None if cost.unit_price is None else str(cost.unit_price)
    return {key: value for key, value in item.items() if value is not None}


def _read_vat(riepilogo: etree._Element, label: str) -> CostLine:
    # The VAT amount is Imposta as sent, never recomputed from the taxable amount and the rate.
    fields = first_children(riepilogo)
    rate = stripped_text(fields.get("AliquotaIVA")) or "0.00"
    nature = stripped_text(fields.get("Natura"))
    return CostLine(
        category="vat",
        label=f"IVA {rate}%" + (f" ({nature})" if nature else ""),
        amount=_decimal_field(fields, "Imposta", label) or Decimal("0.00"),
    )


def _read_supply_point(codes: Sequence[etree._Element], summary: LineSummary) -> None:
    """Read the POD or PDR from a line's ``CodiceArticolo`` elements."""
    for code in codes:
        fields = first_children(code)
        kind = (stripped_text(fields.get("CodiceTipo")) or "").upper()
        value = stripped_text(fields.get("CodiceValore"))
        if value is None or kind not in ("POD", "PDR"):
            continue
        current = summary.pod if kind == "POD" else summary.pdr
        if current is None:
            if kind == "POD":
                summary.pod = value
            else:
                summary.pdr = value
        elif current != value:
            message = T_(
                "The lines name more than one {kind} ({first}, {second}), so the bill shows {first}. "
                "Check the bill before approval.",
                kind=kind,
                first=current,
                second=value,
            )
            if message not in summary.warnings:
                summary.warnings.append(message)


def _supply_address(other_data: Sequence[etree._Element], address_keys: frozenset[str]) -> str | None:
    """Return the address of the first ``AltriDatiGestionali`` whose ``TipoDato`` is an address type."""
    for data in other_data:
        fields = first_children(data)
        if _type_key(stripped_text(fields.get("TipoDato")) or "") in address_keys:
            # RiferimentoTesto holds up to 60 characters and is kept whole, never cut.
            found = fields.get("RiferimentoTesto")
            if found is not None and found.text and found.text.strip():
                return found.text.strip()
    return None


def _address_keys(supply_address_types: Collection[str]) -> frozenset[str]:
    if isinstance(supply_address_types, tuple):
        return _address_keys_of_tuple(supply_address_types)
    return frozenset(_type_key(value) for value in supply_address_types)


@functools.lru_cache(maxsize=64)
def _address_keys_of_tuple(supply_address_types: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_type_key(value) for value in supply_address_types)


def _type_key(value: str) -> str:
    """Compare ``TipoDato`` values ignoring case, dots, spaces, dashes and underscores."""
    return "".join(ch for ch in value.casefold() if ch.isalnum())


def _set_consumption(summary: LineSummary, consumption: dict[str, Decimal]) -> None:
    if not consumption:
        return
    unit = next(iter(consumption))
    if len(consumption) > 1:
        summary.warnings.append(
            T_(
                "Supply lines are billed in more than one unit ({units}), so the consumption shown is "
                "the one in {unit}.",
                units=", ".join(consumption),
                unit=unit,
            )
        )
    summary.consumption = consumption[unit]
    summary.consumption_unit = unit


def _service(summary: LineSummary) -> str | None:
    if summary.pod:
        return "electricity"
    if summary.pdr:
        return "gas"
    for cost in summary.costs:
        if cost.unit in _SERVICE_BY_UNIT:
            return _SERVICE_BY_UNIT[cost.unit]
    return None
