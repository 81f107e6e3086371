"""Classification of bill lines into the regulated cost summary categories by their description.

The table is ordered and the first keyword found in the description wins, so specific wording comes
before generic wording: "Ricalcolo spesa per la materia energia" is a recalculation, and "Spesa per
trasporto, gestione contatore e oneri sistema" is transport and meter, not system charges. A tenant
may set its own table (``TenantConfig.cost_rules``), which replaces the default one whole.

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


def checked_cost_rules(rules: Iterable[Sequence[str]]) -> tuple[CostRule, ...]:
    """Return a tenant's keyword table normalized for :func:`classify_cost`, or the default when empty.

    Keywords are lower-cased and their spaces collapsed, as descriptions are before matching.

    Raises:
        ValueError: a rule is not a keyword and a category, a keyword is empty, or a category is
            not one of ``CATEGORIES``. This is a tenant configuration error.
    """
    checked: list[CostRule] = []
    for position, rule in enumerate(rules, start=1):
        if isinstance(rule, str) or len(rule) != 2:
            raise ValueError(f"cost rule {position} is {rule!r}; write it as [keyword, category]")
        keyword = " ".join(str(rule[0]).casefold().split())
        category = str(rule[1])
        if not keyword:
            raise ValueError(f"cost rule {position} has an empty keyword")
        if category not in CATEGORIES:
            raise ValueError(
                f"cost rule {position} has the category {category!r}; use one of {', '.join(sorted(CATEGORIES))}"
            )
        checked.append((keyword, category))
    return tuple(checked) or DEFAULT_COST_RULES
