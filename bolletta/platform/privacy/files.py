"""Deleting a bill's files from storage: the PDF from the flow, the rendered PDFs and the audio."""

from __future__ import annotations

from collections.abc import Sequence

from bolletta.platform.portal.pdf import RENDER_VERSION
from bolletta.platform.runtime import Runtime


def delete_bill_files(rt: Runtime, tenant: str, files: Sequence[tuple[str, str | None]]) -> int:
    """Delete the files of each ``(public id, PDF storage key)``; return how many files were removed.

    Rendered PDFs are stored as ``rendered/v<version>/<public id>.pdf`` for each layout version up to
    the current one, audio under ``speech/<public id>/`` and rendered pages under ``pages/<public id>/``.
    """
    removed = 0
    for public_id, pdf_key in files:
        rendered = [f"{tenant}/rendered/v{version}/{public_id}.pdf" for version in range(1, RENDER_VERSION + 1)]
        for key in (pdf_key, *rendered):
            if key and rt.storage.exists(key):
                rt.storage.delete(key)
                removed += 1
        removed += rt.storage.delete_prefix(tenant, f"speech/{public_id}")
        removed += rt.storage.delete_prefix(tenant, f"pages/{public_id}")
    return removed
