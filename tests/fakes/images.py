"""Image files for upload tests: real ones made with Pillow, and headers that claim a size."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def image_bytes(image_format: str = "PNG", size: tuple[int, int] = (64, 32)) -> bytes:
    """Return a real ``image_format`` image of ``size`` pixels filled with changing colours."""
    image = Image.new("RGB", size)
    image.putdata([(x * 4 % 256, y * 8 % 256, 90) for y in range(size[1]) for x in range(size[0])])
    out = io.BytesIO()
    image.save(out, image_format)
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """Return a PNG with a valid header claiming ``width`` × ``height`` pixels and no pixel data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")
