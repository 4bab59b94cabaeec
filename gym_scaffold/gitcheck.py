"""Is every env.yaml kept out of git? Ask git itself.

env.yaml holds endpoints and API keys. It must be ignored by git's own rules (every
.gitignore on the way down, .git/info/exclude, the global excludes file, negations) and
must not be tracked, whether or not it exists yet. Instead of re-implementing gitignore
matching, one `git check-ignore` and one `git ls-files` answer for all locations at once:
two subprocesses per call, since this runs on every commit.

Facts this module relies on (git 2.x):

- `git check-ignore --no-index` works for paths that do not exist and ignores the index;
  with `-v` it also reports a negation (`!env.yaml`) as the matching pattern, so the
  leading `!` decides. `-z` needs `--stdin`. A path outside the work tree, beyond a
  symbolic link or inside a submodule makes the whole call exit 128: such paths are
  sorted out before git sees them.
- A tracked file is never "ignored" for git: `git ls-files` says whether it is in the
  index (staged counts: the next commit would carry it).
- pre-commit and git hooks export `GIT_INDEX_FILE`, `GIT_DIR` and friends, sometimes as
  relative paths. They describe the repository of the hook, not necessarily the one asked
  about, so every `GIT_*` variable is dropped, except the three that say where the
  user's own configuration lives (`GIT_CONFIG_GLOBAL`, `GIT_CONFIG_SYSTEM`,
  `GIT_CONFIG_NOSYSTEM`): the global excludes file is named there.

Nothing here imports click; failures of git become NOTE problems ("check skipped"),
never exceptions.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from gym_scaffold.problem import Problem, Severity
from gym_scaffold.rules import env_gitignore, env_tracked

RULE_GITIGNORE = env_gitignore.ID
RULE_TRACKED = env_tracked.ID
ALL_RULES = frozenset({RULE_GITIGNORE, RULE_TRACKED})

ENV_FILE_NAME = "env.yaml"
GIT_TIMEOUT = 10.0  # seconds per git call; both calls take milliseconds on large repos

# GIT_* variables that locate the user's configuration rather than a repository.
_KEPT_GIT_VARIABLES = frozenset({"GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM"})

Display = Callable[[Path], str]


class GitUnavailable(Exception):
    """git could not answer: not installed, timed out, or failed (the reason is the text)."""


def git_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """`environ` (default: this process's) without the variables that redirect git."""
    source = os.environ if environ is None else environ
    env = {
        key: value
        for key, value in source.items()
        if not key.startswith("GIT_") or key in _KEPT_GIT_VARIABLES
    }
    env["GIT_TERMINAL_PROMPT"] = "0"  # never wait for a credential prompt
    return env


def git_executable() -> str | None:
    """The git found on PATH, or None."""
    return shutil.which("git")


def _run_git(
    cwd: Path, args: Sequence[str], *, stdin: bytes | None = None, ok: Collection[int] = (0,)
) -> bytes:
    """Run `git -C cwd ARGS` in a clean environment; stdout, or GitUnavailable."""
    git = git_executable()
    if git is None:
        raise GitUnavailable("git not found on PATH")
    command = [git, "-C", os.fspath(cwd), *args]
    try:
        completed = subprocess.run(
            command,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            env=git_environment(),
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GitUnavailable(f"git {args[0]} did not answer within {GIT_TIMEOUT:g} s") from None
    except OSError as exc:
        raise GitUnavailable(f"cannot run git: {exc.strerror or exc}") from None
    if completed.returncode not in ok:
        message = _first_line(completed.stderr) or f"exit status {completed.returncode}"
        raise GitUnavailable(f"git {args[0]} failed: {message}")
    return completed.stdout


def run_git(cwd: Path, args: Sequence[str]) -> bytes:
    """`git -C cwd ARGS` in the same clean environment as the checks (validate --fix uses
    it to untrack env.yaml); stdout, or GitUnavailable."""
    return _run_git(cwd, args)


def _first_line(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    line = text.splitlines()[0] if text else ""
    for prefix in ("fatal: ", "error: "):
        if line.startswith(prefix):
            return line[len(prefix) :]
    return line


def find_repo_root(start: Path) -> Path | None:
    """The top of the git work tree containing `start` (a file or a directory).

    None outside a work tree (including inside `.git` or a bare repository), when git is
    not on PATH, or when git refuses the directory (e.g. `safe.directory`).
    """
    directory = Path(start).absolute()
    while not directory.is_dir():
        if directory.parent == directory:
            return None
        directory = directory.parent
    try:
        out = _run_git(directory, ["rev-parse", "--show-toplevel"])
    except GitUnavailable:
        return None
    top = os.fsdecode(out).rstrip("\n")
    return Path(top) if top else None


def default_display(path: Path) -> str:
    """`path` relative to the working directory when it is below it, else absolute."""
    path = Path(path).absolute()
    cwd = Path.cwd()
    for base in (cwd, Path(os.path.realpath(cwd))):
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return str(path)


@dataclass(frozen=True)
class _Location:
    """One env.yaml location to ask git about."""

    relative: str  # POSIX path relative to the repository root, as git wants it
    absolute: Path  # repository root / relative
    display: str


def _skipped(path: str, reason: str, rule: str = RULE_GITIGNORE) -> Problem:
    what = "gitignore" if rule == RULE_GITIGNORE else "tracked-file"
    return Problem(path, 0, 0, Severity.NOTE, rule, f"env.yaml {what} check skipped: {reason}")


def _locate(
    root: Path, env_paths: Sequence[Path], display: Display
) -> tuple[list[_Location], list[Problem]]:
    """Repository-relative locations (root env.yaml first, no duplicates) and notes for
    paths git cannot be asked about (outside the work tree, in a nested repository)."""
    real_root = Path(os.path.realpath(root))
    locations: dict[str, _Location] = {}
    notes: list[Problem] = []
    for given in [root / ENV_FILE_NAME, *env_paths]:
        path = Path(given).absolute()
        # Resolve the directories (symbolic links included: git refuses paths "beyond a
        # symbolic link"), not the file itself: a symlinked env.yaml is its own entry.
        parent = Path(os.path.realpath(path.parent))
        try:
            relative_parent = parent.relative_to(real_root)
        except ValueError:
            notes.append(_skipped(display(path), "the file is outside the git repository"))
            continue
        if not path.name or path.name in (".", ".."):
            continue
        nested = _nested_repository(real_root, relative_parent)
        if nested is not None:
            notes.append(
                _skipped(
                    display(path),
                    f"the file is in the nested repository {display(root / nested)}; "
                    "check it from there",
                )
            )
            continue
        relative = (relative_parent / path.name).as_posix()
        if relative not in locations:
            locations[relative] = _Location(relative, root / relative, display(root / relative))
    return list(locations.values()), notes


def _nested_repository(real_root: Path, relative_parent: Path) -> Path | None:
    """The first directory between the root and the file that is a repository of its own
    (a submodule or a nested clone); git answers for those only from inside them."""
    current = real_root
    for part in relative_parent.parts:
        current = current / part
        if (current / ".git").exists():
            return current.relative_to(real_root)
    return None


@dataclass(frozen=True)
class _Match:
    source: str  # where the pattern is, as git prints it ("" when nothing matched)
    line: int
    pattern: str

    @property
    def ignored(self) -> bool:
        return bool(self.pattern) and not self.pattern.startswith("!")


def _check_ignore(root: Path, relatives: Sequence[str]) -> dict[str, _Match]:
    """The last matching ignore pattern of every path (one git call)."""
    payload = b"".join(os.fsencode(rel) + b"\0" for rel in relatives)
    out = _run_git(
        root,
        ["check-ignore", "--verbose", "--non-matching", "--no-index", "-z", "--stdin"],
        stdin=payload,
        ok=(0, 1),  # 0: some path matched, 1: none did
    )
    fields = out.split(b"\0")
    matches: dict[str, _Match] = {}
    for i in range(0, len(fields) - 3, 4):
        source, line, pattern, name = (os.fsdecode(f) for f in fields[i : i + 4])
        matches[name] = _Match(source, int(line) if line.isdigit() else 0, pattern)
    return matches


def _tracked(root: Path, relatives: Sequence[str]) -> set[str]:
    """The paths among `relatives` that are in the index (one git call)."""
    out = _run_git(root, ["--literal-pathspecs", "ls-files", "-z", "--", *relatives])
    listed = {os.fsdecode(name) for name in out.split(b"\0") if name}
    return {rel for rel in relatives if rel in listed}


def _source_path(root: Path, source: str) -> Path:
    """The file a pattern came from: git prints repository-relative paths for .gitignore
    files and info/exclude, and the configured text for core.excludesFile."""
    if source.startswith("~"):
        return Path(os.path.expanduser(source))
    path = Path(source)
    return path if path.is_absolute() else root / path


def _ignore_line(location: _Location) -> str:
    """The line that ignores this location when added to the root .gitignore."""
    name = location.relative.rsplit("/", 1)[-1]
    if name == ENV_FILE_NAME:
        return ENV_FILE_NAME  # NeMo Gym's own choice: every env.yaml, at any depth
    return "/" + _escape_pattern(location.relative)


def ignore_line(relative: str) -> str:
    """The .gitignore line `validate --fix` adds for an env.yaml at `relative` (POSIX,
    from the repository root)."""
    return _ignore_line(_Location(relative, Path(relative), relative))


def _escape_pattern(relative: str) -> str:
    escaped = "".join("\\" + c if c in "*?[]\\" else c for c in relative)
    if escaped.startswith(("#", "!")):
        escaped = "\\" + escaped
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return escaped


def _not_ignored(root: Path, location: _Location, match: _Match, display: Display) -> Problem:
    gitignore = display(root / ".gitignore")
    line = _ignore_line(location)
    if not match.pattern:  # nothing matches it
        return Problem(
            location.display,
            0,
            0,
            Severity.ERROR,
            RULE_GITIGNORE,
            f"{location.display} is not ignored by git: it holds endpoints and API keys, "
            "and `git add` would commit it",
            f'add the line "{line}" to {gitignore}',
        )
    source = _source_path(root, match.source)
    source_display = display(source)
    message = (
        f'{location.display} is not ignored by git: the negation "{match.pattern}" '
        "on this line un-ignores it"
    )
    in_repository = not Path(match.source).is_absolute() and not match.source.startswith("~")
    in_gitignore = in_repository and Path(match.source).name == ".gitignore"
    if in_gitignore:
        hint = f'remove the line "{match.pattern}" from {source_display} (line {match.line})'
    else:
        # info/exclude and the global excludes file rank below every .gitignore.
        hint = (
            f'remove the line "{match.pattern}" from {source_display} (line {match.line}), '
            f'or add the line "{line}" to {gitignore}, which takes precedence'
        )
    return Problem(
        source_display,
        match.line,
        1 if match.line else 0,
        Severity.ERROR,
        RULE_GITIGNORE,
        message,
        hint,
    )


def _tracked_problem(location: _Location) -> Problem:
    return Problem(
        location.display,
        0,
        0,
        Severity.ERROR,
        RULE_TRACKED,
        f"{location.display} is tracked by git: the endpoints and API keys in it go into "
        "every commit",
        f"git rm --cached {shlex.quote(location.display)}, then commit; "
        "keys it ever held stay in the history, so rotate them",
    )


def check_env_ignored(
    repo_root: Path | None,
    env_paths: Sequence[Path] = (),
    *,
    display: Display | None = None,
    rules: Collection[str] = ALL_RULES,
) -> list[Problem]:
    """Problems with keeping env.yaml out of git.

    `repo_root` is the work tree's top (`find_repo_root`), or None outside a repository.
    `env_paths` are the other places configs expect an env.yaml (absolute, or relative to
    the working directory); `repo_root/env.yaml` is always checked. `display` turns a
    path into the text printed (default: relative to the working directory). `rules`
    limits the result to some of "env-gitignore" and "env-tracked" (each costs one git
    call). A note about a skipped check carries the id of the rule that was skipped;
    when the whole check is skipped (no git, no repository) that is "env-gitignore".

    Never raises for git's sake: no git, no repository, a timeout or a git failure each
    give one NOTE problem saying the check was skipped.
    """
    show = display or default_display
    wanted = set(rules) & ALL_RULES
    if not wanted:
        return []
    note_wanted = RULE_GITIGNORE in wanted
    first = Path(repo_root) / ENV_FILE_NAME if repo_root is not None else None
    if first is None:
        first = Path(env_paths[0]) if env_paths else Path(ENV_FILE_NAME)
    if git_executable() is None:
        return [_skipped(show(first), "git not found on PATH")] if note_wanted else []
    if repo_root is None:
        return [_skipped(show(first), "not inside a git repository")] if note_wanted else []

    root = Path(repo_root).absolute()
    locations, notes = _locate(root, env_paths, show)
    problems: list[Problem] = notes if note_wanted else []
    if not locations:
        return problems
    relatives = [loc.relative for loc in locations]
    if RULE_GITIGNORE in wanted:
        try:
            matches = _check_ignore(root, relatives)
        except GitUnavailable as exc:
            # git cannot answer for this repository; the index question would fail alike
            problems.append(_skipped(show(first), str(exc)))
            return problems
        for loc in locations:
            match = matches.get(loc.relative, _Match("", 0, ""))
            if not match.ignored:
                problems.append(_not_ignored(root, loc, match, show))
    if RULE_TRACKED in wanted:
        try:
            tracked = _tracked(root, relatives)
        except GitUnavailable as exc:
            problems.append(_skipped(show(first), str(exc), RULE_TRACKED))
            return problems
        problems.extend(_tracked_problem(loc) for loc in locations if loc.relative in tracked)
    return problems
