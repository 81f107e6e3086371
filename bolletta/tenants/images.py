"""The tenant's logo and e-mail header image: the upload check, the storage keys and the stored file.

The onboarding wizard stores them at activation and the settings pages replace or remove them
later, both through this module. Each image is stored under the tenant's storage prefix with the
first 16 hex digits of its SHA-256 in the key, so a new image never overwrites the file an earlier
settings version refers to. Earlier files are kept: restoring a version brings its image back, and
each file is at most :data:`MAX_IMAGE_BYTES`. Offboarding removes them with the tenant's storage.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.storage import Storage
from bolletta.tenants.config import TenantConfig

MAX_IMAGE_BYTES = 200 * 1024
"""Largest uploaded logo or e-mail image: an e-mail carries it inline in every message."""
IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
"""Leading bytes of each accepted image format; the name and declared type of an upload are ignored."""
EMAIL_HEADER_PREFIX = "assets/email-header-"
"""Start of the storage key of the e-mail header image; dispatch caches an image by its key."""
LOGO_PREFIX = "assets/logo-"
"""Start of the storage key of the bill pages' logo; ``/c/<slug>/logo`` serves the current one."""
LOGO_KEY = "assets/logo"
"""Storage key of a logo stored before logo keys carried the image's hash; still served."""


def image_type(data: bytes) -> tuple[str, Text | None]:
    """Return the content type of an uploaded image from its first bytes, or the problem with it."""
    if len(data) > MAX_IMAGE_BYTES:
        return "", T_("The image is {value} KB; the limit is {limit} KB.", value=-(-len(data) // 1024),
                      limit=MAX_IMAGE_BYTES // 1024)
    for signature, content_type in IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return content_type, None
    return "", T_("The file is not a PNG or JPEG image; upload one of those.")


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
