"""Real git repositories in temporary directories, for the tests that need git.

Every git command here runs without the caller's GIT_* variables: the test suite itself
may run inside a git hook (pre-commit), whose GIT_INDEX_FILE or GIT_DIR would otherwise
point these commands at the wrong repository.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without GIT_* variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(extra)
    return env


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run `git -C repo ARGS`; its stdout. Fails the test with git's stderr on error."""
    completed = subprocess.run(
        [GIT or "git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env=env if env is not None else clean_env(),
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    if completed.returncode != 0:
        pytest.fail(f"git {' '.join(args)} failed ({completed.returncode}): {completed.stderr}")
    return completed.stdout


def write(root: Path, relative: str, text: str) -> Path:
    """Write `text` to `root/relative`, creating directories."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_repo(path: Path, files: dict[str, str] | None = None, *, commit: bool = False) -> Path:
    """A fresh repository at `path` (branch main, local identity, no signing).

    `files` are written (not added); with `commit=True` they are added and committed.
    """
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "tests@example.invalid")
    git(path, "config", "user.name", "gym-scaffold tests")
    git(path, "config", "commit.gpgsign", "false")
    for relative, text in (files or {}).items():
        write(path, relative, text)
    if commit and files:
        git(path, "add", "--", *files)
        git(path, "commit", "-q", "-m", "initial")
    return path


def isolate_git_config(monkeypatch: pytest.MonkeyPatch, home: Path) -> Path:
    """Point HOME (and XDG_CONFIG_HOME) at `home` and ignore the system config, so the
    user's own global excludes cannot change what a test sees. Returns `home`."""
    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    monkeypatch.delenv("GIT_CONFIG_SYSTEM", raising=False)
    return home


# -- a git call that waits ---------------------------------------------------------------
# git opens the global excludes file (core.excludesFile, from GIT_CONFIG_GLOBAL) on every
# `git check-ignore`. Made a FIFO, opening it waits for a writer: a real blocking point
# inside a real git call, at which a test can interrupt the process that called git.


def excludes_fifo(tmp_path: Path, env: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """A FIFO as the global excludes file, and `env` pointing git's global config at it."""
    fifo = tmp_path / "global-excludes"
    os.mkfifo(fifo)
    config = tmp_path / "gitconfig"
    config.write_text(f"[core]\n\texcludesFile = {fifo}\n")
    return fifo, env | {"GIT_CONFIG_GLOBAL": str(config)}


def open_writer(fifo: Path) -> int | None:
    """A write end, only if a reader is waiting on the FIFO (no reader: None)."""
    try:
        return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            return None
        raise


def _children(parent: int) -> list[int]:
    found = []
    for process in os.scandir("/proc"):
        if process.name.isdigit():
            with contextlib.suppress(OSError, ValueError):
                stat_line = Path(process.path, "stat").read_text()
                if int(stat_line.rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(process.name))
    return found


def git_waits_on_fifo(parent: int) -> bool:
    """Whether a child of `parent` (git) waits in open() for the FIFO's writer.

    git opens the excludes file, sees a size of 0 and closes it without reading: open()
    is where it blocks, and opening the write end releases it at once. So a test looks
    (/proc/<pid>/wchan) rather than opens, and acts while git still waits."""
    return any(_waits_on_fifo(child) for child in _children(parent))


def _waits_on_fifo(pid: int) -> bool:
    """Whether process `pid` waits in open() for a FIFO's other end."""
    try:
        return Path(f"/proc/{pid}/wchan").read_text().strip() == "wait_for_partner"
    except OSError:
        return False


def let_git_through(fifo: Path, parent: int, deadline: float) -> None:
    """Let the waiting git call through (an empty excludes file), and wait until it has left open()."""
    fd = open_writer(fifo)
    if fd is not None:
        os.close(fd)
    while time.monotonic() < deadline and git_waits_on_fifo(parent):
        time.sleep(0.002)


def _wchan_shows_fifo_waits(tmp_path: Path) -> bool:
    fifo = tmp_path / "probe-fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen([sys.executable, "-c", f"open({str(fifo)!r}).close()"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _waits_on_fifo(reader.pid):
                return True
            time.sleep(0.01)
        return False
    finally:
        fd = open_writer(fifo)
        if fd is not None:
            os.close(fd)
        reader.kill()
        reader.wait()


def skip_unless_fifo_waits_are_visible(tmp_path: Path) -> None:
    if not Path("/proc/self/stat").exists() or not _wchan_shows_fifo_waits(tmp_path):
        pytest.skip("needs /proc/<pid>/wchan to see a process waiting on a FIFO")
