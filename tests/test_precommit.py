"""The hooks of .pre-commit-hooks.yaml, run by the real pre-commit in temporary repositories.

pre-commit installs the hooks' environment from a git repository of this project. Two
details shape the fixtures:

- `pre-commit try-repo` takes a checkout's HEAD plus changes to tracked files, not new
  untracked files, so a work tree in the middle of a change would install an incomplete
  package. The tests therefore snapshot what would be committed (tracked and untracked,
  not ignored) of the files the hook installs from into a repository of its own, named by
  a hash of their contents.
- try-repo always installs into a throw-away store (about 15 s). The commit tests use
  `pre-commit install` with PRE_COMMIT_HOME under ~/.cache/gym-scaffold-tests (or
  $GYM_SCAFFOLD_TEST_CACHE), so their environment is built once per snapshot and reused
  across sessions; snapshots unused for three hours are pruned, with their environments
  (`pre-commit gc`).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from git_support import clean_env, git, make_repo, needs_git, write

pytestmark = needs_git

PROJECT = Path(__file__).resolve().parents[1]
CACHE = Path(
    os.environ.get("GYM_SCAFFOLD_TEST_CACHE") or Path.home() / ".cache" / "gym-scaffold-tests"
)
PRE_COMMIT = (sys.executable, "-m", "pre_commit")
TIMEOUT = 900  # seconds; a first environment install downloads wheels
PRUNE_AFTER = 3 * 3600  # seconds unused before a snapshot and its environment (110 MB) go

# What the hook is installed from (pyproject's wheel sources plus top-level files).
SNAPSHOT_DIRS = ("gym_scaffold", "schemas", "templates")

VALIDATE = "gym-scaffold-validate"
ENV_CHECK = "gym-scaffold-env-gitignore"
FIX = "gym-scaffold-fix"

CONFIG = "responses_api_models/openai_model/configs/openai_model.yaml"
GOOD_CONFIG = """\
policy_model:
  responses_api_models:
    openai_model:
      entrypoint: app.py
      openai_base_url: ${policy_base_url}
      openai_api_key: ${policy_api_key}
      openai_model: ${policy_model_name}
"""
BAD_CONFIG = """\
policy_model:
  responses_api_models:
    openai_model:
      entrypoint: app.py
      openai_base_url: https://api.openai.com/v1/chat/completions
      openai_api_key: ${policy_api_key}
      openai_model: gpt-4o-mini
"""
BAD_LOCATION = f"{CONFIG}:5:24: error: "  # the value of openai_base_url
KEY = "sk-proj-Qm7xT2vLc9RwZ4pHs8NbK3dYf6GjA1eU0iOo5"
ENV_YAML = f"""\
policy_base_url: https://api.openai.com/v1
policy_api_key: {KEY}
policy_model_name: gpt-4o-mini
"""


# --- the hook repository ---------------------------------------------------------------


@dataclass(frozen=True)
class HookRepo:
    path: Path
    rev: str


def _snapshot_files() -> list[str]:
    """Project files the hook installs from, as they would be committed."""
    listed = subprocess.run(
        ["git", "-C", str(PROJECT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        env=clean_env(),
        timeout=60,
        check=True,
    ).stdout
    names = sorted({os.fsdecode(n) for n in listed.split(b"\0") if n})
    return [
        name
        for name in names
        if ("/" not in name or name.split("/", 1)[0] in SNAPSHOT_DIRS)
        and os.path.lexists(PROJECT / name)
    ]


def _build_snapshot(files: list[str], target: Path) -> None:
    building = target.with_name(f"{target.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    for name in files:
        destination = building / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / name, destination, follow_symlinks=False)
    make_repo(building)
    git(building, "add", "--all")
    fixed_time = "2024-01-01T00:00:00Z"
    env = clean_env(GIT_AUTHOR_DATE=fixed_time, GIT_COMMITTER_DATE=fixed_time)
    git(building, "commit", "-q", "--no-verify", "-m", "snapshot for the hook tests", env=env)
    try:
        building.rename(target)
    except OSError:  # another session built the same snapshot first
        shutil.rmtree(building, ignore_errors=True)


def run(command, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(command),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=TIMEOUT,
        check=False,
    )


def _prune(store_env: dict[str, str], keep: str) -> None:
    """Drop snapshots (and their environments) unused for PRUNE_AFTER seconds."""
    cutoff = time.time() - PRUNE_AFTER
    for folder in ("hook-repos", "anchors"):
        for entry in (CACHE / folder).iterdir():
            if entry.name != keep and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
    run([*PRE_COMMIT, "gc"], CACHE, store_env)


@pytest.fixture(scope="session")
def hook_repo() -> HookRepo:
    """This project's hook sources, committed in a repository of their own."""
    files = _snapshot_files()
    assert ".pre-commit-hooks.yaml" in files
    digest = hashlib.sha256()
    for name in files:
        path = PROJECT / name
        digest.update(name.encode() + b"\0")
        digest.update(b"x" if os.access(path, os.X_OK) else b"-")
        data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
        digest.update(len(data).to_bytes(8, "big") + data)
    key = digest.hexdigest()[:16]
    target = CACHE / "hook-repos" / key
    if not (target / ".git").is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        _build_snapshot(files, target)
    os.utime(target)
    rev = git(target, "rev-parse", "HEAD").strip()
    return HookRepo(target, rev)


