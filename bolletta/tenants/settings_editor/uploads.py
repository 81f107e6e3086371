"""Replacing and removing the tenant's logo and e-mail header image after activation.

The upload is checked and stored by :mod:`bolletta.tenants.images`, as in the onboarding wizard,
and the new key or address is saved through :func:`~bolletta.tenants.registry.save_config`, so each
change is a settings version with its values before and after. The replaced file stays in storage,
so restoring the earlier version brings the earlier image back.
"""

from __future__ import annotations

import logging

from bolletta.platform import audit
from bolletta.platform.db.database import Database
from bolletta.platform.errors import NotFound
from bolletta.platform.i18n.message import Text
from bolletta.platform.storage import Storage
from bolletta.tenants import images
from bolletta.tenants.registry import get_tenant, save_config, tenant_config
from bolletta.tenants.settings_editor.editor import SETTINGS_SAVED

logger = logging.getLogger(__name__)

IMAGE_SETTINGS = {"logo": ("portal",), "email-header": ("email_header_key", "email_header_type")}
"""The top-level settings each image changes, by the image's name in URLs."""


def _image_settings(image: str) -> tuple[str, ...]:
    settings = IMAGE_SETTINGS.get(image)
    if settings is None:
        raise NotFound(f"{image!r} is not an image of the settings; use {' or '.join(IMAGE_SETTINGS)}.")
    return settings


def replace_image(db: Database, storage: Storage, slug: str, image: str, data: bytes, *, actor: str,
                  ip: str = "") -> Text | None:
    """Check and store uploaded ``data`` as the tenant's ``logo`` or ``email-header``, and save its key.

    Returns the problem with the file (not PNG or JPEG, over the size limit), or ``None`` once the
    image is in use.

    Raises:
        NotFound: no such image name or tenant.
    """
    keys = _image_settings(image)
    content_type, problem = images.image_type(data)
    if problem is not None:
        return problem
    config = tenant_config(get_tenant(db, slug))
    if image == "logo":
        config.portal.logo_url = images.store_logo(storage, slug, data)
        stored = images.logo_key(config)
    else:
        stored = images.store_email_header(storage, slug, data)
        config.email_header_key, config.email_header_type = stored, content_type
    save_config(db, slug, config, actor=actor, only=keys)
    _record(db, slug, image, "replaced", actor, ip, key=stored, size=len(data))
    logger.info("tenant %s: %s replaced by %s (%d bytes, %s)", slug, image, actor, len(data), stored)
    return None


def remove_image(db: Database, slug: str, image: str, *, actor: str, ip: str = "") -> None:
    """Stop using the tenant's ``logo`` or ``email-header``; the file stays for earlier versions.

    Raises:
        NotFound: no such image name or tenant.
    """
    keys = _image_settings(image)
    config = tenant_config(get_tenant(db, slug))
    if image == "logo":
        config.portal.logo_url = ""
    else:
        config.email_header_key = config.email_header_type = ""
    save_config(db, slug, config, actor=actor, only=keys)
    _record(db, slug, image, "removed", actor, ip)
    logger.info("tenant %s: %s removed by %s", slug, image, actor)


def _record(db: Database, slug: str, image: str, how: str, actor: str, ip: str, **detail: str | int) -> None:
    with db.tenant_session(slug) as session:
        audit.record(session, actor=actor, action=SETTINGS_SAVED, target="images", ip=ip,
                     detail={"section": "images", "image": image, "how": how, **detail})
        session.commit()
