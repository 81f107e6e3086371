"""Random base62 identifiers: length, alphabet and an even spread of characters."""

from __future__ import annotations

from collections import Counter

import pytest

from bolletta.platform.tokens import BASE62_ALPHABET, is_base62, random_base62


@pytest.mark.parametrize("length", [1, 20, 22, 64])
def test_token_length_and_alphabet(length: int) -> None:
    token = random_base62(length)

    assert len(token) == length
    assert set(token) <= set(BASE62_ALPHABET)


def test_tokens_differ() -> None:
    assert len({random_base62() for _ in range(1000)}) == 1000


def test_characters_evenly_spread() -> None:
    counts = Counter("".join(random_base62() for _ in range(20_000)))
    expected = 20_000 * 22 / 62  # about 7,097 per character

    assert set(counts) == set(BASE62_ALPHABET)
    # Seven standard deviations (about 84 each) either side: a biased mapping such as byte % 62 over
    # all 256 byte values gives each of the first eight characters about 1,500 too many.
    assert all(abs(count - expected) < 600 for count in counts.values())


def test_shape_check() -> None:
    assert is_base62(random_base62())
    assert not is_base62(random_base62()[:-1] + "-")