@pytest.fixture(scope="session")
def git_config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Variables that keep the user's own git configuration (and its global excludes,
    which might ignore env.yaml) out of the hooks' view. HOME stays: pip needs its cache."""
    folder = tmp_path_factory.mktemp("git-config")
    excludes = write(folder, "excludes", "")
    config = write(folder, "gitconfig", f"[core]\n\texcludesFile = {excludes}\n")
    return {"GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1"}


def hook_env(**extra: str) -> dict[str, str]:
    env = clean_env(**extra)
    for name in list(env):
        # SKIP would skip hooks; GITHUB_ACTIONS would switch validate to annotations
        if name in ("SKIP", "GITHUB_ACTIONS") or (
            name.startswith("PRE_COMMIT") and name != "PRE_COMMIT_HOME"
        ):
            del env[name]
    env["NO_COLOR"] = "1"
    return env


@pytest.fixture(scope="session")
def store_env(hook_repo: HookRepo, git_config: dict[str, str]) -> dict[str, str]:
    """Environment for pre-commit with the shared store, the hook environment installed.

    An anchor repository whose config names this snapshot keeps `pre-commit gc` from
    removing its environment while it is in use."""
    env = hook_env(PRE_COMMIT_HOME=str(CACHE / "pre-commit"), **git_config)
    anchor = CACHE / "anchors" / hook_repo.path.name
    if not (anchor / ".git").is_dir():
        make_repo(anchor)
    write(anchor, ".pre-commit-config.yaml", precommit_config(hook_repo))
    os.utime(anchor)
    installed = run([*PRE_COMMIT, "install-hooks"], anchor, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    _prune(env, keep=hook_repo.path.name)
    return env


def precommit_config(hook_repo: HookRepo) -> str:
    return (
        "repos:\n"
        f"  - repo: {hook_repo.path}\n"
        f"    rev: {hook_repo.rev}\n"
        "    hooks:\n"
        f"      - id: {VALIDATE}\n"
        f"      - id: {ENV_CHECK}\n"
    )


# --- reading pre-commit's output -------------------------------------------------------

_STATUS = re.compile(
    r"^(?P<name>.+?)\.{2,}(?:\(no files to check\))?(?P<status>Passed|Failed|Skipped)$"
)


def hook_results(output: str) -> dict[str, tuple[str, str]]:
    """hook id -> (status, what pre-commit printed under it), from `--verbose` output."""
    results: dict[str, tuple[str, str]] = {}
    status = hook_id = None
    for line in output.splitlines():
        match = _STATUS.match(line)
        if match:
            status, hook_id = match["status"], None
        elif status is not None and hook_id is None and line.startswith("- hook id: "):
            hook_id = line.removeprefix("- hook id: ").strip()
            results[hook_id] = (status, "")
        elif hook_id is not None:
            results[hook_id] = (status, results[hook_id][1] + line + "\n")
    return results


def has_line(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.MULTILINE) is not None


# --- try-repo ----------------------------------------------------------------------------


def nemo_gym_repo(root: Path, *, config: str, ignore_env: bool, env_yaml: bool) -> Path:
    """A small user repository laid out like NeMo Gym, with `config` staged."""
    make_repo(root, {".gitignore": "__pycache__/\n" + ("env.yaml\n" if ignore_env else "")})
    write(root, CONFIG, config)
    write(root, "responses_api_models/openai_model/app.py", "")
    write(root, "responses_api_models/openai_model/requirements.txt", "-e nemo-gym[dev] @ ../../\n")
    if env_yaml:
        write(root, "env.yaml", ENV_YAML)
    git(root, "add", ".gitignore", CONFIG, "responses_api_models/openai_model/app.py")
    return root


def try_repo(hook_repo: HookRepo, cwd: Path, env: dict[str, str], *files: str):
    """Every hook of the repository but the fixer, which would repair the file before the
    check hooks see it (`test_fix_hook_...` below runs that one)."""
    command = [*PRE_COMMIT, "try-repo", str(hook_repo.path), "--ref", hook_repo.rev]
    command += ["--verbose", "--color", "never", "--files", *files]
    return run(command, cwd, {**env, "SKIP": FIX})


def test_try_repo_bad_config_fails_with_its_location(
    hook_repo: HookRepo, git_config: dict[str, str], tmp_path: Path
) -> None:
    repo = nemo_gym_repo(tmp_path / "user", config=BAD_CONFIG, ignore_env=True, env_yaml=True)
    result = try_repo(hook_repo, repo, hook_env(**git_config), CONFIG)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    hooks = hook_results(output)
    assert hooks[VALIDATE][0] == "Failed", output
    assert BAD_LOCATION in hooks[VALIDATE][1], output
    assert has_line(rf"^{re.escape(BAD_LOCATION)}.*\[base-url\]$", hooks[VALIDATE][1])
    assert hooks[ENV_CHECK][0] == "Passed", output
    assert KEY not in output and KEY[-12:] not in output


def test_try_repo_good_config_passes_and_unignored_env_fails(
    hook_repo: HookRepo, git_config: dict[str, str], tmp_path: Path
) -> None:
    repo = nemo_gym_repo(tmp_path / "user", config=GOOD_CONFIG, ignore_env=False, env_yaml=True)
    result = try_repo(hook_repo, repo, hook_env(**git_config), CONFIG)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    hooks = hook_results(output)
    assert hooks[VALIDATE][0] == "Passed", output
    assert hooks[ENV_CHECK][0] == "Failed", output
    assert has_line(
        r"^env\.yaml: error: env\.yaml is not ignored by git.*\[env-gitignore\]$",
        hooks[ENV_CHECK][1],
    ), output
    assert 'add the line "env.yaml" to .gitignore' in hooks[ENV_CHECK][1]
    assert KEY not in output and KEY[-12:] not in output


# --- git commit with the hooks installed -------------------------------------------------


def installed_repo(root: Path, hook_repo: HookRepo, env: dict[str, str], *, ignore_env: bool):
    """A user repository with both hooks installed as its pre-commit hook."""
    gitignore = "__pycache__/\n" + ("env.yaml\n" if ignore_env else "")
    files = {".gitignore": gitignore, ".pre-commit-config.yaml": precommit_config(hook_repo)}
    make_repo(root, files, commit=True)
    installed = run([*PRE_COMMIT, "install"], root, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    write(root, "responses_api_models/openai_model/app.py", "")
    write(root, "responses_api_models/openai_model/requirements.txt", "-e nemo-gym[dev] @ ../../\n")
    return root


def commit(repo: Path, env: dict[str, str], *paths: str) -> subprocess.CompletedProcess:
    git(repo, "add", "--", *paths)
    return run(["git", "commit", "-m", "change"], repo, env)


def commit_count(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "HEAD"))


def test_bad_config_blocks_the_commit_and_good_one_passes(
    hook_repo: HookRepo, store_env: dict[str, str], tmp_path: Path
) -> None:
    repo = installed_repo(tmp_path / "user", hook_repo, store_env, ignore_env=True)
    write(repo, CONFIG, BAD_CONFIG)
    blocked = commit(repo, store_env, CONFIG)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, output
    assert has_line(rf"^{re.escape(BAD_LOCATION)}.*\[base-url\]$", output), output
    assert commit_count(repo) == 1

    write(repo, CONFIG, GOOD_CONFIG)
    passed = commit(repo, store_env, CONFIG, "responses_api_models/openai_model/app.py")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert commit_count(repo) == 2


def test_unignored_env_yaml_blocks_every_commit_until_ignored(
    hook_repo: HookRepo, store_env: dict[str, str], tmp_path: Path
) -> None:
    repo = installed_repo(tmp_path / "user", hook_repo, store_env, ignore_env=False)
    write(repo, "env.yaml", ENV_YAML)
    write(repo, "README.md", "not a config: only the always-run hook applies\n")
    blocked = commit(repo, store_env, "README.md")
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, output
    assert has_line(r"^env\.yaml: error: .*\[env-gitignore\]$", output), output
    assert KEY not in output and KEY[-12:] not in output
    assert commit_count(repo) == 1

    write(repo, ".gitignore", "__pycache__/\nenv.yaml\n")
    passed = commit(repo, store_env, "README.md", ".gitignore")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert commit_count(repo) == 2
    assert "env.yaml" not in git(repo, "ls-files")


def test_staged_env_yaml_blocks_the_commit_even_when_ignored(
    hook_repo: HookRepo, store_env: dict[str, str], tmp_path: Path
) -> None:
    # Inside `git commit` the hook sees GIT_INDEX_FILE and friends; the check must still
    # read this repository's index and find the force-added file.
    repo = installed_repo(tmp_path / "user", hook_repo, store_env, ignore_env=True)
    write(repo, "env.yaml", ENV_YAML)
    git(repo, "add", "--force", "env.yaml")
    write(repo, CONFIG, GOOD_CONFIG)
    blocked = commit(repo, store_env, CONFIG)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, output
    assert has_line(r"^env\.yaml: error: .*\[env-tracked\]$", output), output
    assert "git rm --cached env.yaml" in output
    assert commit_count(repo) == 1

    git(repo, "rm", "-q", "--cached", "env.yaml")
    passed = commit(repo, store_env, CONFIG, "responses_api_models/openai_model/app.py")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "env.yaml" not in git(repo, "ls-files")


def test_fix_hook_rewrites_a_staged_config_and_the_next_commit_passes(
    hook_repo: HookRepo, store_env: dict[str, str], tmp_path: Path
) -> None:
    root = tmp_path / "user"
    config = precommit_config(hook_repo).replace(f"      - id: {VALIDATE}\n", f"      - id: {FIX}\n")
    assert FIX in config
    make_repo(root, {".gitignore": "__pycache__/\nenv.yaml\n", ".pre-commit-config.yaml": config}, commit=True)
    installed = run([*PRE_COMMIT, "install"], root, store_env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    write(root, "responses_api_models/openai_model/app.py", "")
    write(root, "responses_api_models/openai_model/requirements.txt", "-e nemo-gym[dev] @ ../../\n")
    broken = GOOD_CONFIG.replace("${policy_api_key}", "??  # filled in later")
    write(root, CONFIG, broken)
    server = ("responses_api_models/openai_model/app.py", "responses_api_models/openai_model/requirements.txt")

    blocked = commit(root, store_env, CONFIG, *server)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, output
    assert has_line(r"^gym-scaffold fix \(NeMo Gym configs\)\.+Failed$", output), output
    assert "files were modified by this hook" in output
    assert "Fixed 1 problem in 1 file." in output
    assert (root / CONFIG).read_text() == broken.replace("??  #", "???  #")
    assert commit_count(root) == 1

    passed = commit(root, store_env, CONFIG)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert commit_count(root) == 2
    assert git(root, "show", f"HEAD:{CONFIG}") == broken.replace("??  #", "???  #")


# --- the README's adoption recipe: a local hook and a baseline ------------------------------


def local_hook_config(hook_repo: HookRepo) -> str:
    """The README's `repo: local` snippet, installing gym-scaffold from a local clone."""
    return (
        "repos:\n"
        "  - repo: local\n"
        "    hooks:\n"
        "      - id: gym-scaffold-validate\n"
        "        name: gym-scaffold validate\n"
        "        entry: gym-scaffold validate\n"
        "        language: python\n"
        f"        additional_dependencies: ['{hook_repo.path}']\n"
        "        files: ^(responses_api_models|resources_servers|responses_api_agents|benchmarks|environments)/.*\\.ya?ml$\n"
    )


def test_local_hook_with_a_baseline_passes_known_problems_and_blocks_new_ones(
    hook_repo: HookRepo, store_env: dict[str, str], tmp_path: Path
) -> None:
    files = {".gitignore": "__pycache__/\nenv.yaml\n", ".pre-commit-config.yaml": local_hook_config(hook_repo)}
    repo = make_repo(tmp_path / "user", files, commit=True)
    installed = run([*PRE_COMMIT, "install"], repo, store_env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    write(repo, "responses_api_models/openai_model/app.py", "")
    write(repo, "responses_api_models/openai_model/requirements.txt", "-e nemo-gym[dev] @ ../../\n")
    write(repo, CONFIG, BAD_CONFIG)
    blocked = commit(repo, store_env, CONFIG, "responses_api_models")
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, output
    assert has_line(rf"^{re.escape(BAD_LOCATION)}.*\[base-url\]$", output), output

    # The recipe: name the baseline in the configuration, write it once, commit it.
    write(repo, "pyproject.toml", '[tool.gym-scaffold]\nbaseline = ".gym-scaffold-baseline.json"\n')
    updated = run([sys.executable, "-m", "gym_scaffold", "validate", "--update-baseline"], repo, store_env)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    paths = (CONFIG, "responses_api_models", "pyproject.toml", ".gym-scaffold-baseline.json")
    passed = commit(repo, store_env, *paths)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert commit_count(repo) == 2

    # A new mistake in the same file is still caught, and only it is reported.
    write(repo, CONFIG, BAD_CONFIG.replace("      openai_model: gpt-4o-mini\n", "      openai_model: gpt-4o-mini\n      max_tokns: 5\n"))
    blocked = commit(repo, store_env, CONFIG)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, output
    reported = [line for line in output.splitlines() if ": error: " in line or ": warning: " in line]
    assert len(reported) == 1 and reported[0].endswith("[unknown-key]"), output
    assert "1 baselined" in output
    assert commit_count(repo) == 2


# --- the editor schemas, after checkouts and merges -----------------------------------------

SCHEMA_EXPORT = "gym-scaffold-schema-export"
QUIZ = "resources_servers/quiz/app.py"
QUIZ_APP = """\
from nemo_gym.base_resources_server import BaseResourcesServerConfig


class QuizConfig(BaseResourcesServerConfig):
    judge_url: str
"""


def test_schema_export_hook_keeps_editor_schemas_in_step_with_checkouts_and_merges(
    hook_repo: HookRepo, store_env: dict[str, str], tmp_path: Path
) -> None:
    import json

    files = {
        ".gitignore": "__pycache__/\nenv.yaml\n",
        ".pre-commit-config.yaml": precommit_config(hook_repo) + f"      - id: {SCHEMA_EXPORT}\n",
        QUIZ: QUIZ_APP,
    }
    repo = make_repo(tmp_path / "user", files, commit=True)
    hook_types = ("pre-commit", "post-checkout", "post-merge")
    installed = run([*PRE_COMMIT, "install", *(f"--hook-type={kind}" for kind in hook_types)], repo, store_env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    schema = repo / ".gym-scaffold" / "schemas" / "resources_servers.schema.json"

    def quiz_fields() -> set[str]:
        return set(json.loads(schema.read_text())["$defs"]["derived.resources_servers.quiz"]["properties"])

    def git_run(*args: str) -> None:
        done = run(["git", *args], repo, store_env)  # git runs the installed hooks
        assert done.returncode == 0, done.stdout + done.stderr

    assert not schema.exists()
    git_run("checkout", "-q", "-b", "rounds")
    assert {"judge_url"} <= quiz_fields() and "rounds" not in quiz_fields()
    write(repo, QUIZ, QUIZ_APP + "    rounds: int = 3\n")
    passed = commit(repo, store_env, QUIZ)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    git_run("checkout", "-q", "main")
    assert "rounds" not in quiz_fields()
    git_run("merge", "-q", "--ff-only", "rounds")
    assert "rounds" in quiz_fields()
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""  # git ignores them
