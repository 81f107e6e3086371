"""Classification of bill lines into the regulated cost summary categories by their description.

The table is ordered and the first keyword found in the description wins, so specific wording comes
before generic wording: "Ricalcolo spesa per la materia energia" is a recalculation, and "Spesa per
trasporto, gestione contatore e oneri sistema" is transport and meter, not system charges. A tenant
may set its own table (``TenantConfig.cost_rules``), which replaces the default one whole.

Two layouts of categories exist. ``summary_2016`` is the regulated cost summary of bills before July
2025, and ``receipt_2025`` the receipt-style layout for electricity and gas bills from then on, whose
quota categories are split into a ``sale`` and a ``network_system`` part. Each layout has its own
default table. The names are those of the JSON Lines flow
(:mod:`bolletta.platform.ingest.flow_schema`), so FatturaPA and JSON Lines bills share them.

The default follows the summary headings ARERA prescribes for electricity and gas bills ("Spesa per
la materia energia", "Spesa per la materia gas naturale", "Spesa per il trasporto e la gestione del
contatore", "Spesa per oneri di sistema", "Imposte", "Ricalcoli", "Altre partite", "Bonus sociale",
"Canone di abbonamento alla televisione per uso privato") and for water bills (the acquedotto,
fognatura and depurazione services, the perequation components UI1 to UI4, "Bonus sociale idrico").
Only ``supply`` lines give the consumption: transport, excise, sewerage and treatment lines repeat
the same kWh, Smc or m³ and must not be added again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

CostRule = tuple[str, str]
"""A lower-case keyword searched in the description, and the category it selects."""

DEFAULT_CATEGORY = "other"

CATEGORIES = frozenset(
    {
        "supply",
        "transport_meter",
        "system_charges",
        "excise",
        "vat",
        "sewerage",
        "wastewater_treatment",
        "recalculation",
        "social_bonus",
        "tv_licence",
        "other",
    }
)
"""Every category a line can fall in. ``supply`` is the energy, gas or water itself, and ``vat``
comes only from ``DatiRiepilogo``; ``sewerage`` and ``wastewater_treatment`` are water services."""

CONSUMPTION_CATEGORY = "supply"

DEFAULT_COST_RULES: tuple[CostRule, ...] = (
    # Corrections and bonuses first: their descriptions repeat the name of what they correct.
    ("ricalcol", "recalculation"),
    ("conguagli", "recalculation"),
    ("bonus", "social_bonus"),
    ("canone rai", "tv_licence"),
    ("canone tv", "tv_licence"),
    ("canone di abbonamento alla televisione", "tv_licence"),
    ("canone televisi", "tv_licence"),
    # Transport before system charges, for the combined heading some sellers print.
    ("trasporto", "transport_meter"),
    ("gestione del contatore", "transport_meter"),
    ("gestione contatore", "transport_meter"),
    ("servizi di rete", "transport_meter"),
    ("oneri di sistema", "system_charges"),
    ("oneri sistema", "system_charges"),
    ("oneri generali", "system_charges"),
    # Water perequation components (UI1 to UI4) are billed on the m³ of the acquedotto lines.
    ("perequa", "system_charges"),
    ("componente ui", "system_charges"),
    ("componenti ui", "system_charges"),
    ("accis", "excise"),
    ("imposta erariale", "excise"),
    ("imposte erariali", "excise"),
    ("imposta di consumo", "excise"),
    ("addizional", "excise"),
    ("imposte", "excise"),
    ("materia energia", "supply"),
    ("materia gas", "supply"),
    ("materia prima", "supply"),
    ("servizio di vendita", "supply"),
    ("servizi di vendita", "supply"),
    # A combined water heading names acquedotto first, and its m³ are the consumption.
    ("acquedott", "supply"),
    ("servizio idrico", "supply"),
    ("servizi idrici", "supply"),
    ("fognatur", "sewerage"),
    ("depurazion", "wastewater_treatment"),
    # A bare "canone" comes after the water words, which also appear as "canone fognatura".
    ("canone", "tv_licence"),
)


def classify_cost(description: str, rules: Sequence[CostRule] = DEFAULT_COST_RULES) -> str:
    """Return the category of the first rule whose keyword occurs in ``description``."""
    normalized = " ".join(description.casefold().split())
    for keyword, category in rules:
        if keyword in normalized:
            return category
    return DEFAULT_CATEGORY


SUMMARY_2016 = "summary_2016"
RECEIPT_2025 = "receipt_2025"
COSTS_LAYOUTS = (SUMMARY_2016, RECEIPT_2025)

RECEIPT_2025_QUOTAS = frozenset({"consumption_quota", "fixed_quota", "power_quota"})
"""Categories of ``receipt_2025`` that are split into a ``sale`` and a ``network_system`` part."""

RECEIPT_2025_CATEGORIES = RECEIPT_2025_QUOTAS | frozenset(
    {
        "excise",
        "vat",
        "social_bonus",
        "tv_licence",
        "recalculation",
        "late_interest",
        "additional_services",
        "other",
    }
)
"""Every category a line can fall in under ``receipt_2025``."""
# NOTE: the receipt_2025 names and keywords were not checked against ARERA's resolution on the
# receipt-style bill, nor against real bills in that layout. Check them before a tenant relies on them.

RECEIPT_2025_CONSUMPTION_CATEGORY = "consumption_quota"

COST_PARTS = ("sale", "network_system")

DEFAULT_RECEIPT_2025_RULES: tuple[CostRule, ...] = (
    # Corrections and bonuses first: their descriptions repeat the name of what they correct.
    ("ricalcol", "recalculation"),
    ("conguagli", "recalculation"),
    ("bonus", "social_bonus"),
    ("canone rai", "tv_licence"),
    ("canone tv", "tv_licence"),
    ("canone di abbonamento alla televisione", "tv_licence"),
    ("canone televisi", "tv_licence"),
    ("interessi di mora", "late_interest"),
    ("interessi moratori", "late_interest"),
    ("interessi per ritardato pagamento", "late_interest"),
    ("quota consumi", "consumption_quota"),
    ("quota variabile", "consumption_quota"),
    ("quota fissa", "fixed_quota"),
    ("quota potenza", "power_quota"),
    ("accis", "excise"),
    ("imposta erariale", "excise"),
    ("imposte erariali", "excise"),
    ("imposta di consumo", "excise"),
    ("addizional", "excise"),
    ("imposte", "excise"),
    ("servizi aggiuntivi", "additional_services"),
    ("servizi accessori", "additional_services"),
    ("servizio aggiuntivo", "additional_services"),
)
"""Default table of ``receipt_2025``, for headings such as "Quota consumi – vendita", "Quota fissa –
rete e oneri" and "Quota potenza"."""

