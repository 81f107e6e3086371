"""Removing the folders of killed ``bolletta serve`` runs, with real owner processes killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bolletta.platform.web import run_folders

OWNER = """
import sys, time
from pathlib import Path
from bolletta.platform.web import run_folders
folder = Path(sys.argv[1])
folder.mkdir()
run_folders.claim(folder)
(folder / "views.sock").touch()
print("claimed", flush=True)
time.sleep(600)
"""


def _owner(folder: Path) -> subprocess.Popen[str]:
    """Start a process that creates and claims ``folder`` the way a supervisor does, then waits."""
    process = subprocess.Popen([sys.executable, "-c", OWNER, str(folder)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "claimed"
    return process


def _dead_pid() -> int:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    return int(finished.stdout)


def test_folder_of_killed_owner_removed(tmp_path: Path) -> None:
    owner = _owner(tmp_path / "serve-4242")
    os.kill(owner.pid, signal.SIGKILL)
    owner.wait(timeout=10)
    assert (tmp_path / "serve-4242" / run_folders.LOCK_NAME).exists()

    removed = run_folders.remove_stale(tmp_path, run_folders.METRICS_FOLDER)

    assert removed == [tmp_path / "serve-4242"]
    assert not (tmp_path / "serve-4242").exists()


def test_folder_of_live_owner_kept(tmp_path: Path) -> None:
    """The lock decides, not the id in the name: a live owner in another process namespace looks dead."""
    dead = _dead_pid()
    owner = _owner(tmp_path / f"bolletta-views-{dead}-abc")
    try:
        removed = run_folders.remove_stale(tmp_path, run_folders.VIEWS_FOLDER)

        assert removed == []
        assert (tmp_path / f"bolletta-views-{dead}-abc" / "views.sock").exists()
    finally:
        owner.kill()
        owner.wait(timeout=10)


def test_folder_without_lock_judged_by_pid(tmp_path: Path) -> None:
    dead, alive = _dead_pid(), os.getpid()
    for pid in (dead, alive):
        (tmp_path / f"serve-{pid}").mkdir()
    (tmp_path / "serve-unnamed").mkdir()

    removed = run_folders.remove_stale(tmp_path, run_folders.METRICS_FOLDER)

    assert removed == [tmp_path / f"serve-{dead}"]
    assert (tmp_path / f"serve-{alive}").is_dir()
    assert (tmp_path / "serve-unnamed").is_dir()


def test_views_folder_of_older_version_kept(tmp_path: Path) -> None:
    """Before locks, the socket folder's name had no process id, and ``mkdtemp`` may draw only digits."""
    dead = _dead_pid()
    (tmp_path / f"bolletta-views-{dead}").mkdir()
    (tmp_path / "bolletta-views-k3j2x9ab").mkdir()
    (tmp_path / f"bolletta-views-{dead}-k3j2x9ab").mkdir()

    removed = run_folders.remove_stale(tmp_path, run_folders.VIEWS_FOLDER)

    assert removed == [tmp_path / f"bolletta-views-{dead}-k3j2x9ab"]
    assert (tmp_path / f"bolletta-views-{dead}").is_dir()
    assert (tmp_path / "bolletta-views-k3j2x9ab").is_dir()


def test_symbolic_link_and_file_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    dead = _dead_pid()
    (tmp_path / f"serve-{dead}").symlink_to(target)
    (tmp_path / f"serve-{dead + 1}").write_text("not a folder")

    removed = run_folders.remove_stale(tmp_path, run_folders.METRICS_FOLDER)

    assert removed == []
    assert (target / "keep.txt").exists()
    assert (tmp_path / f"serve-{dead + 1}").is_file()


def test_claim_renames_locked_file(tmp_path: Path) -> None:
    folder = tmp_path / "serve-1"
    folder.mkdir()

    descriptor = run_folders.claim(folder)
    try:
        assert sorted(path.name for path in folder.iterdir()) == [run_folders.LOCK_NAME]
        started = time.monotonic()
        assert run_folders.remove_stale(tmp_path, run_folders.METRICS_FOLDER) == []
        assert time.monotonic() - started < 5
    finally:
        os.close(descriptor)

    assert run_folders.remove_stale(tmp_path, run_folders.METRICS_FOLDER) == [folder]
