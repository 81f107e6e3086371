"""Customer-page themes: the base theme's files, the fonts tenants may pick, and colour contrast checks.

The base theme is ``bolletta/themes/base`` (templates, static files, catalogs, the PDF layout). A
tenant overrides its logo, colours, font, section order and visibility, extra links and content
blocks through ``TenantConfig.portal`` and ``TenantConfig.branding``.
"""

from __future__ import annotations

import re

THEMES_DIR = __import__("pathlib").Path(__file__).resolve().parent
BASE_THEME = THEMES_DIR / "base"

WCAG_AA_NORMAL_TEXT = 4.5
"""WCAG 2.1 AA minimum contrast for body text (success criterion 1.4.3)."""
HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def _channel(value: int) -> float:
    scaled = value / 255
    return scaled / 12.92 if scaled <= 0.03928 else ((scaled + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG relative luminance of a ``#rgb`` or ``#rrggbb`` colour."""
    if not HEX_COLOUR.match(colour):
        raise ValueError(f"{colour!r} is not a CSS hex colour such as #0b4f8a")
    digits = colour[1:]
    if len(digits) == 3:
        digits = "".join(char * 2 for char in digits)
    red, green, blue = (int(digits[index:index + 2], 16) for index in (0, 2, 4))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours, from 1 (same) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
