"""The template sandbox stops expressions that would build a huge value before they run."""

from __future__ import annotations

import time
import tracemalloc

import pytest
from jinja2 import Template
from jinja2.sandbox import SecurityError

from bolletta.platform.i18n.message import render
from bolletta.themes import sandbox
from bolletta.themes.sandbox import (
    MAX_BLOCK_OUTPUT_CHARS,
    MAX_CALL_DEPTH,
    MAX_SOURCE_CHARS,
    BlockLimitExceeded,
    render_block,
    render_text,
)
from bolletta.themes.template_problems import template_problem

HUGE = 10**8
"""A width or count that would allocate about 100 MB if the sandbox let the value be built."""


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


@pytest.mark.parametrize("source", [
    f"{{{{ 'x'.ljust({HUGE}) }}}}",
    f"{{{{ 'x'.rjust({HUGE}) }}}}",
    f"{{{{ 'x'.center({HUGE}) }}}}",
    f"{{{{ 'x'.zfill({HUGE}) }}}}",
    f"{{{{ 'x'.encode().ljust({HUGE}) }}}}",
    f"{{{{ ('\t' * 100).expandtabs({HUGE // 100}) }}}}",
    "{{ ('x' * 20000).replace('x', 'y' * 5000) }}",
    f"{{{{ 'x' | center({HUGE}) }}}}",
    "{{ ('a\n' * 5000) | indent(20000) }}",
    "{{ ('a ' * 10000) | wordwrap(1, wrapstring='y' * 5000) }}",
    "{{ ('x' * 20000) | replace('x', 'y' * 5000) }}",
    "{{ range(10000) | join('x' * 10000) }}",
    "{{ ('y' * 10000).join(range(10000) | map('string')) }}",
    "{{ [1] | batch(1000000, 'x') | list }}",
    "{{ [] | slice(1000000) | list }}",
    f"{{{{ [1] | tojson({HUGE}) }}}}",
    "{{ [[1] * 1000] * 1000 | sum(start=[]) }}",
    f"{{{{ range({HUGE}) | list }}}}",
    f"{{{{ [1, 2] * {HUGE} }}}}",
    "{% set a = 'x' * 20000 %}{% set a = a ~ a ~ a ~ a %}{% set a = a ~ a ~ a ~ a %}{% set a = a ~ a ~ a ~ a %}"
    "{% set a = a ~ a ~ a ~ a %}{{ a | length }}",
    "{% set a = 'x' * 20000 %}{% set a = a + a + a + a %}{% set a = a + a + a + a %}{% set a = a + a + a + a %}"
    "{% set a = a + a + a + a %}{{ a | length }}",
    f"{{{{ '{{:>{HUGE}}}'.format(1) }}}}",
    f"{{{{ '%{HUGE}d' % 1 }}}}",
])
def test_size_arguments_refused_before_allocating(source: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(BlockLimitExceeded) as refused:
            render_text(source, {}, autoescape=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert refused.value.kind == "size"
    assert peak < 5_000_000, f"{source} allocated {peak} bytes before it was refused"


def test_lipsum_is_not_offered() -> None:
    assert render_text("{{ lipsum is defined }}", {}) == "False"


def test_size_checked_methods_and_filters_still_work() -> None:
    source = ("{{ 'ab'.ljust(4, '.') }}|{{ '7'.zfill(3) }}|{{ 'a-b'.replace('-', '+') }}|{{ ', '.join(['x', 'y']) }}|"
              "{{ 'x' | center(3) }}|{{ [1, 2] | join('-') }}|{{ 'a b' | replace(' ', '_') }}|{{ [1, 2] | sum }}|"
              "{{ 'a' ~ 'b' }}|{{ 'a' + 'b' }}|{{ range(3) | list | length }}|{{ 'a\tb'.expandtabs(2) }}")

    assert render_text(source, {}) == "ab..|007|a+b|x, y| x |1-2|a_b|3|ab|ab|3|a b"


@pytest.mark.parametrize("source", [
    "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}",
    "{% macro a(n) %}{{ b(n) }}{% endmacro %}{% macro b(n) %}{{ a(n) }}{% endmacro %}{{ a(0) }}",
    "{{ " + "(" * 1500 + "1" + ")" * 1500 + " }}",
])
def test_endless_recursion_is_a_limit_not_a_crash(source: str) -> None:
    with pytest.raises(BlockLimitExceeded) as refused:
        render_text(source, {}, strict=True)

    assert refused.value.kind == "depth"
    assert str(render_block(source, {})) == ""


def test_macros_may_nest_a_little() -> None:
    source = ("{% macro count(n) %}{% if n > 0 %}{{ n }}{{ count(n - 1) }}{% endif %}{% endmacro %}"
              f"{{{{ count({MAX_CALL_DEPTH // 4}) }}}}")

    assert render_text(source, {}).startswith("10987654321")


def test_nested_loops_writing_nothing_stopped() -> None:
    source = ("{% set numbers = range(5000) | list %}"
              "{% for a in numbers %}{% for b in numbers %}{% for c in numbers %}{% endfor %}{% endfor %}{% endfor %}")

    with pytest.raises(BlockLimitExceeded) as stopped:
        render_text(source, {})

    assert stopped.value.kind == "time"


@pytest.mark.parametrize("source", [
    "{% set l = range(10000) | map('string') | map('center', 19000) | list %}{{ l | length }}",
    "{% set a = 'x' * 19000 %}{% set l = range(10000) | map('string') | map('replace', '5', a, 1) | list %}"
    "{{ l | length }}",
])
def test_filter_mapped_over_range_stopped(source: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(BlockLimitExceeded) as refused:
            render_text(source, {})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert refused.value.kind in ("size", "time")  # the budget, or on a slow machine the time limit, stops it
    assert peak < 20_000_000, f"{source} allocated {peak} bytes before it was refused"


def test_render_budget_starts_again_for_each_render() -> None:
    source = "{% set a = 'x' * 19000 %}{% for i in range(50) %}{{ a.upper() | length }}{% endfor %}"

    for _ in range(3):
        assert render_text(source, {}, max_chars=MAX_BLOCK_OUTPUT_CHARS).startswith("19000")


def test_long_source_rejected_before_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[str] = []
    monkeypatch.setattr(sandbox, "_compiled", lambda source, *args: compiled.append(source))
    source = "<p>{{ utility }}</p>" * (MAX_SOURCE_CHARS // 20 + 1)

    with pytest.raises(BlockLimitExceeded) as refused:
        render_text(source, {"utility": "ACME"})

    assert refused.value.kind == "source"
    assert compiled == []
    assert "supera i 20000 caratteri" in render(template_problem(refused.value, ["utility"]), "it")


def test_compile_time_outside_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    compile_source = sandbox._compiled

    def slow_compile(source: str, autoescape: bool, strict: bool) -> Template:
        time.sleep(sandbox.MAX_RENDER_SECONDS * 3)
        return compile_source(source, autoescape, strict)

    monkeypatch.setattr(sandbox, "_compiled", slow_compile)

    assert render_text("{% for i in range(3) %}{{ i }}{% endfor %}", {}) == "012"
