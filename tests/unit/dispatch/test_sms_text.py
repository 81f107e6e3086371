"""SMS encoding, part count and the AGCOM alias rules."""

from __future__ import annotations

import pytest

from bolletta.channels.sms import alias_problems, measure


@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts"),
    [
        ("", "gsm7", 0, 0),
        ("a" * 160, "gsm7", 160, 1),
        ("a" * 161, "gsm7", 161, 2),
        ("a" * 306, "gsm7", 306, 2),
        ("a" * 307, "gsm7", 307, 3),
        ("è é ù ì ò à", "gsm7", 11, 1),
        ("€" * 80, "gsm7", 160, 1),
        ("€" * 81, "gsm7", 162, 2),
        ("ê", "ucs2", 1, 1),
        ("ê" * 70, "ucs2", 70, 1),
        ("ê" * 71, "ucs2", 71, 2),
        ("ê" * 134, "ucs2", 134, 2),
        ("😀", "ucs2", 2, 1),
    ],
)
def test_measure_counts_units_and_parts(text: str, encoding: str, units: int, parts: int) -> None:
    length = measure(text)
    assert length.encoding == encoding
    assert length.units == units
    assert length.parts == parts


def test_escape_pair_never_splits_across_parts() -> None:
    # 152 plain septets then '€' (2 septets) would straddle the 153-septet boundary.
    assert measure("a" * 152 + "€" + "a" * 10).parts == 2
    assert measure("a" * 152 + "€").units == 154


def test_one_foreign_character_switches_whole_text() -> None:
    assert measure("Bolletta pronta " * 5).encoding == "gsm7"
    assert measure("Bolletta pronta ✓ " * 5).encoding == "ucs2"


@pytest.mark.parametrize("alias", ["ACMEnergia", "Acme Luce", "ACME-GAS", "+393331234567"])
def test_valid_aliases(alias: str) -> None:
    assert alias_problems(alias) == []


@pytest.mark.parametrize(
    ("alias", "problem"),
    [
        ("ACMEnergiaSpA", "at most 11"),
        ("1ACME", "starts with a digit"),
        ("ACME!", "only letters"),
        ("", "empty"),
    ],
)
def test_invalid_aliases_name_the_rule(alias: str, problem: str) -> None:
    assert any(problem in text for text in alias_problems(alias))
