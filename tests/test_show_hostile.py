"""`show` over the hostile corpus (tests/hostile/): every case's input printed, bounded.

validate's expectations (exit code, rules) are validate's; what `show` must do on every
case is print what it can and say what is wrong: exit 0, 1 or 2, never a traceback or an
internal error, within a few seconds and 256 MB, with the origins of every value.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_hostile import CASES, HOSTILE, RSS_LIMIT_KB, _environment, build_tree, run_measured

WALL_LIMIT_S = 4.0  # validate's 2 s, plus an origin for each of up to 300,000 values


@pytest.mark.parametrize("name", CASES)
def test_show_prints_every_hostile_case(name: str, tmp_path: Path) -> None:
    expect = json.loads((HOSTILE / f"{name}.expect.json").read_text())
    repo = build_tree(tmp_path, name, expect)
    env = _environment(tmp_path, git_on_path=True)
    # A case without a config file of its own is about env.yaml or the tree: env.yaml alone.
    run_of = ["--config", f"configs/{name}.yaml"] if (repo / "configs" / f"{name}.yaml").exists() else []
    for args in (["show", *run_of, "--show-origin"], ["show", *run_of, "--format", "json"]):
        run = run_measured(args, repo, env)
        assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr[-2000:]
        assert run.code in (0, 1), (run.code, run.stderr[-500:])
        assert run.wall < WALL_LIMIT_S, f"{args} took {run.wall:.2f} s"
        assert run.max_rss_kb < RSS_LIMIT_KB, f"{args} peaked at {run.max_rss_kb // 1024} MB"
        if run.code == 1:
            assert run.stdout.strip(), "exit 1 without saying why"
        if "json" in args:
            json.loads(run.stdout)
