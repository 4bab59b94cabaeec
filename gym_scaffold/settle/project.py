"""The project configuration: `[tool.gym-scaffold]` in the checkout root's pyproject.toml,
or `.gym-scaffold.toml` (same keys, at its top level) for a repository without one.

    [tool.gym-scaffold]
    ignore = ["server-port"]                           # rules never reported
    select = ["missing-key", "unknown-key"]            # only these rules (default: all)
    per-file-ignores = {"benchmarks/**" = ["missing-key"]}
    exclude = ["resources_servers/legacy"]             # paths never checked
    severity = {"unknown-key" = "warning"}             # error, warning or off
    strict = true                                      # warnings fail the run
    baseline = ".gym-scaffold-baseline.json"           # problems known and accepted

Anything wrong in it (a key, a rule id, a glob, a severity, a type) is a ConfigError
naming the file, line and column, so a typo never silently turns a check off.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gym_scaffold.rules import rule_ids
from gym_scaffold.safeio import read_or_none
from gym_scaffold.settle import memo
from gym_scaffold.settle.globs import Glob, GlobError, compile_glob

PYPROJECT = "pyproject.toml"
OWN_FILE = ".gym-scaffold.toml"
TABLE = "gym-scaffold"
SEVERITIES = ("error", "warning", "off")
KEYS = ("ignore", "select", "per-file-ignores", "exclude", "severity", "strict", "baseline")


@dataclass(frozen=True)
class ConfigProblem:
    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}" if self.line else self.path
        return f"{where}: error: {self.message}"


class BaselineError(Exception):
    """The baseline file cannot be read or written; the message says why."""


class ConfigError(Exception):
    """The project configuration (or a command-line choice) cannot be used."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@dataclass
class Project:
    """What the project configuration asks for; the defaults when there is none."""

    root: Path
    source: Path | None = None  # the file it came from
    ignore: frozenset[str] = frozenset()
    select: frozenset[str] | None = None  # None: every rule
    per_file_ignores: list[tuple[Glob, frozenset[str]]] = field(default_factory=list)
    exclude: list[Glob] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    strict: bool = False
    baseline: Path | None = None

    def relative(self, path: Path) -> str | None:
        """`path` relative to the root with `/` separators; None outside the root."""
        for candidate in (path, None):
            try:
                return (candidate or path.resolve()).relative_to(self.root).as_posix()
            except ValueError:
                continue
            except (OSError, RuntimeError):  # a symlink loop: only the lexical answer
                break
        return None

    def relative_text(self, absolute: str) -> str | None:
        """`relative` for a normalized absolute path string (the common case, lexically)."""
        base = self._root_text
        if absolute.startswith(base) and len(absolute) > len(base):
            return absolute[len(base) :].replace(os.sep, "/")
        return self.relative(Path(absolute))

    @property
    def _root_text(self) -> str:
        return os.fspath(self.root).rstrip(os.sep) + os.sep

    def excluded(self, path: Path) -> bool:
        relative = self.relative_text(os.path.normpath(path))
        return relative is not None and any(glob.matches(relative) for glob in self.exclude)


def _toml() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib


def did_you_mean(unknown: str, known: Any) -> str:
    import difflib  # only for a mistake

    close = difflib.get_close_matches(unknown, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def unknown_rule_message(rule: str) -> str:
    return f"unknown rule {rule!r}{did_you_mean(rule, rule_ids())} (`gym-scaffold rules` lists them)"


class _Locator:
    """Where a key or value sits in the TOML text (tomllib gives no positions): the
    first line, at or after the table's header, that mentions it as a key or string."""

    def __init__(self, text: str, header: re.Pattern[str] | None) -> None:
        self.lines = text.splitlines()
        self.start = 0
        if header is not None:
            self.start = next((i for i, line in enumerate(self.lines) if header.match(line)), 0)

    def find(self, *needles: str) -> tuple[int, int]:
        """(line, column), 1-based, of the last of `needles` found, each searched from
        where the one before it was found."""
        line, column = self.start, 0
        for needle in needles:
            quoted = re.compile(rf"""(["']){re.escape(needle)}\1|(?<![\w-]){re.escape(needle)}(?![\w-])""")
            for i in range(line, len(self.lines)):
                match = quoted.search(self.lines[i])
                if match:
                    line, column = i, match.start()
                    break
        return line + 1, column + 1


def _name(path: Path) -> str:
    return path.name


def _header(table: str) -> re.Pattern[str]:
    return re.compile(rf"""^\s*\[\s*tool\s*\.\s*["']?{re.escape(table)}["']?\s*\]""")


def find(root: Path, display: Callable[[Path], str] = _name) -> tuple[Path, str, dict, re.Pattern[str] | None] | None:
    """(file, its text, the settings table, the table's header) of the root's project
    configuration, or None when it has none."""
    own, pyproject = root / OWN_FILE, root / PYPROJECT
    found = []
    for path, in_pyproject in ((own, False), (pyproject, True)):
        if not path.is_file():
            continue
        raw = read_or_none(path)
        if in_pyproject and raw is not None and TABLE.encode() not in raw:
            continue  # another tool's pyproject.toml (NeMo Gym's own): none of our business
        text, data = _parse(path, display(path), raw, only_ours=in_pyproject)
        if in_pyproject:
            tool = data.get("tool")
            table = tool.get(TABLE) if isinstance(tool, dict) else None
            if table is None:
                continue
            found.append((path, text, table, _header(TABLE)))
        else:
            found.append((path, text, data, None))
    if len(found) > 1:
        line, column = _Locator(found[1][1], found[1][3]).find(TABLE)
        raise ConfigError(
            [ConfigProblem(display(pyproject), line, column, f"both {OWN_FILE} and [tool.{TABLE}] configure gym-scaffold; keep one")]
        )
    return found[0] if found else None


def _parse(path: Path, shown: str, raw: bytes | None, *, only_ours: bool) -> tuple[str, dict]:
    """The file's text and its TOML data (with `only_ours`, only tool.gym-scaffold of it)."""
    try:
        if raw is None:
            raise OSError("not a readable regular file")
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(shown, 0, 0, f"cannot read: {exc}")]) from None

    def parse() -> dict:
        try:
            data = _toml().loads(text)
        except _toml().TOMLDecodeError as exc:
            raise ConfigError([_decode_problem(shown, text, exc)]) from None
        if only_ours:
            tool = data.get("tool")
            data = {"tool": {TABLE: tool[TABLE]}} if isinstance(tool, dict) and TABLE in tool else {}
        return data

    return text, memo.parsed(raw, "pyproject" if only_ours else "toml", parse)


