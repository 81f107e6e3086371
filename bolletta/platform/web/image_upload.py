"""Reading an image upload form, shared by the onboarding wizard and the settings pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile

from bolletta.tenants.images import MAX_IMAGE_BYTES

IMAGE_FIELD = "image"
"""Name of the file input."""


@dataclass(frozen=True)
class ImageForm:
    """A submitted image form: the file's first bytes and whether the admin asked to remove the image."""

    data: bytes
    """At most one byte over :data:`MAX_IMAGE_BYTES`, which is enough to tell a file that is too large."""
    remove: bool


async def read_image_form(request: Request[Any, Any, Any]) -> ImageForm:
    """Read the multipart form of an image upload; an absent or empty file gives empty ``data``."""
    form = await request.form()
    upload = form.get(IMAGE_FIELD)
    data = b""
    if isinstance(upload, UploadFile):
        try:
            data = await upload.read(MAX_IMAGE_BYTES + 1)
        finally:
            await upload.close()
    return ImageForm(data=data, remove=form.get("remove") == "1")
