"""Byte ranges of the audio responses."""

from __future__ import annotations

import pytest

from bolletta.platform.portal.ranges import UnsatisfiableRange, parse_range


@pytest.mark.parametrize(("header", "expected"), [
    (None, None),
    ("bytes=0-", (0, 999)),
    ("bytes=10-19", (10, 19)),
    ("bytes=990-5000", (990, 999)),
    ("bytes=-100", (900, 999)),
    ("bytes=0-1,5-6", None),
    ("items=0-1", None),
    ("bytes=20-10", None),
])
def test_parse_range(header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=-0"])
def test_unsatisfiable(header: str) -> None:
    with pytest.raises(UnsatisfiableRange):
        parse_range(header, 1000)
