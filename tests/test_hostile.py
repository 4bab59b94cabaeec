"""The hostile corpus (tests/hostile/): every case through the real CLI, in a subprocess.

Each case is `NAME.expect.json`, with its input `NAME.yaml` beside it (or generated here
when it would be too big to commit). tests/hostile/README.md describes the fields. For every
case the command must: exit with the expected code, report the expected rules at the
expected places, finish within 2 s of wall time and 256 MB of peak RSS, never print a
traceback or an internal error, and never run code from the YAML (no PWNED file appears).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

HOSTILE = Path(__file__).resolve().parent / "hostile"
CASES = sorted(p.name[: -len(".expect.json")] for p in HOSTILE.glob("*.expect.json"))

WALL_LIMIT_S = 2.0
RSS_LIMIT_KB = 256 * 1024
HANG_KILL_S = 15.0  # a case still running then is a hang: killed and failed
ADDRESS_SPACE_CAP = 4 * 1024**3  # safety net so a runaway case cannot take the machine down
MARKER = "PWNED"  # what the code-execution cases would create if any of their code ran

CONFIG = (
    "policy_model:\n  responses_api_models:\n    openai_model:\n      entrypoint: app.py\n"
    "      openai_base_url: https://api.openai.com/v1\n      openai_api_key: ${policy_api_key}\n"
    "      openai_model: gpt-4o-mini\n"
)


def _write_twenty_mb(path: Path) -> None:
    line = b"      note_%07d: padding padding padding padding padding padding padding\n"
    with path.open("wb") as fh:
        fh.write(CONFIG.encode())
        i = 0
        while fh.tell() < 20 * 1024 * 1024:
            fh.write(b"".join(line % (i + j) for j in range(1000)))
            i += 1000


GENERATORS = {
    "nest-flow-lists-10000": lambda p: p.write_text("a: " + "[" * 10000 + "]" * 10000 + "\n"),
    "nest-flow-maps-10000": lambda p: p.write_text("a: " + "{a: " * 10000 + "1" + "}" * 10000 + "\n"),
    "nest-block-1000": lambda p: p.write_text("".join(" " * i + "k:\n" for i in range(1000)) + " " * 1000 + "k: 1\n"),
    "twenty-mb": _write_twenty_mb,
    "many-values": lambda p: p.write_text("a: [" + "1," * 300_000 + "1]\n"),
    "long-line": lambda p: p.write_text(CONFIG + "      extra: " + "x" * 100_000 + "\n"),
    "long-model-name": lambda p: p.write_text(CONFIG.replace("gpt-4o-mini", "g" * 100_000)),
    "interpolation-chain": lambda p: p.write_text(
        CONFIG + "".join(f"v{i}: ${{v{i + 1}}}\n" for i in range(5000)) + "v5000: end\n"
    ),
}


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    wall: float
    max_rss_kb: int


def _limit_address_space(pid: int) -> None:
    if hasattr(resource, "prlimit"):  # Linux; set right after the start, before any YAML is read
        try:
            resource.prlimit(pid, resource.RLIMIT_AS, (ADDRESS_SPACE_CAP, ADDRESS_SPACE_CAP))
        except (OSError, ValueError):  # the child already exited
            pass


# The child is started by this small launcher, not by pytest itself: on Linux a process
# inherits the peak RSS of whatever forked it (a test session grows to hundreds of MB),
# so only a child forked from a small process has a peak that is its own.
LAUNCHER = """
import os, sys
rss_file, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execv(argv[0], argv)
_, status, usage = os.wait4(pid, 0)
with open(rss_file, "w") as handle:
    handle.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_measured(args: list[str], cwd: Path, env: dict[str, str]) -> Run:
    """Run `python -m gym_scaffold ARGS`; wall time, and its own peak RSS (wait4's rusage)."""
    out_path, err_path = cwd.parent / "stdout.txt", cwd.parent / "stderr.txt"
    rss_path = cwd.parent / "maxrss.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", LAUNCHER, str(rss_path),
             sys.executable, "-m", "gym_scaffold", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # a hang is killed with its launcher
        )
        _limit_address_space(proc.pid)
        while proc.poll() is None:
            if time.monotonic() - started > HANG_KILL_S:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                pytest.fail(f"hang: {args} still running after {HANG_KILL_S} s")
            time.sleep(0.005)
        wall = time.monotonic() - started
    return Run(
        proc.returncode,
        out_path.read_text(errors="replace"),
        err_path.read_text(errors="replace"),
        wall,
        int(rss_path.read_text()),
    )


def _environment(tmp: Path, *, git_on_path: bool) -> dict[str, str]:
    drop = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "NO_COLOR", "GYM_SCAFFOLD_DEBUG", "GYM_SCAFFOLD_NO_CACHE")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GIT_", "GITHUB_")) and k not in drop and not k.lower().endswith("_proxy")
    }
    env |= {
        "XDG_CACHE_HOME": str(tmp / "cache"),
        "XDG_DATA_HOME": str(tmp / "data"),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "NO_PROXY": "*",
    }
    if not git_on_path:
        empty = tmp / "empty-bin"
        empty.mkdir(exist_ok=True)
        env["PATH"] = str(empty)
    return env


def make_unreadable(path: Path) -> None:
    """A file whose read fails. Mode 000 stops everyone but root, and the tests may run as
    root; for root, a link to /proc/self/mem: a regular file whose read at offset 0 fails
    with EIO for any user, in whichever process opens it."""
    if os.geteuid() != 0:
        path.write_text("policy_api_key: ???\n")
        path.chmod(0)
        return
    if not Path("/proc/self/mem").exists():
        pytest.skip("running as root without /proc/self/mem: no way to make a file unreadable")
    path.symlink_to("/proc/self/mem")


