"""Wall time of `gym-scaffold schema export` on the NeMo Gym corpus, as a fresh process.

The corpus is laid out with the repository's paths (FILES.txt) and its Python sources,
so every implementation directory is there and the schemas of those without a
hand-written one are derived from their real app.py (with the imports it follows).

  export            - the schemas directory removed before each run, derived schemas
                      in the cache (as after any earlier `validate`, `new` or export):
                      every schema built and written. Target: at most 1.0 s.
  export, unchanged - run again: built, compared, nothing written
  export, cold      - a fresh XDG_CACHE_HOME (a checkout seen for the first time): every
                      app.py parsed, on every core. Target: at most 1.0 s.

Usage: python benchmarks/schema_export.py [--runs N] [--corpus DIR]
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from validate_vs_check_jsonschema import RUN_ENV, bin_path, corpus_arguments, lay_out_corpus  # noqa: E402

TARGET = 1.0
TARGETED = ("export", "export, cold")
SCHEMAS = Path(".gym-scaffold") / "schemas"


def run_export(tree: Path, cache: Path) -> float:
    """Seconds of one `schema export`; exits when it did not write every schema."""
    start = time.perf_counter()
    done = subprocess.run([bin_path("gym-scaffold"), "schema", "export"], cwd=tree,
                          env=RUN_ENV | {"XDG_CACHE_HOME": str(cache)}, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    written = sorted(p.name for p in (tree / SCHEMAS).glob("*.schema.json"))
    if done.returncode != 0 or len(written) != 6:
        sys.exit(f"schema export failed (exit {done.returncode}, wrote {written}):\n{done.stderr[-2000:]}")
    return elapsed


def main() -> int:
    args = corpus_arguments(__doc__.splitlines()[0], runs=9)
    with tempfile.TemporaryDirectory() as tmp:
        tree = lay_out_corpus(args.corpus, Path(tmp) / "nemo-gym")
        for source in args.corpus.rglob("*.py"):  # the servers' real config classes
            shutil.copyfile(source, tree / source.relative_to(args.corpus))
        warm = Path(tmp) / "cache"
        run_export(tree, warm)  # fills the derived-schema cache (not counted)
        document = json.loads((tree / SCHEMAS / "resources_servers.schema.json").read_text())
        derived = sum(1 for name in document["$defs"] if name.startswith("derived.") and name.count(".") == 2)
        times: dict[str, list[float]] = {"export": [], "export, unchanged": [], "export, cold": []}
        for i in range(args.runs):
            shutil.rmtree(tree / SCHEMAS)
            times["export"].append(run_export(tree, warm))
            times["export, unchanged"].append(run_export(tree, warm))
            times["export, cold"].append(run_export(tree, Path(tmp) / f"cold-{i}"))
    print(f"corpus: {derived} implementations with a schema derived from app.py")
    status = 0
    for name, values in times.items():
        median = statistics.median(values)
        verdict = ""
        if name in TARGETED:
            verdict = f"  target <= {TARGET:.1f} s: {'ok' if median <= TARGET else 'MISSED'}"
            status = max(status, 0 if median <= TARGET else 1)
        print(f"{name:<20} median {median:6.3f} s  (min {min(values):.3f}, {len(values)} runs){verdict}")
    return status


if __name__ == "__main__":
    sys.exit(main())
