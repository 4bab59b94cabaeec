"""`gym-scaffold new` under faults: the destination ends exactly as it was, and the message
says what happened.

Faults are made with real mechanisms. The tests may run as root, for whom permission bits
mean nothing, so a read-only destination and a file that refuses writes use the immutable
attribute (chattr +i, which stops root too) when running as root, and mode bits otherwise.
An interruption midway is a real signal at a real blocking point: git opens the global
excludes file (core.excludesFile, from GIT_CONFIG_GLOBAL) on every `git check-ignore`, and
here that file is a FIFO the test controls; opening a FIFO waits for its other end. `new`
asks git once before it changes anything and once after it has written the server,
env.yaml and .gitignore: the test lets the first call through and sends the signal while
the second one waits (seen in /proc, so the wait is certain, not a guess).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from git_support import (
    excludes_fifo,
    git_waits_on_fifo,
    let_git_through,
    skip_unless_fifo_waits_are_visible,
)
from new_support import clean_env, make_gym_tree

KEY = "sk-proj-Fault7estKEYabcdefghijklmnopqrstuvwxyz0123456789"
NAME = "fault_model"


def tree_state(root: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every path under root with its mode and content (links by target), .git excluded."""
    state: dict[str, tuple[int, bytes | None]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".git":
            continue
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            content: bytes | None = os.readlink(path).encode()
        elif stat.S_ISREG(info.st_mode):
            content = path.read_bytes()
        else:
            content = None
        state[rel.as_posix()] = (info.st_mode, content)
    return state


def run_new(dest: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gym_scaffold", "new", "openai-model", "--no-input", "--name", NAME],
        cwd=dest,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_env(OPENAI_API_KEY=KEY, XDG_DATA_HOME=str(tmp_path / "data"), XDG_CACHE_HOME=str(tmp_path / "cache"))


@pytest.fixture
def gym(tmp_path: Path) -> Path:
    return make_gym_tree(tmp_path / "gym")


def _chattr(flag: str, path: Path) -> bool:
    if shutil.which("chattr") is None:
        return False
    done = subprocess.run(["chattr", flag, str(path)], capture_output=True, check=False)
    return done.returncode == 0


@contextlib.contextmanager
def refusing_writes(path: Path) -> Iterator[None]:
    """`path` (a file or directory) refuses every change, whoever runs."""
    if os.geteuid() == 0:
        if not _chattr("+i", path):
            pytest.skip("running as root on a file system without chattr +i: cannot make a path read-only")
        try:
            yield
        finally:
            _chattr("-i", path)
        return
    mode = path.stat().st_mode
    path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        path.chmod(stat.S_IMODE(mode))


def test_read_only_destination(gym: Path, env: dict[str, str]) -> None:
    before = tree_state(gym)
    with refusing_writes(gym):
        done = run_new(gym, env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "nothing was changed" in done.stderr and ("ermission" in done.stderr or "not permitted" in done.stderr)
    assert len(done.stderr.strip().splitlines()) == 1
    assert tree_state(gym) == before


def test_permission_denied_on_gitignore_rolls_back(gym: Path, env: dict[str, str]) -> None:
    # .gitignore cannot be appended to: the server directory and env.yaml exist by then.
    before = tree_state(gym)
    with refusing_writes(gym / ".gitignore"):
        done = run_new(gym, env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert ".gitignore" in done.stderr and "nothing was changed" in done.stderr
    assert tree_state(gym) == before


def test_file_where_a_directory_must_go(gym: Path, env: dict[str, str]) -> None:
    (gym / "responses_api_models" / "README.md").unlink()
    (gym / "responses_api_models").rmdir()
    (gym / "responses_api_models").write_text("a file where the server directory must go\n")
    before = tree_state(gym)
    done = run_new(gym, env)
    assert done.returncode in (1, 2), done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "nothing was changed" in done.stderr
    assert tree_state(gym) == before


@pytest.fixture
def fifo_waits_visible(tmp_path: Path) -> None:
    skip_unless_fifo_waits_are_visible(tmp_path)


@pytest.mark.usefixtures("fifo_waits_visible")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_midway_rolls_back(gym: Path, env: dict[str, str], tmp_path: Path, signum: int) -> None:
    fifo, env = excludes_fifo(tmp_path, env)
    before = tree_state(gym)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gym_scaffold", "new", "openai-model", "--no-input", "--name", NAME],
        cwd=gym,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server_dir = gym / "responses_api_models" / NAME
    deadline = time.monotonic() + 60
    signalled = False
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if not git_waits_on_fifo(proc.pid):
                time.sleep(0.002)
                continue
            if server_dir.exists():  # midway: server, env.yaml and .gitignore written
                assert (gym / "env.yaml").exists()
                proc.send_signal(signum)
                signalled = True
                out, err = proc.communicate(timeout=30)
                break
            let_git_through(fifo, proc.pid, deadline)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert signalled, "new never reached the point after writing the server"
    assert proc.returncode == 128 + signum, (proc.returncode, out, err)
    assert "Traceback" not in err
    assert f"interrupted by {signal.Signals(signum).name}; nothing was changed" in err
    assert tree_state(gym) == before
    assert not any(p.name.startswith(".gym-scaffold-new-") for p in gym.iterdir())


@pytest.mark.usefixtures("fifo_waits_visible")
def test_git_reading_the_fifo_is_where_new_waits(gym: Path, env: dict[str, str], tmp_path: Path) -> None:
    """The mechanism itself: with every read let through, `new` completes normally."""
    fifo, env = excludes_fifo(tmp_path, env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gym_scaffold", "new", "openai-model", "--no-input", "--name", NAME],
        cwd=gym,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reads = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if git_waits_on_fifo(proc.pid):
            reads += 1
            let_git_through(fifo, proc.pid, deadline)
        else:
            time.sleep(0.002)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert reads >= 2 and (gym / "responses_api_models" / NAME).is_dir()  # at least before and after writing
