"""What adopting costs: `validate` with a project configuration, inline suppressions and a
baseline, against the same run without them, on the NeMo Gym sample.

Two copies of the corpus: a plain one, and one with a [tool.gym-scaffold] table (ignore,
per-file-ignores, severity, exclude, baseline), a suppression comment on the line of
every other problem (at most 20), and a baseline holding the rest. Both are run whole (`validate .`), from
the result cache and with `--no-cache`, as fresh processes, alternating; the target is at
most 10% more wall time (median).

Usage: python benchmarks/adoption_overhead.py [--runs N] [--corpus DIR]
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate_vs_check_jsonschema import (  # noqa: E402
    RUN_ENV,
    alternate,
    bin_path,
    corpus_arguments,
    lay_out_corpus,
    timed,
)

TARGET = 1.10
SUPPRESSED = 20
CONFIG = """\
[tool.gym-scaffold]
ignore = ["server-port"]
exclude = ["resources_servers/*/data"]
severity = {"unused-suppression" = "warning", "server-directory" = "warning"}
baseline = ".gym-scaffold-baseline.json"

[tool.gym-scaffold.per-file-ignores]
"benchmarks/**/prompts/*.yaml" = ["not-a-config"]
"""


def problems(root: Path, ours: str) -> list[dict]:
    proc = subprocess.run([ours, "validate", "--format", "json", "."], cwd=root, env=RUN_ENV, capture_output=True, text=True)
    return [p for p in json.loads(proc.stdout)["problems"] if p["severity"] != "note"]


def adopt(root: Path, ours: str) -> tuple[int, int]:
    """Configure, suppress and baseline the copy at `root`: (suppressed, baselined)."""
    found = problems(root, ours)
    (root / "pyproject.toml").write_text(CONFIG)
    suppressed = 0
    for problem in found[::2]:  # every other one: the rest goes into the baseline
        if suppressed == SUPPRESSED or problem["line"] == 0:
            continue
        path = root / problem["path"]
        lines = path.read_text().splitlines()
        line = lines[problem["line"] - 1]
        if "#" in line or "gym-scaffold:" in line:
            continue
        lines[problem["line"] - 1] = f"{line}  # gym-scaffold: ignore[{problem['rule']}]"
        path.write_text("\n".join(lines) + "\n")
        suppressed += 1
    subprocess.run([ours, "validate", "--update-baseline", "."], cwd=root, env=RUN_ENV, capture_output=True, check=True)
    baselined = json.loads((root / ".gym-scaffold-baseline.json").read_text())["problems"]
    return suppressed, sum(entry["count"] for entry in baselined)


def main() -> int:
    args = corpus_arguments(__doc__.splitlines()[0], runs=11)
    ours = bin_path("gym-scaffold")
    with tempfile.TemporaryDirectory() as tmp:
        plain = lay_out_corpus(args.corpus, Path(tmp) / "plain")
        adopted = Path(tmp) / "adopted"
        shutil.copytree(plain, adopted)
        suppressed, baselined = adopt(adopted, ours)
        exit_code = subprocess.run([ours, "validate", "."], cwd=adopted, env=RUN_ENV, capture_output=True).returncode
        print(f"adopted copy: {suppressed} problems suppressed inline, {baselined} baselined, exit {exit_code}")
        print(f"{args.runs} runs each, alternating\n")
        print(f"{'case':<10} {'plain':>9} {'adopted':>9} {'ratio':>7} {'target':>7}")
        failed = exit_code != 0
        for name, extra in (("cached", []), ("no cache", ["--no-cache"])):
            command = [ours, "validate", *extra, "."]
            # the first run of each warms the file and result caches
            plain_runs, adopted_runs = alternate(partial(timed, command, plain), partial(timed, command, adopted), args.runs)
            plain_wall = statistics.median(t for t, _ in plain_runs)
            adopted_wall = statistics.median(t for t, _ in adopted_runs)
            ratio = adopted_wall / plain_wall
            ok = ratio <= TARGET
            failed |= not ok
            print(f"{name:<10} {plain_wall * 1000:>6.0f} ms {adopted_wall * 1000:>6.0f} ms "
                  f"{ratio:>7.2f} {'<= ' + str(TARGET):>7}{'' if ok else '  MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
