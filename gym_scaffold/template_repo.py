"""Where the Copier templates live, and the git repository `copier update` reads them from.

`templates/` (shipped in the wheel) is one Copier template: `copier.yml` and `_shared/` at its
root, one subdirectory per kind of server (openai-model, azure-openai-model, vllm-model),
chosen by the `template` answer through `_subdirectory`.

`copier update` needs the template as a git repository with a tag per version, and the
installed package's directory is not one. So the version the package carries is committed and
tagged in a local git repository under the user's data directory (`template_home()`). Two
things make a generated server updatable on any machine, not just the one that made it:
- the tag is the template's own version (`templates/VERSION`), the same on every machine that
  installed the same gym-scaffold, not a per-machine counter;
- the answers file records the repository as `~/.local/share/gym-scaffold/templates/...`
  (Copier expands `~`), not as this machine's absolute path.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gym_scaffold import gitcheck

TEMPLATES = ("openai-model", "azure-openai-model", "vllm-model")
REPO_NAME = "model-servers"  # the repository under template_home() holding templates/
VERSION_FILE = "VERSION"  # "<version> sha256:<content hash>", checked by the tests
TEMPLATE_HOME_ENV = "GYM_SCAFFOLD_TEMPLATE_HOME"
TEMPLATE_DIR_ENV = "GYM_SCAFFOLD_TEMPLATE_DIR"  # render from this templates/ directory instead

_IGNORED_PARTS = {"__pycache__", ".git", ".DS_Store"}


class TemplateError(Exception):
    """The templates are missing or their repository cannot be written."""


def templates_root(environ: Mapping[str, str] | None = None) -> Path:
    """templates/ as shipped with the package (wheel) or in the source tree (editable install)."""
    env = os.environ if environ is None else environ
    if env.get(TEMPLATE_DIR_ENV):
        root = Path(env[TEMPLATE_DIR_ENV]).expanduser()
        if (root / "copier.yml").is_file():
            return root.resolve()
        raise TemplateError(f"${TEMPLATE_DIR_ENV} is {root}, which has no copier.yml")
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "copier.yml").is_file():
            return candidate
    raise TemplateError("the templates are missing from this installation of gym-scaffold")


def template_home(environ: Mapping[str, str] | None = None) -> Path:
    """Where the git repository of template versions lives."""
    env = os.environ if environ is None else environ
    if env.get(TEMPLATE_HOME_ENV):
        return Path(env[TEMPLATE_HOME_ENV]).expanduser()
    data_home = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "share")
    return Path(data_home) / "gym-scaffold" / "templates"


def portable_path(path: Path, environ: Mapping[str, str] | None = None) -> str:
    """`path` as `~/...` when it is under the home directory, so it names the same place for
    every user; otherwise as it is."""
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME") or Path.home()).resolve()
    try:
        return "~/" + path.resolve().relative_to(home).as_posix()
    except ValueError:
        return str(path)


def template_files(source: Path) -> list[Path]:
    files = []
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if any(part in _IGNORED_PARTS for part in rel.parts) or path.suffix in (".pyc", ".pyo"):
            continue
        if path.is_file() and rel.as_posix() != VERSION_FILE:
            files.append(rel)
    return files


def content_hash(source: Path) -> str:
    digest = hashlib.sha256()
    for rel in template_files(source):
        digest.update(rel.as_posix().encode() + b"\0")
        digest.update((source / rel).read_bytes() + b"\0")
    return digest.hexdigest()


def recorded_version(source: Path) -> tuple[str, str | None]:
    """(version, content hash) from templates/VERSION; ("0", None) when it is missing."""
    try:
        fields = (source / VERSION_FILE).read_text().split()
    except OSError:
        return "0", None
    version = fields[0] if fields else "0"
    digest = fields[1].removeprefix("sha256:") if len(fields) > 1 else None
    return version, digest


def version_tag(source: Path) -> str:
    """The tag of this template content: its recorded version, or, for content changed since
    (a template being edited), that version with the content hash as a local label."""
    version, recorded = recorded_version(source)
    digest = content_hash(source)
    return version if digest == recorded else f"{version}+dev.{digest[:12]}"


@dataclass(frozen=True)
class TemplateRef:
    repo: Path  # absolute path of the git repository
    tag: str  # the tag holding exactly the template's content
    created: bool  # True when this call committed a new version

    def src_path(self, environ: Mapping[str, str] | None = None) -> str:
        return portable_path(self.repo, environ)


def _git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=env if env is not None else gitcheck.git_environment(),
        capture_output=True,
        text=True,
        check=False,
    )


def _git_ok(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = _git(cwd, *args, env=env)
    if done.returncode != 0:
        raise TemplateError(f"git {' '.join(args)} failed in {cwd}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def has_tag(repo: Path, tag: str) -> bool:
    return (repo / ".git").is_dir() and _git(repo, "rev-parse", "-q", "--verify", f"refs/tags/{tag}").returncode == 0


def sync_template(source: Path | None = None, home: Path | None = None) -> TemplateRef:
    """Make sure the git repository under `home` has a tag with exactly `source`'s content."""
    source = (source or templates_root()).resolve()
    repo = ((home or template_home()) / REPO_NAME).resolve()
    tag = version_tag(source)
    index_file = repo / ".git" / "gym-scaffold-versions"  # lines: "<tag>"

    def known() -> bool:
        return index_file.is_file() and tag in index_file.read_text().split()

    if known():  # the common case: one file read, no git
        return TemplateRef(repo, tag, created=False)

    repo.mkdir(parents=True, exist_ok=True)
    env = gitcheck.git_environment() | {
        "GIT_AUTHOR_NAME": "gym-scaffold",
        "GIT_AUTHOR_EMAIL": "gym-scaffold@localhost",
        "GIT_COMMITTER_NAME": "gym-scaffold",
        "GIT_COMMITTER_EMAIL": "gym-scaffold@localhost",
    }
    with _locked(repo.parent / f".{REPO_NAME}.lock"):
        if known():  # another process may have done it meanwhile
            return TemplateRef(repo, tag, created=False)
        if not (repo / ".git").is_dir():
            _git_ok(repo, "init", "-q", env=env)
        if has_tag(repo, tag):  # tagged, but the index was lost
            with index_file.open("a") as fh:
                fh.write(f"{tag}\n")
            return TemplateRef(repo, tag, created=False)
        for entry in repo.iterdir():
            if entry.name == ".git":
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        for rel in template_files(source):
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / rel, repo / rel)
        _git_ok(repo, "add", "-A", env=env)
        _git_ok(
            repo,
            "-c", "commit.gpgsign=false",
            "commit", "-q", "--allow-empty", "-m", f"gym-scaffold templates {tag}",
            env=env,
        )  # fmt: skip
        _git_ok(repo, "-c", "tag.gpgsign=false", "tag", "-f", tag, env=env)
        with index_file.open("a") as fh:
            fh.write(f"{tag}\n")
        return TemplateRef(repo, tag, created=True)


class _locked:
    """An exclusive file lock (POSIX); elsewhere, no lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: Any = None

    def __enter__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = self.path.open("a")
        try:
            import fcntl

            fcntl.flock(self.fh, fcntl.LOCK_EX)
        except ImportError:
            pass

    def __exit__(self, *exc: object) -> None:
        self.fh.close()

