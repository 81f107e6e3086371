"""Checks a tenant's theme settings must pass before they are saved."""

from __future__ import annotations

import re

from bolletta.platform.i18n.message import T_, Text
from bolletta.tenants.config import TenantConfig
from bolletta.themes import HEX_COLOUR, WCAG_AA_NORMAL_TEXT, contrast_ratio
from bolletta.themes.fonts import FONTS
from bolletta.themes.sandbox import MAX_BLOCK_SOURCE_CHARS

PAGE_BACKGROUND = "#ffffff"
SECTIONS = ("sommario", "importi", "consumi", "dati")
PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{3,24}$")
"""A phone number as customers read it; the pages link it with ``tel:``."""


COLOUR_LABELS = {"primary_color": T_("main colour"), "accent_color": T_("accent colour"),
                 "text_on_primary": T_("text on the main colour")}
"""The name of each branding colour in problem texts. The ``field`` param still carries the setting's
name, because the settings editor reads it to place the problem."""


def theme_problems(config: TenantConfig) -> list[Text]:
    """Every reason the theme settings of ``config`` cannot be saved; empty when they can."""
    return list(theme_field_problems(config).values())


def theme_field_problems(config: TenantConfig) -> dict[str, Text]:
    """Return the problems of the theme settings by dotted setting name (``branding.accent_color``).

    Each setting gets its own problem, so a form can show all of them at once next to their fields.
    """
    branding, portal = config.branding, config.portal
    problems: dict[str, Text] = {}
    for name, label in COLOUR_LABELS.items():
        value = getattr(branding, name)
        if not HEX_COLOUR.match(value):
            problems[f"branding.{name}"] = T_("The {label} is {value}, which is not a colour such as #0b4f8a.",
                                              field=name, label=label, value=value)
    if not problems:
        pairs = (("text_on_primary", branding.text_on_primary, "primary_color", branding.primary_color),
                 ("primary_color", branding.primary_color, "page background", PAGE_BACKGROUND))
        for first_name, first, second_name, second in pairs:
            ratio = contrast_ratio(first, second)
            if ratio < WCAG_AA_NORMAL_TEXT:
                second_label = COLOUR_LABELS.get(second_name, T_("page background"))
                problems[f"branding.{first_name}"] = T_(
                    "The contrast between the {first_label} and the {second_label} is {ratio}:1, below the 4.5:1 "
                    "that WCAG AA requires. Choose a darker or lighter colour.", first=first_name,
                    second=second_name, first_label=COLOUR_LABELS[first_name], second_label=second_label,
                    ratio=f"{ratio:.2f}")
    if portal.font not in FONTS:
        problems["portal.font"] = T_("The font {font} is not one of {fonts}.", font=portal.font,
                                     fonts=", ".join(sorted(FONTS)))
    for slug, source in portal.blocks.items():
        if slug not in SECTIONS:
            problems[f"portal.blocks.{slug}"] = T_("A content block is set for {section}, which is not a section.",
                                                   section=slug)
        elif len(source) > MAX_BLOCK_SOURCE_CHARS:
            problems[f"portal.blocks.{slug}"] = T_("The content block of {section} is longer than {limit} characters.",
                                                   section=slug, limit=MAX_BLOCK_SOURCE_CHARS)
    problems |= _contact_problems(config)
    if portal.logo_url and not portal.logo_url.startswith("/"):
        problems["portal.logo_url"] = T_(
            "The logo must be a path on this site, such as /static/..., never another site's address.")
    return problems


def _contact_problems(config: TenantConfig) -> dict[str, Text]:
    """Check the links the pages build from the utility's contacts (``https:`` and ``tel:``)."""
    branding = config.branding
    problems: dict[str, Text] = {}
    if branding.website and not branding.website.startswith(("https://", "http://")):
        problems["branding.website"] = T_("The website {value} must start with https:// or http://.",
                                          value=branding.website[:200])
    if branding.support_phone and not PHONE.match(branding.support_phone):
        problems["branding.support_phone"] = T_("{value} is not a phone number such as +39 800 123 456.",
                                                value=branding.support_phone[:40])
    return problems


BRANDING_COLOURS = ("primary_color", "accent_color", "text_on_primary")


def problem_setting(problem: Text) -> str:
    """Return the dotted setting a problem of :func:`theme_problems` is shown next to.

    A contrast problem belongs to the colour written first in it (``text_on_primary`` on
    ``primary_color`` is shown at ``branding.text_on_primary``), so each colour field shows its own.
    """
    params = problem.params
    name = params.get("field") or params.get("first")
    if isinstance(name, str) and name in BRANDING_COLOURS:
        return f"branding.{name}"
    if "website" in problem.msgid:
        return "branding.website"
    if "phone" in problem.msgid:
        return "branding.support_phone"
    if "font" in problem.msgid:
        return "portal.font"
    if "logo" in problem.msgid:
        return "portal.logo_url"
    if "content block" in problem.msgid and isinstance(params.get("section"), str):
        return f"portal.blocks.{params['section']}"
    return "branding.primary_color"
