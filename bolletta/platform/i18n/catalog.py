"""gettext catalogs of the base theme, read from their ``.po`` files at start.

Message ids are English; ``it`` is the default language. The ``.po`` files are compiled in memory,
so a checkout and an installed wheel need no separate compile step.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parents[2] / "themes" / "base" / "locale"
DOMAIN = "bolletta"
SUPPORTED_LANGUAGES = ("it", "en")


@cache
def translations(language: str) -> NullTranslations:
    """Translations for ``language``; English ids pass through when no catalog exists."""
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.is_file():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def gettext(language: str, message: str) -> str:
    """``message`` translated into ``language``."""
    return translations(language).gettext(message)


def pgettext(language: str, context: str, message: str) -> str:
    """``message`` in gettext ``context`` translated into ``language``."""
    return str(translations(language).pgettext(context, message))
