"""Inline suppressions: YAML comments that hide named rules' problems.

    key: value  # gym-scaffold: ignore[rule-id, rule-id]     that line
    # gym-scaffold: ignore[rule-id]                          alone: the next line with content
    # gym-scaffold: ignore-file[rule-id]                     anywhere: the whole file

Every suppression names the rules it hides: a bare `ignore` is refused, and so is a rule
id that does not exist. Each named rule that hides nothing is reported afterwards, so
suppressions do not outlive the problems they were written for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gym_scaffold.problem import Problem, Severity
from gym_scaffold.rules import invalid_suppression, rule_ids
from gym_scaffold.settle.project import unknown_rule_message

MARKER = b"gym-scaffold:"
_COMMENT = re.compile(r"(?:^|(?<=\s))#\s*gym-scaffold:\s*(?P<kind>[\w-]*)(?P<rest>.*)$")
_IDS = re.compile(r"^\[(?P<ids>[^\]]*)\]")


@dataclass
class Suppression:
    line: int  # of the comment, 1-based
    column: int
    rules: tuple[str, ...]
    target: int | None  # the line it covers; None: the whole file
    used: set[str] = field(default_factory=set)


@dataclass
class FileSuppressions:
    """The suppressions of one file, and the problems its malformed ones cause."""

    path: str
    suppressions: list[Suppression] = field(default_factory=list)
    invalid: list[Problem] = field(default_factory=list)

    def hides(self, problem: Problem) -> bool:
        """Does a suppression of this file cover `problem`? Marks the one that does."""
        for suppression in self.suppressions:
            if problem.rule in suppression.rules and (
                suppression.target is None or suppression.target == problem.line
            ):
                suppression.used.add(problem.rule)
                return True
        return False


NONE = FileSuppressions("")  # a file without suppression comments (shared; never changed)


def parse(path: str, data: bytes | None) -> FileSuppressions:
    """The suppression comments of one file's text (cheap when it has none)."""
    found = FileSuppressions(path)
    if not data or MARKER not in data:
        return found
    lines = data.decode("utf-8", "replace").splitlines()
    for number, text in enumerate(lines, 1):
        if "gym-scaffold:" not in text:
            continue
        match = _COMMENT.search(text)
        if match is None:
            continue
        column = match.start() + 1
        kind, rest = match["kind"], match["rest"].strip()

        def refuse(message: str, hint: str | None = None, *, at: int = column, line: int = number) -> None:
            found.invalid.append(Problem(path, line, at, Severity.ERROR, invalid_suppression.ID, message, hint))

        if kind not in ("ignore", "ignore-file"):
            refuse(f"unknown directive {kind!r}", "write # gym-scaffold: ignore[rule-id] or ignore-file[rule-id]")
            continue
        ids = _IDS.match(rest)
        if ids is None:
            refuse(
                f"a bare {kind} hides every rule: name the rules it hides",
                f"write # gym-scaffold: {kind}[rule-id] (the id is in [brackets] after each problem)",
            )
            continue
        named = tuple(dict.fromkeys(part.strip() for part in ids["ids"].split(",") if part.strip()))
        if not named:
            refuse(f"{kind}[] names no rule", f"write # gym-scaffold: {kind}[rule-id]")
            continue
        unknown = [rule for rule in named if rule not in rule_ids()]
        for rule in unknown:
            refuse(unknown_rule_message(rule), at=column + text[match.start() :].find(rule))
        known = tuple(rule for rule in named if rule not in unknown)
        if not known:
            continue
        if kind == "ignore-file":
            target = None
        elif text[: match.start()].strip():
            target = number  # after content: that line
        else:
            target = _next_content_line(lines, number)
        found.suppressions.append(Suppression(number, column, known, target))
    return found


def _next_content_line(lines: list[str], number: int) -> int:
    """The first line after `number` (1-based) that is neither blank nor only a comment
    (-1, no line, at the end of the file)."""
    for later in range(number, len(lines)):
        stripped = lines[later].strip()
        if stripped and not stripped.startswith("#"):
            return later + 1
    return -1
