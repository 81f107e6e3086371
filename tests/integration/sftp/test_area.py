"""Path confinement of SFTP client paths, on a real folder with real symbolic links."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from bolletta.platform.sftp.area import AreaPathError, normalize_client_path, resolve_in_area, to_client_path


@pytest.fixture
def area(tmp_path: Path) -> Path:
    """A tenant area next to a sibling area and a secret file outside both."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("secret")
    (tmp_path / "tenantAB").mkdir()
    root = tmp_path / "tenantA"
    (root / "flows").mkdir(parents=True)
    return root.resolve()


@pytest.mark.parametrize(
    ("client_path", "expected"),
    [
        ("/", "."),
        ("", "."),
        (".", "."),
        ("/flows/a.zip", "flows/a.zip"),
        ("flows/a.zip", "flows/a.zip"),
        ("//flows//a.zip", "flows/a.zip"),
        ("/./flows/./a.zip", "flows/a.zip"),
        ("/flows/x/../a.zip", "flows/a.zip"),
        ("/flows/..", "."),
        ("%2e%2e/%2e%2e/etc", "%2e%2e/%2e%2e/etc"),
        ("...", "..."),
    ],
)
def test_normalize_legitimate_paths(client_path: str, expected: str) -> None:
    assert normalize_client_path(client_path) == PurePosixPath(expected)


@pytest.mark.parametrize(
    "client_path",
    [
        "..",
        "../x",
        "/..",
        "/../../etc/passwd",
        "flows/../../x",
        "a\x00b",
        "a\nb",
        "..\\..\\x",
        "flows\\a.zip",
    ],
)
def test_normalize_rejects_hostile_paths(client_path: str) -> None:
    with pytest.raises(AreaPathError):
        normalize_client_path(client_path)


def test_resolve_legitimate_paths_stay_in_area(area: Path) -> None:
    assert resolve_in_area(area, "/") == area
    assert resolve_in_area(area, "/flows/a.zip") == area / "flows" / "a.zip"
    assert resolve_in_area(area, "flows/../b.zip") == area / "b.zip"
    assert resolve_in_area(area, "//etc/passwd") == area / "etc" / "passwd"
    assert resolve_in_area(area, "/missing/dir/file") == area / "missing" / "dir" / "file"


@pytest.mark.parametrize("client_path", ["../outside/secret.txt", "/../tenantAB/x", "/../../etc/passwd"])
def test_resolve_rejects_climbing_out(area: Path, client_path: str) -> None:
    with pytest.raises(AreaPathError, match="climbs above"):
        resolve_in_area(area, client_path)


def test_resolve_rejects_link_pointing_outside(area: Path) -> None:
    os.symlink(area.parent / "outside", area / "link")

    for client_path in ("/link", "/link/secret.txt", "/link/newfile", "/flows/../link/x"):
        with pytest.raises(AreaPathError, match="symbolic link"):
            resolve_in_area(area, client_path)


def test_resolve_dot_dot_is_lexical(area: Path) -> None:
    """``..`` is applied to the path text, so ``link/..`` never enters the link's target."""
    os.symlink(area.parent / "outside", area / "link")

    assert resolve_in_area(area, "/link/../flows") == area / "flows"


def test_resolve_rejects_link_pointing_inside(area: Path) -> None:
    os.symlink(area / "flows", area / "alias")

    with pytest.raises(AreaPathError, match="symbolic link"):
        resolve_in_area(area, "/alias/a.zip")


def test_resolve_rejects_dangling_link(area: Path) -> None:
    os.symlink(area.parent / "outside" / "new.txt", area / "dangling")

    with pytest.raises(AreaPathError, match="symbolic link"):
        resolve_in_area(area, "/dangling")


def test_resolve_accepts_root_reached_through_link(tmp_path: Path, area: Path) -> None:
    """The area root itself may be a link set up by the operator; it is resolved once."""
    os.symlink(area, tmp_path / "area-link")

    assert resolve_in_area(tmp_path / "area-link", "/flows") == area / "flows"


def test_resolve_sibling_prefix_is_not_inside(area: Path) -> None:
    """``tenantAB`` starts with ``tenantA`` but is another area."""
    with pytest.raises(AreaPathError):
        resolve_in_area(area, "/../tenantAB")


def test_client_path_of_root_and_file() -> None:
    assert to_client_path(PurePosixPath(".")) == "/"
    assert to_client_path(PurePosixPath("flows/a.zip")) == "/flows/a.zip"
