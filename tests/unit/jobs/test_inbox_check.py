from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from bolletta.platform.jobs.inbox import IncompleteArchive, check_archive_whole


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as handle:
        for name, data in entries.items():
            handle.writestr(name, data)
    return buffer.getvalue()


def test_whole_archive_passes(tmp_path: Path) -> None:
    path = tmp_path / "ok.zip"
    path.write_bytes(_zip({"a.xml": b"<a/>" * 100, "b.pdf": b"%PDF-1.4"}))

    check_archive_whole(path)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_archive_fails(tmp_path: Path, keep: float) -> None:
    data = _zip({"a.xml": bytes(range(256)) * 400, "b.xml": bytes(range(256)) * 400})
    path = tmp_path / "cut.zip"
    path.write_bytes(data[: int(len(data) * keep)])

    with pytest.raises(IncompleteArchive, match=r"cut\.zip"):
        check_archive_whole(path)


def test_members_are_not_decompressed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bomb.zip"
    path.write_bytes(_zip({f"b{index}.xml": b"\0" * (1024 * 1024) for index in range(4)}))

    def refuse(*_args: object, **_kwargs: object) -> bytes:
        raise AssertionError("a member was decompressed")

    monkeypatch.setattr(zipfile.ZipExtFile, "read", refuse)
    monkeypatch.setattr(zipfile.ZipExtFile, "read1", refuse)

    check_archive_whole(path)
