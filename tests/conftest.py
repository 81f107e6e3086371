"""Fixtures every test folder shares: the public samples folder and CI strictness."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def running_in_ci() -> bool:
    """True when ``CI=true``: services and samples must then be present, never skipped."""
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The public samples folder (``BOLLETTA_SAMPLES_DIR``, default ``../shared/samples``)."""
    path = Path(os.environ.get("BOLLETTA_SAMPLES_DIR", REPO_ROOT.parent / "shared" / "samples"))
    if not path.is_dir():
        message = f"samples folder {path} not found; set BOLLETTA_SAMPLES_DIR to the shared samples"
        if running_in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return path
