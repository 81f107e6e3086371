"""Tenant themes: contrast checks, the font subset, and content blocks in the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from bolletta.platform.i18n.message import render
from bolletta.tenants.config import Branding, PortalSettings, TenantConfig
from bolletta.themes import contrast_ratio
from bolletta.themes.check import theme_problems
from bolletta.themes.fonts import woff2
from bolletta.themes.sandbox import MAX_BLOCK_OUTPUT_CHARS, render_block


def test_contrast_ratio_matches_wcag_examples() -> None:
    assert contrast_ratio("#000", "#fff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_default_and_demo_colours_pass() -> None:
    assert theme_problems(TenantConfig()) == []


@pytest.mark.parametrize(("branding", "expected"), [
    (Branding(primary_color="#ffee00", text_on_primary="#ffffff"),
     "between the text on the main colour and the main colour"),
    (Branding(primary_color="#dddddd", text_on_primary="#000000"), "between the main colour and the page background"),
    (Branding(primary_color="red"), "not a colour"),
])
def test_low_contrast_or_bad_colour_is_rejected(branding: Branding, expected: str) -> None:
    problems = [render(problem, "en") for problem in theme_problems(TenantConfig(branding=branding))]

    assert any(expected in problem for problem in problems), problems


def test_unknown_font_and_foreign_logo_are_rejected() -> None:
    config = TenantConfig(portal=PortalSettings(font="comic", logo_url="https://cdn.example.com/logo.png"))

    problems = [render(problem, "it") for problem in theme_problems(config)]

    assert len(problems) == 2


def test_font_is_a_small_latin_woff2(tmp_path: Path) -> None:
    content = woff2("source-sans", tmp_path)

    assert content[:4] == b"wOF2"
    assert len(content) < 40_000
    assert woff2("source-sans", tmp_path) == content  # from the cache


def test_block_sees_plain_data_and_is_escaped() -> None:
    html = render_block("<p>{{ customer_name }} – {{ amount_due }}</p>", {"customer_name": "<b>Maria</b>",
                                                                         "amount_due": "12,00 €"})

    assert str(html) == "<p>&lt;b&gt;Maria&lt;/b&gt; – 12,00 €</p>"


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}",
    "{{ 'x' * 100000 }}",
    "{% for i in range(3) %}{{ undefined_call() }}{% endfor %}",
])
def test_hostile_blocks_render_nothing(source: str) -> None:
    assert str(render_block(source, {})) == ""


def test_output_limit() -> None:
    fits = "{{ 'x' * " + str(MAX_BLOCK_OUTPUT_CHARS - 10) + " }}"

    assert len(render_block(fits, {})) == MAX_BLOCK_OUTPUT_CHARS - 10
