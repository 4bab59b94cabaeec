"""Wall time of `gym-scaffold show` against NeMo Gym's `gym env resolve` on the same config.

Both run as fresh processes (what a user types) in a copy of the corpus laid out as the
tests lay it out, with the same env.yaml, alternating so that caches warm both alike.
The config includes another file and holds two servers (benchmarks/osworld). Target:
show <= 0.2x resolve. NeMo Gym comes from the Python 3.12 environment the end-to-end
tests build (tests/new_support.ensure_nemo_gym_venv).

    python benchmarks/show_vs_nemo_gym_resolve.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate_vs_check_jsonschema import lay_out_corpus  # noqa: E402 - the sibling benchmark's helper

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("GYM_SCAFFOLD_CORPUS") or REPO.parent / "shared" / "corpus" / "nemo-gym")
CONFIG = "benchmarks/osworld/configs/osworld_agent_nano_omni.yaml"
ENV = "policy_base_url: https://api.openai.com/v1\npolicy_api_key: sk-bench-not-a-key\npolicy_model_name: gpt-4o-mini\n"
TARGET = 0.2


def lay_out(root: Path, corpus: Path) -> None:
    """The corpus as the tests lay it out: all its files and an empty file for every other
    path; and an env.yaml."""
    lay_out_corpus(corpus, root, pattern="*")
    (root / "env.yaml").write_text(ENV)


def timed(cmd: list[str], cwd: Path, env: dict[str, str], expect: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if expect not in done.stdout:  # only a run that printed the resolved config counts
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "tests"))
    from new_support import ensure_nemo_gym_venv, find_python312

    python312 = find_python312()
    if python312 is None or not args.corpus.is_dir():
        print("skipped: needs Python 3.12 and the corpus")
        return 0
    gym = ensure_nemo_gym_venv(python312) / "bin" / "gym"
    work = Path(tempfile.mkdtemp(prefix="gym-scaffold-bench-"))
    try:
        root = work / "gym"
        lay_out(root, args.corpus)
        env = {"PATH": f"{gym.parent}:/usr/bin:/bin", "HOME": str(work)}
        show = [str(Path(sys.executable).parent / "gym-scaffold"), "show", "--config", CONFIG, "--format", "json"]
        resolve = [str(gym), "env", "resolve", "--config", CONFIG]
        expect = "osworld"
        ours, theirs = [], []
        for _ in range(args.runs):
            ours.append(timed(show, root, env, expect))
            theirs.append(timed(resolve, root, env, expect))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    a, b = statistics.median(ours), statistics.median(theirs)
    ratio = a / b
    print(f"show {CONFIG}: {a * 1000:.0f} ms; gym env resolve: {b * 1000:.0f} ms; ratio {ratio:.2f} (target <= {TARGET})")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
