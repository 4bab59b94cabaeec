"""The one place where a problem's rule, severity and suppression are settled.

The pipeline (gym_scaffold/validate.py) and its result cache produce every problem the
rules find, as each rule reports it. Settling comes after, on the whole Result, in this
order:

1. the rules chosen: `select` and `ignore` (command line and project configuration),
   `per-file-ignores`, `severity = "off"`;
2. severities: `severity = {"rule" = "warning"}` (notes stay notes);
3. inline suppressions (`# gym-scaffold: ignore[rule]`, settle/suppressions.py), then the
   suppressions that hid nothing (rule unused-suppression) and those refused (rule
   invalid-suppression), settled by step 1 and 2 like every other problem;
4. the baseline (settle/baseline.py): problems recorded there move to `Result.baselined`.

Because it runs after the cache, a change to the configuration or the baseline never
invalidates a cached result; the suppression comments live in the checked files, whose
every byte is part of their cache entry, and are read again on every run.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gym_scaffold.problem import Problem, Severity
from gym_scaffold.result import Result
from gym_scaffold.rules import rule_ids, unused_suppression
from gym_scaffold.safeio import read_or_none
from gym_scaffold.settle import suppressions
from gym_scaffold.settle.project import (
    BaselineError,
    ConfigError,
    ConfigProblem,
    Project,
    unknown_rule_message,
)

if TYPE_CHECKING:
    from gym_scaffold.settle.baseline import Fingerprint

__all__ = ["BaselineError", "Choices", "ConfigError", "Project", "settle"]


@dataclass(frozen=True)
class Choices:
    """What the command line asks for on top of the project configuration."""

    select: frozenset[str] | None = None  # replaces the configuration's `select`
    ignore: frozenset[str] = frozenset()  # added to the configuration's `ignore`
    baseline: Path | None = None  # replaces the configuration's `baseline`
    update_baseline: bool = False
    # False in a `--config` run: it checks files as parts of one run, and a suppression
    # written for what `validate` reports of the file on its own may hide nothing there.
    report_unused: bool = True

    @staticmethod
    def parse_rules(option: str, values: Iterable[str]) -> frozenset[str] | None:
        """Rule ids from repeated, comma-separated options (None when none given);
        an unknown id is a ConfigError naming the option."""
        chosen = [part.strip() for value in values for part in value.split(",") if part.strip()]
        unknown = [rule for rule in chosen if rule not in rule_ids()]
        if unknown:
            raise ConfigError([ConfigProblem(option, 0, 0, unknown_rule_message(rule)) for rule in unknown])
        return frozenset(chosen) if chosen else None


@dataclass
class Rules:
    """Which rules report, and how severely, under a project configuration and choices."""

    project: Project
    choices: Choices = field(default_factory=Choices)

    def reason_off(self, rule: str) -> str | None:
        """Why `rule` reports nothing anywhere (None when it reports)."""
        if self.choices.select is not None:
            if rule not in self.choices.select:
                return "not in --select"
        elif self.project.select is not None and rule not in self.project.select:
            return "not in select"
        if rule in self.choices.ignore:
            return "--ignore"
        if rule in self.project.ignore:
            return "ignore"
        if self.project.severity.get(rule) == "off":
            return 'severity = "off"'
        return None

    def reports(self, rule: str, relative: str | None) -> bool:
        """Does `rule` report in the file at `relative` (to the root; None: outside it)?"""
        if self.reason_off(rule) is not None:
            return False
        return relative is None or not any(
            rule in rules and glob.matches(relative) for glob, rules in self.project.per_file_ignores
        )

    def severity(self, rule: str, usual: Severity) -> Severity:
        level = self.project.severity.get(rule)
        if level is None or usual is Severity.NOTE:
            return usual
        return Severity(level)

    @property
    def baseline_file(self) -> Path | None:
        return self.choices.baseline or self.project.baseline


class _Files:
    """Each reported file's root-relative path, text lines and suppressions, read once."""

    def __init__(self, project: Project, cwd: Path, read: Callable[[str], bytes | None]) -> None:
        self.project, self.cwd, self.read = project, os.fspath(cwd).rstrip(os.sep) + os.sep, read
        self._data: dict[str, bytes | None] = {}
        self._suppressions: dict[str, suppressions.FileSuppressions] = {}
        self._relative: dict[str, str | None] = {}
        self._lines: dict[str, list[str] | None] = {}

    def absolute(self, shown: str) -> str:
        # Shown paths are mostly normalized already (discover.display_path); a path given
        # from outside the cwd may not be.
        if ".." in shown or "./" in shown or shown == ".":
            return os.path.normpath(os.path.join(self.cwd, shown))
        return shown if os.path.isabs(shown) else self.cwd + shown

    def data(self, shown: str) -> bytes | None:
        if shown not in self._data:
            self._data[shown] = self.read(self.absolute(shown))
        return self._data[shown]

    def suppressions(self, shown: str) -> suppressions.FileSuppressions:
        found = self._suppressions.get(shown)
        if found is None:
            data = self.data(shown)
            if data and suppressions.MARKER in data:
                found = self._suppressions[shown] = suppressions.parse(shown, data)
            else:  # most files: nothing to parse, nothing to remember
                found = self._suppressions[shown] = suppressions.NONE
        return found

    def relative(self, shown: str) -> str | None:
        if shown not in self._relative:
            self._relative[shown] = self.project.relative_text(self.absolute(shown))
        return self._relative[shown]

    def fingerprint(self, problem: Problem) -> Fingerprint:
        from gym_scaffold.settle import baseline

        if problem.path not in self._lines:
            data = self.data(problem.path)
            self._lines[problem.path] = None if data is None else data.decode("utf-8", "replace").splitlines()
        relative = self.relative(problem.path) or problem.path.replace(os.sep, "/")
        return baseline.fingerprint(problem, relative, self._lines[problem.path])

    def all_suppressions(self) -> list[suppressions.FileSuppressions]:
        return [found for found in self._suppressions.values() if found is not suppressions.NONE]