PART_RULES: tuple[CostRule, ...] = (
    # Sale words first, because a sale line may still mention "oneri" ("oneri di commercializzazione").
    ("vendita", "sale"),
    ("commercializzazione", "sale"),
    ("materia", "sale"),
    ("rete", "network_system"),
    ("oneri", "network_system"),
    ("trasporto", "network_system"),
    ("distribuzione", "network_system"),
    ("gestione del contatore", "network_system"),
)
"""Keywords that give the part of a quota line whose rule names no part, the first match winning."""


def default_cost_rules(layout: str) -> tuple[CostRule, ...]:
    """Return the default keyword table of ``layout``."""
    return DEFAULT_RECEIPT_2025_RULES if layout == RECEIPT_2025 else DEFAULT_COST_RULES


def split_category(category: str) -> tuple[str, str | None]:
    """Split a rule's category into the category and the part it fixes (``fixed_quota/sale``)."""
    name, _, part = category.partition("/")
    return name, part or None


def classify_part(description: str) -> str | None:
    """Return ``sale`` or ``network_system`` for a quota line's description, or ``None`` when unknown."""
    part = classify_cost(description, PART_RULES)
    return None if part == DEFAULT_CATEGORY else part


def layout_of_rules(rules: Iterable[Sequence[str]]) -> str:
    """Return ``receipt_2025`` when a tenant's table uses a quota category, else ``summary_2016``.

    This lets a tenant choose the layout through its ``cost_rules`` alone.
    """
    for rule in rules:
        if not isinstance(rule, str) and len(rule) == 2 and split_category(str(rule[1]))[0] in RECEIPT_2025_QUOTAS:
            return RECEIPT_2025
    return SUMMARY_2016


def checked_costs_layout(layout: str) -> str:
    """Return ``layout`` after checking it names a known layout.

    Raises:
        ValueError: ``layout`` is not ``summary_2016`` or ``receipt_2025``. This is a tenant
            configuration error.
    """
    if layout not in COSTS_LAYOUTS:
        raise ValueError(f"costs_layout is {layout!r}; use one of {', '.join(COSTS_LAYOUTS)}")
    return layout


def checked_cost_rules(rules: Iterable[Sequence[str]], layout: str = SUMMARY_2016) -> tuple[CostRule, ...]:
    """Return a tenant's keyword table normalized for :func:`classify_cost`, or the default when empty.

    Keywords are lower-cased and their spaces collapsed, as descriptions are before matching. Under
    ``receipt_2025`` a quota category may fix its part after a slash (``fixed_quota/network_system``);
    without one, the part comes from :data:`PART_RULES`.

    Raises:
        ValueError: a rule is not a keyword and a category, a keyword is empty, or a category is
            not one of the layout's categories. This is a tenant configuration error.
    """
    checked_costs_layout(layout)
    allowed = _allowed_categories(layout)
    checked: list[CostRule] = []
    for position, rule in enumerate(rules, start=1):
        if isinstance(rule, str) or len(rule) != 2:
            raise ValueError(f"cost rule {position} is {rule!r}; write it as [keyword, category]")
        keyword = " ".join(str(rule[0]).casefold().split())
        category = str(rule[1])
        if not keyword:
            raise ValueError(f"cost rule {position} has an empty keyword")
        if category not in allowed:
            raise ValueError(
                f"cost rule {position} has the category {category!r}, which the {layout} layout does not "
                f"have; use one of {', '.join(sorted(allowed))}"
            )
        checked.append((keyword, category))
    return tuple(checked) or default_cost_rules(layout)


def _allowed_categories(layout: str) -> frozenset[str]:
    if layout == SUMMARY_2016:
        return CATEGORIES
    with_parts = {f"{quota}/{part}" for quota in RECEIPT_2025_QUOTAS for part in COST_PARTS}
    return RECEIPT_2025_CATEGORIES | with_parts
