"""The tenant's logo and e-mail header image: the upload check, the storage keys and the stored file.

The onboarding wizard stores them at activation and the settings pages replace or remove them
later, both through this module. Each image is stored under the tenant's storage prefix with the
first 16 hex digits of its SHA-256 in the key, so a new image never overwrites the file an earlier
settings version refers to. Earlier files are kept: restoring a version brings its image back, and
each file is at most :data:`MAX_IMAGE_BYTES`. Offboarding removes them with the tenant's storage.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from PIL import Image, ImageFile, JpegImagePlugin, PngImagePlugin

from bolletta.platform.i18n.formatting import kilobytes
from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.storage import Storage
from bolletta.tenants.config import TenantConfig

MAX_IMAGE_BYTES = 200 * 1024
"""Largest uploaded logo or e-mail image: an e-mail carries it inline in every message."""
MAX_IMAGE_SIDE = 2000
"""Largest width or height in pixels of an uploaded image; a header or logo needs far fewer."""
MAX_IMAGE_PIXELS = 2_000_000
"""Largest pixel count of an uploaded image: a small compressed file may decode to gigabytes."""
IMAGE_OPENERS: dict[bytes, tuple[Callable[[io.BytesIO], ImageFile.ImageFile], str]] = {
    b"\x89PNG\r\n\x1a\n": (PngImagePlugin.PngImageFile, "image/png"),
    b"\xff\xd8\xff": (JpegImagePlugin.JpegImageFile, "image/jpeg"),
}
"""Leading bytes of each accepted image format, with its Pillow reader; the upload's name and type are ignored.

The reader is called directly because ``Image.open`` raises on a pixel count over Pillow's global
limit before the size can be read and named in the message."""
EMAIL_HEADER_PREFIX = "assets/email-header-"
"""Start of the storage key of the e-mail header image; dispatch caches an image by its key."""
LOGO_PREFIX = "assets/logo-"
"""Start of the storage key of the bill pages' logo; ``/c/<slug>/logo`` serves the current one."""
LOGO_KEY = "assets/logo"
"""Storage key of a logo stored before logo keys carried the image's hash; still served."""


def image_type(data: bytes, language: str = "it") -> tuple[str, Text | None]:
    """Return the content type of an uploaded image, or the problem with it.

    The image is decoded in full, so a truncated or damaged file is rejected, but only once its
    width and height are within :data:`MAX_IMAGE_SIDE` and :data:`MAX_IMAGE_PIXELS`. Sizes in the
    messages are formatted for ``language``.
    """
    if len(data) > MAX_IMAGE_BYTES:
        return "", too_large_problem(len(data), language)
    opener = next((found for signature, found in IMAGE_OPENERS.items() if data.startswith(signature)), None)
    if opener is None:
        return "", T_("The file is not a PNG or JPEG image; upload one of those.")
    reader, content_type = opener
    try:
        with reader(io.BytesIO(data)) as image:
            width, height = image.size
            if max(width, height) > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS:
                return "", T_("The image is {width}×{height} pixels; the limit is {side}×{side} pixels. Make it "
                              "smaller and upload it again.", width=width, height=height, side=MAX_IMAGE_SIDE)
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return "", T_("The file is not a complete {format} image: it is truncated or damaged. Save it again and "
                      "upload it.", format=content_type.split("/")[1].upper())
    return content_type, None


def too_large_problem(size: int, language: str = "it") -> Text:
    """Return the problem of an upload of ``size`` bytes over :data:`MAX_IMAGE_BYTES`."""
    return T_("The image is {value}; the limit is {limit}.", value=kilobytes(size, language),
              limit=kilobytes(MAX_IMAGE_BYTES, language))


def image_digest(data: bytes) -> str:
    """Return the part of an image's storage key that names its content."""
    return hashlib.sha256(data).hexdigest()[:16]


def email_header_key(data: bytes) -> str:
    """Return the storage key of an e-mail header image with content ``data``."""
    return EMAIL_HEADER_PREFIX + image_digest(data)


def logo_storage_key(data: bytes) -> str:
    """Return the storage key of a logo with content ``data``."""
    return LOGO_PREFIX + image_digest(data)


def logo_url(slug: str, data: bytes) -> str:
    """Return the ``portal.logo_url`` of logo ``data``: the logo route, with the digest as its version.

    The version makes browsers fetch a replaced logo at once, and :func:`logo_key` reads it back.
    """
    return f"/c/{slug}/logo?v={image_digest(data)}"


def logo_key(config: TenantConfig) -> str:
    """Return the storage key of the tenant's current logo, read from ``portal.logo_url``."""
    query = parse_qs(urlsplit(config.portal.logo_url).query)
    digest = query.get("v", [""])[0]
    if len(digest) == 16 and all(char in "0123456789abcdef" for char in digest):
        return LOGO_PREFIX + digest
    return LOGO_KEY


def store_logo(storage: Storage, slug: str, data: bytes) -> str:
    """Store logo ``data`` under the tenant's prefix and return its ``portal.logo_url``."""
    storage.put(slug, logo_storage_key(data), data)
    return logo_url(slug, data)


def store_email_header(storage: Storage, slug: str, data: bytes) -> str:
    """Store e-mail header ``data`` under the tenant's prefix and return its storage key."""
    key = email_header_key(data)
    storage.put(slug, key, data)
    return key