def _decode_problem(shown: str, text: str, exc: Exception) -> ConfigProblem:
    where = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    if where:
        line, column = int(where[1]), int(where[2])
    else:  # "(at end of document)"
        line, column = text.count("\n") + 1, len(text.rsplit("\n", 1)[-1]) + 1
    message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc)) or "not valid TOML"
    return ConfigProblem(shown, line, column, f"not valid TOML: {message}")


def load(root: Path, display: Callable[[Path], str] = _name) -> Project:
    """The project configuration of the checkout at `root` (defaults when it has none).
    `display` shows a path in messages."""
    found = find(root, display)
    if found is None:
        return Project(root)
    path, text, table, header = found
    return _read(Project(root, source=path), table, display(path), _Locator(text, header))


def _read(project: Project, table: Any, shown: str, where: _Locator) -> Project:
    problems: list[ConfigProblem] = []

    def report(message: str, *needles: str) -> None:
        line, column = where.find(*needles)
        problems.append(ConfigProblem(shown, line, column, message))

    if not isinstance(table, dict):
        report(f"[tool.{TABLE}] must be a table", TABLE)
        raise ConfigError(problems)

    def rules(key: str, value: Any, *context: str) -> frozenset[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            report(f"{key} must be a list of rule ids", *context, key)
            return frozenset()
        for rule in value:
            if rule not in rule_ids():
                report(unknown_rule_message(rule), *context, key, rule)
        return frozenset(value)

    def globs(key: str, values: list, *context: str) -> list[Glob]:
        compiled = []
        for value in values:
            try:
                compiled.append(compile_glob(value))
            except GlobError as exc:
                report(f"bad glob {value!r} in {key}: {exc}", *context, key, str(value))
        return compiled

    for key, value in table.items():
        if key not in KEYS:
            report(f"unknown key {key!r}{did_you_mean(key, KEYS)}; known keys: {', '.join(KEYS)}", key)
        elif key in ("ignore", "select"):
            chosen = rules(key, value)
            project.ignore = chosen if key == "ignore" else project.ignore
            project.select = chosen if key == "select" else project.select
        elif key == "exclude":
            if not isinstance(value, list):
                report("exclude must be a list of globs", key)
            else:
                project.exclude = globs(key, value)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                report('per-file-ignores must be a table of "glob" = ["rule-id", ...]', key)
                continue
            for glob_text, ids in value.items():
                compiled = globs(key, [glob_text])
                chosen = rules(key, ids, key, glob_text)
                if compiled:
                    project.per_file_ignores.append((compiled[0], chosen))
        elif key == "severity":
            if not isinstance(value, dict):
                report('severity must be a table of "rule-id" = "error" | "warning" | "off"', key)
                continue
            for rule, level in value.items():
                if rule not in rule_ids():
                    report(unknown_rule_message(rule), key, rule)
                elif level not in SEVERITIES:
                    report(f"severity of {rule} must be one of {', '.join(SEVERITIES)}, not {level!r}", key, rule)
                else:
                    project.severity[rule] = level
        elif key == "strict":
            if not isinstance(value, bool):
                report("strict must be true or false", key)
            else:
                project.strict = value
        elif key == "baseline":
            if not isinstance(value, str) or not value.strip():
                report("baseline must be a file name (relative to the checkout root)", key)
            else:
                project.baseline = project.root / value
    if problems:
        raise ConfigError(problems)
    return project
