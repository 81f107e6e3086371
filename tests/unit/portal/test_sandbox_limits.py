"""The template sandbox stops expressions that would build a huge value before they run."""

from __future__ import annotations

import pytest
from jinja2.sandbox import SecurityError

from bolletta.themes.sandbox import BlockLimitExceeded, render_text


@pytest.mark.parametrize("source", [
    "{{ 'x' * 10**9 }}",
    "{{ 10**9 * 'x' }}",
    "{{ [1] * 10**9 }}",
    "{{ 7 ** 100000 }}",
    "{{ '%999999999d' % 1 }}",
    "{{ '%*d' % (999999999, 1) }}",
    "{{ '{:>999999999}'.format('x') }}",
    "{{ '{:{w}}'.format('x', w=999999999) }}",
    "{{ '%999999999d' | format(1) }}",
    "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
])
def test_huge_value_stopped(source: str) -> None:
    with pytest.raises(BlockLimitExceeded):
        render_text(source, {}, autoescape=True)


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
])
def test_escape_attempt_rejected(source: str) -> None:
    with pytest.raises(SecurityError):
        render_text(source, {}, autoescape=True)


def test_small_values_still_render() -> None:
    source = "{{ 'ab' * 3 }} {{ 2 ** 10 }} {{ '%05.1f' % 3.14 }} {{ '{:>4}'.format('x') }} {{ '%s' | format(1) }}"

    assert render_text(source, {}) == "ababab 1024 003.1    x 1"
