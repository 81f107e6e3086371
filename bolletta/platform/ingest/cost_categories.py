"""Classification of bill lines into the regulated cost summary categories by their description.

The table is ordered and the first keyword found in the description wins, so specific wording comes
before generic wording: "Ricalcolo spesa per la materia energia" is a recalculation, and "Spesa per
trasporto, gestione contatore e oneri sistema" is transport and meter, not system charges. Tenants
may pass their own table; the default follows the usual ARERA wording of electricity, gas and water
bills.
"""

from __future__ import annotations

from collections.abc import Sequence

CostRule = tuple[str, str]
"""A lower-case keyword searched in the description, and the category it selects."""

DEFAULT_CATEGORY = "other"

DEFAULT_COST_RULES: tuple[CostRule, ...] = (
    ("ricalcol", "recalculation"),
    ("conguagli", "recalculation"),
    ("bonus", "social_bonus"),
    ("canone rai", "tv_licence"),
    ("canone tv", "tv_licence"),
    ("canone televisi", "tv_licence"),
    ("trasporto", "transport_meter"),
    ("gestione del contatore", "transport_meter"),
    ("gestione contatore", "transport_meter"),
    ("oneri di sistema", "system_charges"),
    ("oneri sistema", "system_charges"),
    ("oneri generali", "system_charges"),
    ("accis", "excise"),
    ("imposta erariale", "excise"),
    ("imposte erariali", "excise"),
    ("addizional", "excise"),
    ("imposte", "excise"),
    ("materia energia", "supply"),
    ("materia gas", "supply"),
    ("materia prima", "supply"),
    ("servizio idrico", "supply"),
    ("servizi idrici", "supply"),
    ("acquedott", "supply"),
    ("fognatur", "supply"),
    ("depurazion", "supply"),
    ("quota energia", "supply"),
    ("quota consum", "supply"),
    # A bare "canone" comes after the water service words, which also appear as "canone fognatura".
    ("canone", "tv_licence"),
)


def classify_cost(description: str, rules: Sequence[CostRule] = DEFAULT_COST_RULES) -> str:
    """Return the category of the first rule whose keyword occurs in ``description``."""
    normalized = " ".join(description.casefold().split())
    for keyword, category in rules:
        if keyword in normalized:
            return category
    return DEFAULT_CATEGORY
