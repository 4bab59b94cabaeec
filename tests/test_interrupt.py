"""Ctrl-C: one line and exit code 130."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from git_support import (
    clean_env,
    excludes_fifo,
    git_waits_on_fifo,
    make_repo,
    needs_git,
    skip_unless_fifo_waits_are_visible,
)


@needs_git
def test_ctrl_c_while_git_answers(tmp_path: Path) -> None:
    args = ["validate", "--env-check-only"]
    skip_unless_fifo_waits_are_visible(tmp_path)
    repo = make_repo(tmp_path / "repo", {".gitignore": "env.yaml\n"})
    fifo, env = excludes_fifo(tmp_path, clean_env())
    proc = subprocess.Popen(
        [sys.executable, "-m", "gym_scaffold", *args], cwd=repo, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and not git_waits_on_fifo(proc.pid):
            time.sleep(0.002)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, (out, err)
    assert err.strip().splitlines()[-1] == "Interrupted." and "Traceback" not in err
