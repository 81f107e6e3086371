"""The wheel carries the Alembic environments and the theme files, and finds them when installed."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
         str(REPO_ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    return next(out.glob("bolletta-*.whl"))


def test_wheel_contains_migrations_and_theme(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())

    assert "bolletta/_migrations/platform/env.py" in names
    assert "bolletta/_migrations/tenant/env.py" in names
    assert any(name.startswith("bolletta/_migrations/tenant/versions/") for name in names)
    assert "bolletta/themes/base/locale/it/LC_MESSAGES/bolletta.po" in names
    assert "bolletta/themes/base/templates/portal/summary.html" in names
    assert "bolletta/themes/base/static/bolletta.css" in names


def test_installed_package_finds_packaged_migrations(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = "from bolletta.platform.db.migrate import migrations_dir; print(migrations_dir())"

    found = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(site)},
                           check=True, capture_output=True, text=True, timeout=60)

    assert Path(found.stdout.strip()) == site / "bolletta" / "_migrations"