def build_tree(tmp: Path, name: str, expect: dict) -> Path:
    """The case's checkout: a git repository ignoring env.yaml, with the model server's
    directory in place (so only the hostile part is reported), and the case's files."""
    repo = tmp / "repo"
    (repo / "configs").mkdir(parents=True)
    (repo / "responses_api_models" / "openai_model").mkdir(parents=True)
    (repo / "responses_api_models" / "openai_model" / "app.py").write_text("# the server\n")
    (repo / "responses_api_models" / "openai_model" / "requirements.txt").write_text("nemo-gym\n")
    (repo / ".gitignore").write_text("env.yaml\n")
    source = HOSTILE / f"{name}.yaml"
    target = repo / "configs" / f"{name}.yaml"
    if "generate" in expect:
        GENERATORS[expect["generate"]](target)
    elif source.exists():
        shutil.copyfile(source, target)
    for rel, text in expect.get("files", {}).items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    for rel, hex_bytes in expect.get("files_bytes", {}).items():
        (repo / rel).write_bytes(bytes.fromhex(hex_bytes))
    for step in expect.get("setup", []):
        if "fifo" in step:
            os.mkfifo(repo / step["fifo"])
        elif "mkdir" in step:
            (repo / step["mkdir"]).mkdir(parents=True)
        elif "symlink" in step:
            target_text, link = step["symlink"]
            (repo / link).symlink_to(target_text)
        elif "replace_with_fifo" in step:
            (repo / step["replace_with_fifo"]).unlink()
            os.mkfifo(repo / step["replace_with_fifo"])
        elif "unreadable" in step:
            make_unreadable(repo / step["unreadable"])
    if not any(step.get("no_git_repo") for step in expect.get("setup", [])):
        subprocess.run(["git", "init", "-q", str(repo)], check=True, env=_environment(tmp, git_on_path=True))
    return repo


def _args(expect: dict, name: str) -> list[str]:
    args = expect.get("args", ["validate", "{input}"])
    return [a.replace("{input}", f"configs/{name}.yaml") for a in args]


def _check_bounds(run: Run, args: list[str]) -> None:
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout, run.stderr[-2000:]
    assert "internal error" not in run.stderr, run.stderr
    assert run.wall < WALL_LIMIT_S, f"{args} took {run.wall:.2f} s"
    assert run.max_rss_kb < RSS_LIMIT_KB, f"{args} peaked at {run.max_rss_kb // 1024} MB"


def _check_problems(report: dict, expect: dict) -> None:
    problems = report["problems"]
    rules = {p["rule"] for p in problems}
    missing = set(expect.get("rules", [])) - rules
    assert not missing, f"expected rules {sorted(missing)} among {problems}"
    for p in problems:
        assert p["path"] and isinstance(p["line"], int) and p["line"] >= 0
    if "message" in expect:
        wanted = expect["message"].lower()
        assert any(wanted in p["message"].lower() for p in problems), problems
    if "location" in expect:
        loc = expect["location"]
        assert any(
            p["rule"] == loc["rule"] and p["line"] == loc["line"] and p["column"] == loc.get("column", p["column"])
            for p in problems
        ), f"no {loc} among {[(p['rule'], p['line'], p['column']) for p in problems]}"
    if expect["exit"] == 1:
        assert any(p["severity"] in ("error", "warning") for p in problems)


@pytest.mark.parametrize("name", CASES)
def test_hostile_case(name: str, tmp_path: Path) -> None:
    expect = json.loads((HOSTILE / f"{name}.expect.json").read_text())
    repo = build_tree(tmp_path, name, expect)
    git_on_path = not any(step.get("no_git_on_path") for step in expect.get("setup", []))
    env = _environment(tmp_path, git_on_path=git_on_path)
    args = _args(expect, name)
    try:
        outcomes = []
        if args[0] == "validate":
            json_args = ["validate", "--format", "json", "-v", *args[1:]]  # notes listed too
            run = run_measured(json_args, repo, env)
            _check_bounds(run, json_args)
            assert run.code == expect["exit"], f"exit {run.code}, expected {expect['exit']}\n{run.stdout}{run.stderr}"
            if run.code in (0, 1):
                _check_problems(json.loads(run.stdout), expect)
            outcomes.append(run)
        run = run_measured(args, repo, env)  # the text report, as a person or a hook sees it
        _check_bounds(run, args)
        assert run.code == expect["exit"], f"exit {run.code}, expected {expect['exit']}\n{run.stdout}{run.stderr}"
        if run.code == 2:
            # One line saying what is wrong; click's usage errors put theirs last, after the
            # usage synopsis, as every click program does.
            lines = run.stderr.strip().splitlines()
            usage = len(lines) > 1 and lines[0].startswith("Usage:") and lines[-1].startswith("Error: ")
            assert len(lines) == 1 or usage, f"expected a one-line error, got {run.stderr!r}"
            assert expect.get("stderr", "") in lines[-1]
        elif run.code == 1:
            assert run.stdout.strip(), "exit 1 without saying why"
        assert not list(tmp_path.rglob(MARKER)), "code from the YAML ran"
    except AssertionError:
        if "pending" in expect:
            pytest.xfail(expect["pending"])
        raise
    if "pending" in expect:
        pytest.fail(f"pending case now passes: remove 'pending' from {name}.expect.json ({expect['pending']})")


def test_corpus_is_large_and_each_case_explains_itself() -> None:
    assert len(CASES) >= 50
    for name in CASES:
        expect = json.loads((HOSTILE / f"{name}.expect.json").read_text())
        assert expect.get("why") and expect.get("exit") in (0, 1, 2), name
        assert (HOSTILE / f"{name}.yaml").exists() or "generate" in expect or "args" in expect, name
        assert expect.get("generate") is None or expect["generate"] in GENERATORS, name