def settle(
    result: Result,
    project: Project,
    *,
    cwd: Path,
    choices: Choices = Choices(),
    read: Callable[[str], bytes | None] = read_or_none,
) -> Result:
    """The Result as the project configuration, the choices, the files' suppression
    comments and the baseline settle it. With `choices.update_baseline`, the baseline
    file is written first with every problem that remains, so all of them are baselined.
    Raises BaselineError when the baseline cannot be read or written."""
    rules = Rules(project, choices)
    files = _Files(project, cwd, read)
    # Every checked file is read for suppressions (one that hides nothing is reported),
    # and every file a problem names (a skipped file's note can be suppressed too).
    for shown in dict.fromkeys([*result.files_checked, *(problem.path for problem in result.problems)]):
        files.suppressions(shown)
    per_file = frozenset().union(*(ids for _, ids in project.per_file_ignores))

    def chosen(problem: Problem) -> Problem | None:
        if not rules.reports(problem.rule, files.relative(problem.path) if problem.rule in per_file else None):
            return None
        severity = rules.severity(problem.rule, problem.severity)
        if severity is not problem.severity:
            problem = Problem(
                problem.path, problem.line, problem.column, severity, problem.rule, problem.message, problem.hint
            )
        return problem

    kept = []
    for problem in result.problems:
        settled = chosen(problem)
        if settled is None:
            continue
        found = files.suppressions(problem.path)
        if found is suppressions.NONE or not found.hides(settled):
            kept.append(settled)
    for found in files.all_suppressions():
        unused = _unused(found, rules, files.relative(found.path)) if choices.report_unused else ()
        for problem in [*found.invalid, *unused]:
            settled = chosen(problem)
            if settled is not None:
                kept.append(settled)

    baselined: list[Problem] = []
    where = rules.baseline_file
    if where is not None:
        kept, baselined = _apply_baseline(kept, where, files, update=choices.update_baseline)
    return dataclasses.replace(result, problems=kept, baselined=baselined)  # every other field kept


def _unused(found: suppressions.FileSuppressions, rules: Rules, relative: str | None) -> Iterable[Problem]:
    for suppression in found.suppressions:
        for rule in suppression.rules:
            if rule in suppression.used or not rules.reports(rule, relative) or _run_dependent(rule):
                continue
            where = "in this file" if suppression.target is None else "on its line"
            yield Problem(
                found.path,
                suppression.line,
                suppression.column,
                Severity(unused_suppression.SEVERITY),
                unused_suppression.ID,
                f"the suppression of {rule} hides nothing {where}",
                f"remove {rule} from the comment (no {rule} problem is reported there any more)",
            )


def _run_dependent(rule_id: str) -> bool:
    """Whether a `--config` run may report what this run does not (a suppression of it may
    serve that run); rules are imported only when a suppression looks unused."""
    from gym_scaffold.rules import rule_by_id

    rule = rule_by_id(rule_id)
    return rule is not None and rule.run_dependent


def _apply_baseline(
    problems: list[Problem], where: Path, files: _Files, *, update: bool
) -> tuple[list[Problem], list[Problem]]:
    """(problems still reported, problems the baseline file records)."""
    from gym_scaffold.settle import baseline  # json and the fingerprints: only with a baseline

    countable = sorted((p for p in problems if p.severity is not Severity.NOTE), key=lambda p: p.sort_key)
    prints = {problem: files.fingerprint(problem) for problem in countable}
    if update:
        recorded = Counter(prints.values())
        baseline.write(where, recorded)
    else:
        recorded = baseline.read(where)
    reported, baselined = [], []
    for problem in sorted(problems, key=lambda p: p.sort_key):
        key = prints.get(problem)
        if key is not None and recorded[key] > 0:
            recorded[key] -= 1
            baselined.append(problem)
        else:
            reported.append(problem)
    return reported, baselined
