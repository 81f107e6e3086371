"""Reading an image upload form, shared by the onboarding wizard and the settings pages."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import anyio
from litestar import Request
from litestar.datastructures import UploadFile

from bolletta.tenants.images import MAX_IMAGE_BYTES

IMAGE_FIELD = "image"
"""Name of the file input."""


@dataclass(frozen=True)
class ImageForm:
    """A submitted image form: the file's first bytes and whether the admin asked to remove the image."""

    data: bytes
    """The file's bytes; empty when the file is larger than :data:`MAX_IMAGE_BYTES`."""
    size: int
    """The file's size in bytes, known without reading a file that is too large."""
    remove: bool


async def read_image_form(request: Request[Any, Any, Any]) -> ImageForm:
    """Read the multipart form of an image upload; an absent or empty file gives empty ``data``."""
    form = await request.form()
    upload = form.get(IMAGE_FIELD)
    data, size = b"", 0
    if isinstance(upload, UploadFile):
        try:
            # The form parser has already taken the whole file, so its size is known without reading it.
            size = await anyio.to_thread.run_sync(_file_size, upload)
            if size <= MAX_IMAGE_BYTES:
                data = await upload.read()
        finally:
            await upload.close()
    return ImageForm(data=data, size=size, remove=form.get("remove") == "1")


def _file_size(upload: UploadFile) -> int:
    """Return the size in bytes of an uploaded file, leaving it positioned at its start."""
    upload.file.seek(0, os.SEEK_END)
    size = upload.file.tell()
    upload.file.seek(0)
    return size
