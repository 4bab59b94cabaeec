"""`gym-scaffold validate` against check-jsonschema on the same files, side by side in one run.

Two cases, as the targets state them:
  one file        - one config file, the way pre-commit runs a hook on a commit touching it
  corpus          - every YAML file of the NeMo Gym sample in one call, nothing cached
  corpus, cached  - the same again, with the results of unchanged files reused

Both tools run as fresh processes (start-up included: it is what a commit waits for),
alternating, several times; the median wall time and the peak memory are reported.
check-jsonschema validates against schemas/config-file.schema.json, the file-shape schema,
with its references resolved from schemas/ (see `peer_command`); a run in which it does
not validate the files is refused rather than timed.
It also checks that `validate` never imports openai, copier or pydantic.

Usage: python benchmarks/validate_vs_check_jsonschema.py [--runs N] [--corpus DIR]
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
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = Path(os.environ.get("GYM_SCAFFOLD_CORPUS") or REPO.parent / "shared" / "corpus" / "nemo-gym")
ONE_FILE = "responses_api_models/openai_model/configs/OpenAI/gpt-4.1-2025-04-14.yaml"
TARGETS = {"one file": 0.6, "corpus": 0.5, "corpus, cached": 0.5}
HEAVY_MODULES = ("openai", "copier", "pydantic")
T = TypeVar("T")


def bin_path(name: str) -> str:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else (shutil.which(name) or name)


# Both tools run as installed tools do: with compiled bytecode (a wheel install writes
# it). PYTHONDONTWRITEBYTECODE, if set, would recompile every module on every run.
RUN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def alternate(first: Callable[[], T], second: Callable[[], T], runs: int) -> tuple[list[T], list[T]]:
    """The results of `runs` calls of `first` and of `second`, after one call of each to warm
    the caches; alternating, so a change in the machine's load falls on both alike."""
    first(), second()
    first_runs, second_runs = [], []
    for _ in range(runs):
        first_runs.append(first())
        second_runs.append(second())
    return first_runs, second_runs


def timed(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one run of `cmd`."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=RUN_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss


def peer_command(files: list[str]) -> list[str]:
    """check-jsonschema validating `files` against the file-shape schema.

    Our schemas' `$id`s are https URLs, so check-jsonschema would look for the schemas that
    config-file.schema.json refers to (server-common.schema.json) on the network: offline,
    it fails there and stops before reading a single file, and the time measured is only
    its start-up. `--base-uri` makes it resolve them from schemas/ instead."""
    schema = REPO / "schemas" / "config-file.schema.json"
    return [bin_path("check-jsonschema"), "--base-uri", schema.as_uri(), "--schemafile", str(schema), *files]


def require_peer_validates(cmd: list[str], cwd: Path) -> None:
    """Exit when `cmd` (check-jsonschema) does not get as far as validating its files."""
    proc = subprocess.run(cmd, cwd=cwd, env=RUN_ENV, capture_output=True, text=True)
    said = proc.stdout + proc.stderr
    validated = "validation done" in said or "Schema validation errors were encountered" in said
    if proc.returncode not in (0, 1) or not validated or "Failure resolving" in said:
        print(f"check-jsonschema did not validate the files (exit {proc.returncode}):\n{said[-2000:]}", file=sys.stderr)
        sys.exit(2)


def lay_out_corpus(corpus: Path, into: Path, pattern: str = "*.yaml") -> Path:
    """A copy of the corpus files matching `pattern` (its YAML files unless told) with the
    repository's layout (empty files from FILES.txt)."""
    for line in (corpus / "FILES.txt").read_text().splitlines():
        rel = line.strip()
        if rel and not rel.endswith("/"):
            (into / rel).parent.mkdir(parents=True, exist_ok=True)
            (into / rel).touch()
    for source in corpus.rglob(pattern):
        if source.is_file() and source.name != "FILES.txt":
            target = into / source.relative_to(corpus)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return into


def imports_of_validate(cwd: Path, target: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gym_scaffold", "validate", target],
        cwd=cwd,
        env=RUN_ENV,
        capture_output=True,
        text=True,
    )
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def corpus_arguments(description: str, runs: int) -> argparse.Namespace:
    """--runs and --corpus, shared by the corpus benchmarks; exits 2 without a corpus."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--runs", type=int, default=runs)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    if not (args.corpus / "FILES.txt").is_file():
        print(f"corpus not found at {args.corpus}", file=sys.stderr)
        sys.exit(2)
    return args


def main() -> int:
    args = corpus_arguments(__doc__.splitlines()[0], runs=15)
    ours = bin_path("gym-scaffold")
    with tempfile.TemporaryDirectory() as tmp:
        root = lay_out_corpus(args.corpus, Path(tmp))
        yaml_files = sorted(str(p.relative_to(root)) for p in root.rglob("*.yaml") if p.stat().st_size)
        cases = {
            "one file": ([ours, "validate", "--no-cache", ONE_FILE], peer_command([ONE_FILE])),
            "corpus": ([ours, "validate", "--no-cache", "."], peer_command(yaml_files)),
            "corpus, cached": ([ours, "validate", "."], peer_command(yaml_files)),
        }
        for their_cmd in {tuple(their_cmd): their_cmd for _, their_cmd in cases.values()}.values():
            require_peer_validates(their_cmd, root)  # each distinct command once
        print(f"{len(yaml_files)} YAML files in the corpus; {args.runs} runs each, alternating\n")
        print(f"{'case':<15} {'gym-scaffold':>14} {'check-jsonschema':>18} {'ratio':>7} {'target':>7}  "
              f"{'peak RSS (MiB) ours / theirs':>30}")
        failed = False
        for name, (our_cmd, their_cmd) in cases.items():
            our_runs, their_runs = alternate(partial(timed, our_cmd, root), partial(timed, their_cmd, root), args.runs)
            our_wall = statistics.median(t for t, _ in our_runs)
            their_wall = statistics.median(t for t, _ in their_runs)
            ratio = our_wall / their_wall
            ok = ratio <= TARGETS[name]
            failed |= not ok
            our_mem = max(m for _, m in our_runs) / 1024
            their_mem = max(m for _, m in their_runs) / 1024
            print(f"{name:<15} {our_wall * 1000:>11.0f} ms {their_wall * 1000:>15.0f} ms {ratio:>7.2f} "
                  f"{'<= ' + str(TARGETS[name]):>7}  {our_mem:>14.1f} / {their_mem:<13.1f}"
                  f"{'' if ok else '  MISSED'}")
        heavy = sorted(imports_of_validate(root, ONE_FILE) & set(HEAVY_MODULES))
        print(f"\nvalidate imports of {', '.join(HEAVY_MODULES)}: {', '.join(heavy) or 'none'}")
        failed |= bool(heavy)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
