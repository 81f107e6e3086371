"""Fonts a tenant may choose for its customer pages, served by us from installed packages.

``system`` uses the device's own sans-serif font and downloads nothing. Other fonts come from a
PyPI package resolved when the project is installed (never from a font CDN, and never committed):
the regular face is subset to the Latin characters Italian and the other Latin-script page
languages need, converted to WOFF2 once, and cached in the data directory. Arabic text falls back
to the device's font.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from pathlib import Path

UNICODE_RANGE = "U+0000-00FF,U+0100-017F,U+0218-021B,U+2013-2014,U+2018-201E,U+2022,U+2026,U+20AC"
"""Basic Latin, Latin-1, Latin Extended-A, Romanian comma letters, dashes, quotes, bullet, ellipsis, euro."""


@dataclass(frozen=True)
class Font:
    family: str
    """CSS family name."""
    package: str | None
    """Importable package that ships the font file; ``None`` for the device's font."""
    file: str | None
    """File name inside the package's ``files`` folder."""


FONTS = {
    "system": Font(family="system-ui", package=None, file=None),
    "source-sans": Font(family="Source Sans Pro", package="font_source_sans_pro", file="SourceSansPro-Regular.otf"),
}
_lock = threading.Lock()


def font_source(font: Font) -> Path:
    """The font file as the package installed it."""
    module = importlib.import_module(str(font.package))
    return Path(module.__file__ or "").parent / "files" / str(font.file)


def woff2(font_id: str, cache_dir: Path) -> bytes:
    """The font subset to :data:`UNICODE_RANGE` as WOFF2, made on first use and cached."""
    from fontTools import subset

    font = FONTS[font_id]
    target = cache_dir / f"{font_id}.woff2"
    with _lock:
        if not target.is_file():
            options = subset.Options()
            options.flavor = "woff2"
            options.layout_features = ["kern", "liga"]
            loaded = subset.load_font(str(font_source(font)), options)
            subsetter = subset.Subsetter(options)
            subsetter.populate(unicodes=_unicodes(UNICODE_RANGE))
            subsetter.subset(loaded)
            cache_dir.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            subset.save_font(loaded, str(partial), options)
            partial.replace(target)
    return target.read_bytes()


def _unicodes(ranges: str) -> list[int]:
    codes: list[int] = []
    for part in ranges.split(","):
        first, _, last = part.removeprefix("U+").partition("-")
        codes.extend(range(int(first, 16), int(last or first, 16) + 1))
    return codes
