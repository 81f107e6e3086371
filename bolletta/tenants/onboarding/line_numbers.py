"""Line numbers of the problems of one line of a textarea, as the person typing counts them.

A check sees the non-blank lines as a list, so ``test_recipients.3`` is the third non-blank line.
The page counts every line, blank ones too, so the number shown must be that line's place in the
textarea as typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

Problem = TypeVar("Problem")


def typed_line_numbers(problems: Mapping[str, Problem], typed: Mapping[str, str]) -> dict[str, Problem]:
    """Renumber the line problems (``name.N``, N counting non-blank lines) to the line numbers of ``typed[name]``.

    A problem whose input was not submitted, or whose number is past the last non-blank line, keeps its key.
    """
    renumbered: dict[str, Problem] = {}
    for key, problem in problems.items():
        name, _, index = key.rpartition(".")
        raw = typed.get(name)
        if name and index.isdigit() and raw is not None:
            numbers = [number for number, line in enumerate(raw.splitlines(), start=1) if line.strip()]
            position = int(index)
            if 1 <= position <= len(numbers):
                key = f"{name}.{numbers[position - 1]}"
        renumbered[key] = problem
    return renumbered


def line_problems(problems: Mapping[str, Problem]) -> dict[str, list[tuple[int, Problem]]]:
    """Group the problems of single lines (``test_recipients.2``) by the input they belong to."""
    grouped: dict[str, list[tuple[int, Problem]]] = {}
    for key, problem in problems.items():
        name, _, line = key.rpartition(".")
        if name and line.isdigit():
            grouped.setdefault(name, []).append((int(line), problem))
    return grouped
