"""Wall time of `gym-scaffold new openai-model --provider nim` against plain `copier copy` of the same template.

Both run as fresh processes (what a user types), with the same answers, into fresh
destinations, alternating so that caches warm both alike. Target: new <= 1.2x copier.

    python benchmarks/new_vs_copier.py [--runs 9]
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

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "templates"
ANSWERS = {
    "template": "openai-model",
    "provider": "nim",  # a Chat Completions upstream: the larger config and README
    "server_name": "bench_model",
    "model": "meta/llama-3.1-8b-instruct",
    "base_url": "https://integrate.api.nvidia.com/v1",
    "max_concurrent_requests": "8",
}
TARGET = 1.2


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gym-scaffold-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env |= {"GYM_SCAFFOLD_TEMPLATE_HOME": str(work / "template-home"), "OPENAI_API_KEY": ""}
    # Installed packages come with their bytecode (copier's does, from pip); an editable
    # gym-scaffold under PYTHONDONTWRITEBYTECODE would recompile its modules on every run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    bindir = Path(sys.executable).parent
    copier_data = [x for k, v in ANSWERS.items() for x in ("-d", f"{k}={v}")]

    def new_cmd(dest: Path) -> list[str]:
        return [
            str(bindir / "gym-scaffold"), "new", "openai-model", "--no-input", "--dest", str(dest),
            "--provider", ANSWERS["provider"], "--name", ANSWERS["server_name"], "--model", ANSWERS["model"],
            "--base-url", ANSWERS["base_url"],
            "--max-concurrent-requests", ANSWERS["max_concurrent_requests"],
        ]  # fmt: skip

    def copier_cmd(dest: Path) -> list[str]:
        return [
            str(bindir / "copier"),
            "copy",
            "--defaults",
            "--quiet",
            *copier_data,
            str(TEMPLATE),
            str(dest),
        ]

    times: dict[str, list[float]] = {"gym-scaffold new": [], "copier copy": []}
    try:
        # Warm-up (not counted): the first `new` also records the template version in git.
        (work / "warm-new").mkdir()
        timed(new_cmd(work / "warm-new"), env)
        timed(copier_cmd(work / "warm-copier"), env)
        for i in range(args.runs):
            pair = [("gym-scaffold new", new_cmd), ("copier copy", copier_cmd)]
            if i % 2:
                pair.reverse()
            for label, make in pair:
                dest = work / f"{label.split()[0]}-{i}"
                dest.mkdir()
                times[label].append(timed(make(dest), env))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    new_median = statistics.median(times["gym-scaffold new"])
    copier_median = statistics.median(times["copier copy"])
    ratio = new_median / copier_median
    print(f"{'command':<18} {'median s':>9} {'min s':>7} {'max s':>7}  runs={args.runs}")
    for label, values in times.items():
        print(
            f"{label:<18} {statistics.median(values):>9.3f} {min(values):>7.3f} {max(values):>7.3f}"
        )
    verdict = "ok" if ratio <= TARGET else "over target"
    print(f"ratio new/copier: {ratio:.2f}x (target <= {TARGET}x): {verdict}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
