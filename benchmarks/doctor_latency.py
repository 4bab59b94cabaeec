"""How fast `gym-scaffold doctor` diagnoses, the whole command included (interpreter start,
imports, requests, output).

Targets (issue 4): a 401 diagnosed against a local server in at most 1 s wall; a hanging
server diagnosed within --timeout + 1 s.

    .venv/bin/python benchmarks/doctor_latency.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from doctor_support import KEY, KEY_ENV, MODEL, FakeEndpoint, Reply, clean_env, run_cli, scenario


def timed(args: list[str], cwd: Path) -> tuple[float, int, str]:
    env = clean_env(**{KEY_ENV: KEY})
    started = time.perf_counter()
    r = run_cli(args, cwd=cwd, env=env)
    return time.perf_counter() - started, r.returncode, r.stdout


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hang-timeout", type=float, default=3.0)
    ns = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp, FakeEndpoint() as ep:
        cwd = Path(tmp)
        ep.play(scenario("openai", "invalid_api_key"))
        args = ["doctor", "--base-url", ep.url, "--model", MODEL, "--api-key-env", KEY_ENV]
        timed(args, cwd)  # warm the file cache
        walls = []
        for _ in range(ns.runs):
            wall, code, out = timed(args, cwd)
            assert code == 1 and "invalid_api_key" in out, out
            walls.append(wall)
        best, median, worst = min(walls), statistics.median(walls), max(walls)
        verdict = "ok" if median <= 1.0 else "OVER"
        ok &= median <= 1.0
        print(f"401 diagnosis, whole command: median {median:.3f} s, best {best:.3f} s, worst {worst:.3f} s "
              f"over {ns.runs} runs (target <= 1.0 s): {verdict}")

        import subprocess

        floors = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import openai"], check=True)
            floors.append(time.perf_counter() - started)
        started = time.perf_counter()
        run_cli(["--help"], cwd=cwd, env=clean_env())
        print(f"for scale on this machine now: `python -c 'import openai'` alone takes {statistics.median(floors):.3f} s "
              f"(the floor for any diagnosis that uses the SDK); `gym-scaffold --help` "
              f"{time.perf_counter() - started:.3f} s")

    for where in ("models", "inference"):
        with tempfile.TemporaryDirectory() as tmp, FakeEndpoint() as ep:
            ep.set(where, Reply(behaviour="hang"))
            args = ["doctor", "--base-url", ep.url, "--model", MODEL, "--api-key-env", KEY_ENV,
                    "--timeout", str(ns.hang_timeout)]
            wall, code, out = timed(args, Path(tmp))
            assert code == 1 and "unreachable" in out, out
            limit = ns.hang_timeout + 1.0
            verdict = "ok" if wall <= limit else "OVER"
            ok &= wall <= limit
            print(f"hanging server ({where}), --timeout {ns.hang_timeout:g}: diagnosed in {wall:.3f} s "
                  f"(target <= {limit:g} s): {verdict}")

    with tempfile.TemporaryDirectory() as tmp, FakeEndpoint() as ep:
        s = scenario("openai", "rate_limit_rpm")
        ep.set("inference", Reply(429, {**s["headers"], "retry-after": "90"}, s["body"]))
        wall, code, out = timed(["doctor", "--base-url", ep.url, "--model", MODEL, "--api-key-env", KEY_ENV],
                                Path(tmp))
        assert code == 1 and "rate_limited" in out, out
        print(f"429 with retry-after: 90 (full run incl. inference): diagnosed in {wall:.3f} s, no retry")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
