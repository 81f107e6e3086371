"""Single byte ranges (RFC 9110 section 14) for audio, so players can seek and resume."""

from __future__ import annotations

import re

from litestar import Response

BYTE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class UnsatisfiableRange(ValueError):
    """Raised when a ``Range`` header asks for bytes past the end of the content."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte asked for, or ``None`` for the whole content.

    Several ranges in one header and malformed headers get the whole content, as RFC 9110 allows a
    server to ignore a ``Range`` it does not support.
    """
    match = BYTE_RANGE.match((header or "").strip())
    if match is None or not any(match.groups()):
        return None
    first, last = match.groups()
    if not first:  # a suffix: the last N bytes
        length = int(last)
        if length == 0:
            raise UnsatisfiableRange(header)
        return max(size - length, 0), size - 1
    start = int(first)
    if start >= size:
        raise UnsatisfiableRange(header)
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        return None
    return start, end


def ranged_response(content: bytes, range_header: str | None, media_type: str) -> Response[bytes]:
    """A 200 with the whole content, a 206 with the part asked for, or a 416."""
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "no-store"}
    try:
        byte_range = parse_range(range_header, len(content))
    except UnsatisfiableRange:
        return Response(content=b"", status_code=416, media_type=media_type,
                        headers={**headers, "Content-Range": f"bytes */{len(content)}"})
    if byte_range is None:
        return Response(content=content, media_type=media_type, headers=headers)
    start, end = byte_range
    return Response(content=content[start:end + 1], status_code=206, media_type=media_type,
                    headers={**headers, "Content-Range": f"bytes {start}-{end}/{len(content)}"})
