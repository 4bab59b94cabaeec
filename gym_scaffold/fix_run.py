"""`validate --fix` / `--diff`: check each rule's fix, write them safely, report.

For the problems of a validate run, each fixable rule's `fix` (gym_scaffold/fix.py)
proposes changes. Then this module

1. applies each fix, in memory, on top of those already accepted, and checks the files it
   touches again with the real pipeline (fix.Overlay: the edited texts read from memory);
2. writes every changed file atomically (edits.write_atomic), never outside the checkout,
   never a file that changed since it was read; runs `git rm --cached` for Untrack;
3. validates again and reports what is left. Two fixes of one span are merged when they
   make the same edit; one that clashes with an accepted fix waits for the next round
   (`--fix` runs rounds until nothing more changes, as ruff does).

A fix is refused when its problem stays, or when it causes a problem where it wrote (or
makes a file unreadable); a problem it merely uncovers elsewhere is fixed in a later
round or reported.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gym_scaffold import discover
from gym_scaffold.edits import (
    NEW_FILE_MODE,
    PRIVATE_FILE_MODE,
    EditError,
    Replacement,
    append_line,
    apply,
    unified_diff,
    writable_target,
    write_atomic,
)
from gym_scaffold.fix import UNSAFE, AppendLine, Fix, FixContext, Overlay, Replace, Untrack
from gym_scaffold.problem import Problem, Severity
from gym_scaffold.result import Result
from gym_scaffold.safeio import NotReadable, read_regular
from gym_scaffold.validate import ValidateOptions, Validator

# A fix that waited for a clashing one, or a problem a fix uncovered (a server type spelled
# right gets its fields checked), gets its turn in the next round.
MAX_ROUNDS = 5


@dataclass
class Planned:
    problem: Problem
    fix: Fix


@dataclass
class Plan:
    accepted: list[Planned] = field(default_factory=list)
    not_applied: list[tuple[Problem, str]] = field(default_factory=list)
    hidden_unsafe: int = 0  # fixes `--unsafe-fixes` would add
    waiting: int = 0  # fixes that clashed with an accepted one: for the next round


class _After:
    """Every line from here on (what an appended line becomes)."""

    def __init__(self, first: int) -> None:
        self.first = first

    def __contains__(self, line: object) -> bool:
        return isinstance(line, int) and line >= self.first


def _touched_lines(fix: Fix, context: FixContext) -> dict[str, list[Any]]:
    """The lines (1-based) of each file that the fix's edits write on, as containers."""
    lines: dict[str, list[Any]] = {}
    for change in fix.changes:
        if isinstance(change, Untrack):
            continue
        text = context.source(change.path).text
        if isinstance(change, Replace):
            start, end = change.replacement.start, change.replacement.end
            first = text.count("\n", 0, start) + 1
            written = range(first, first + text.count("\n", start, end) + 1)
        else:
            written = _After(text.count("\n") + 1)
        lines.setdefault(context.shown(change.path), []).append(written)
    return lines


def _identity(problem: Problem) -> tuple:
    return (problem.path, problem.line, problem.column, problem.rule, problem.message)


def _loose(problem: Problem) -> tuple:
    # Edits never add or remove a line of an existing file, but may move a column.
    return (problem.path, problem.line, problem.rule, problem.message)


# -- planning -----------------------------------------------------------------------------


class _State:
    """The accepted changes so far, as texts."""

    def __init__(self, context: FixContext) -> None:
        self.context = context
        self.replacements: dict[Path, list[Replacement]] = {}
        self.appended: dict[Path, list[str]] = {}
        self.untracked: dict[Path, Untrack] = {}

    def with_fix(self, fix: Fix) -> _State:
        trial = _State(self.context)
        trial.replacements = {p: list(r) for p, r in self.replacements.items()}
        trial.appended = {p: list(lines) for p, lines in self.appended.items()}
        trial.untracked = dict(self.untracked)
        for change in fix.changes:
            if isinstance(change, Replace):
                trial.replacements.setdefault(change.path, []).append(change.replacement)
            elif isinstance(change, AppendLine):
                lines = trial.appended.setdefault(change.path, [])
                if change.line not in lines:
                    lines.append(change.line)
            else:
                trial.untracked[change.path] = change
        return trial

    def paths(self) -> list[Path]:
        return sorted(set(self.replacements) | set(self.appended))

    def text(self, path: Path) -> str:
        """The new text of `path` (EditError when two changes clash)."""
        source = self.context.source(path)
        text = apply(source.text, self.replacements.get(path, []))
        for line in self.appended.get(path, []):
            text = append_line(text, line, source.newline)
        return text

    def texts(self) -> dict[Path, str]:
        return {path: self.text(path) for path in self.paths()}


def _fixers() -> dict[str, tuple[str, Any]]:
    from gym_scaffold.rules import all_rules

    return {rule.id: (rule.fixable, rule.module) for rule in all_rules() if rule.fixable != "no"}


def plan(validator: Validator, result: Result, *, unsafe: bool) -> tuple[Plan, _State]:
    """The fixes to make for `result`'s problems, each checked on the edited texts."""
    context = FixContext(validator)
    fixers = _fixers()
    outcome = Plan()
    state = _State(context)
    baseline: dict[Path, Counter] = {}

    def problems_of(texts: dict[Path, str], paths: list[Path]) -> list[Problem]:
        return Overlay(validator.options, texts).problems(paths)

    for problem in result.sorted_problems():
        if problem.severity is Severity.NOTE or problem.rule not in fixers:
            continue
        level, module = fixers[problem.rule]
        try:
            fix = module.fix(problem, context)
        except EditError as exc:
            outcome.not_applied.append((problem, str(exc)))
            continue
        if fix is None:
            continue
        if (level == UNSAFE or fix.unsafe) and not unsafe:
            outcome.hidden_unsafe += 1
            continue
        trial = state.with_fix(fix)
        try:
            texts = trial.texts()
        except EditError:
            outcome.waiting += 1
            continue
        checked = sorted(
            path
            for path in {
                *(c.path for c in fix.changes if not isinstance(c, Untrack)),
                context.path(problem.path),
            }
            if path.suffix in discover.YAML_SUFFIXES
        )
        if checked:
            for path in checked:
                if path not in baseline:
                    baseline[path] = Counter(map(_loose, problems_of({}, [path])))
            before = sum((baseline[path] for path in checked), Counter())
            after_problems = problems_of(texts, checked)
            if _identity(problem) in set(map(_identity, after_problems)):
                outcome.not_applied.append((problem, "the edit would not clear the problem"))
                continue
            # A problem the edit itself causes (where it wrote, or a file that no longer
            # reads) refuses it; one it merely uncovers elsewhere is left for the report
            # (a server type spelled right makes its fields checked).
            touched = _touched_lines(fix, context)
            new = [
                p
                for p in after_problems
                if (Counter([_loose(p)]) - before)
                and (
                    p.rule.startswith("yaml-")
                    or p.line == 0
                    or any(p.line in written for written in touched.get(p.path, ()))
                )
            ]
            if new:
                outcome.not_applied.append(
                    (
                        problem,
                        f"the edit would cause another problem ({new[0].rule}: {new[0].message})",
                    )
                )
                continue
        state = trial
        outcome.accepted.append(Planned(problem, fix))
    return outcome, state


# -- writing ------------------------------------------------------------------------------


@dataclass
class Applied:
    fixed: int = 0
    files: set[str] = field(default_factory=set)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file, why)


def _write_order(path: Path, context: FixContext) -> tuple[int, str]:
    # Ignore rules first, then env.yaml, then the configs that refer to its keys.
    if path.name == ".gitignore":
        return (0, str(path))
    return (1 if context.is_env(path) else 2, str(path))


def _blocked(path: Path, context: FixContext) -> str | None:
    """Why `path` cannot be written now (outside the checkout, changed since read), or None."""
    source = context.source(path)
    try:
        writable_target(path, context.checkout)
    except EditError as exc:
        return str(exc)
    try:
        current = read_regular(path)
    except FileNotFoundError:
        current = None
    except (OSError, NotReadable) as exc:
        return f"cannot read it again before writing: {getattr(exc, 'strerror', None) or exc}"
    return None if current == source.raw else "changed on disk since it was read: not written"


def write(outcome: Plan, state: _State) -> Applied:
    """Write what the plan changes. A fix that touches a file that cannot be written is
    dropped as a whole, its other files included: a config never refers to a key that
    did not reach env.yaml."""
    context = state.context
    applied = Applied()
    blocked = {path: why for path in state.paths() if (why := _blocked(path, context)) is not None}
    accepted = outcome.accepted
    if blocked:
        accepted = [p for p in accepted if not any(c.path in blocked for c in p.fix.changes)]
        state = _State(context)
        for planned in accepted:
            state = state.with_fix(planned.fix)
        applied.refused += [(context.shown(path), why) for path, why in sorted(blocked.items())]
    failed: set[Path] = set(blocked)
    for path in sorted(state.paths(), key=lambda p: _write_order(p, context)):
        source = context.source(path)
        shown = context.shown(path)
        try:
            new = source.encode(state.text(path))
            if new == source.raw:
                continue
            target = writable_target(path, context.checkout)
            private = context.is_env(path)
            write_atomic(
                target,
                new,
                expected=source.raw,
                mode_if_new=PRIVATE_FILE_MODE if private else NEW_FILE_MODE,
            )
        except (EditError, OSError) as exc:
            failed.add(path)
            applied.refused.append(
                (shown, str(exc) if isinstance(exc, EditError) else exc.strerror or str(exc))
            )
            continue
        applied.files.add(shown)
    for path, change in sorted(state.untracked.items()):
        try:
            _untrack(change)
        except EditError as exc:
            failed.add(path)
            applied.refused.append((context.shown(path), str(exc)))
            continue
        applied.files.add(context.shown(path))
    applied.fixed = sum(
        1
        for planned in accepted
        if not any(change.path in failed for change in planned.fix.changes)
    )
    return applied


def _untrack(change: Untrack) -> None:
    from gym_scaffold import gitcheck

    parent = os.path.realpath(change.path.parent)
    relative = Path(
        os.path.relpath(parent, os.path.realpath(change.repo)), change.path.name
    ).as_posix()
    try:
        gitcheck.run_git(change.repo, ["rm", "--cached", "--quiet", "--", relative])
    except gitcheck.GitUnavailable as exc:
        raise EditError(str(exc)) from None


def diff(state: _State, outcome: Plan) -> str:
    """The unified diff of every change planned, keys masked."""
    context = state.context
    secrets = {secret for planned in outcome.accepted for secret in planned.fix.secrets}
    for path in state.paths():
        found = context.yaml(path)
        if found is not None:
            secrets.update(_secrets_in(found.document.data))
    # Each key is masked by its core (no quotes, `Bearer ` or spaces around it), which the
    # text as written contains: `"Bearer sk-...a1b2"` still shows what the fix removes.
    from gym_scaffold.rules.api_key_format import cleaned

    masked = sorted({cleaned(secret) or secret for secret in secrets}, key=len, reverse=True)
    out = []
    for path in state.paths():
        source = context.source(path)
        new = state.text(path)
        if new == source.text and source.raw is not None:
            continue
        out.append(
            unified_diff(
                context.shown(path), source.text if source.raw is not None else None, new, masked
            )
        )
    for path in sorted(state.untracked):
        out.append(
            f"git rm --cached {context.shown(path)}  (git stops tracking it; the file stays on disk)\n"
        )
    return "".join(out)


def _secrets_in(data: Any) -> set[str]:
    """Every value of a file that is, or may be, a key: API keys, tokens, key-like strings
    (not a `${...}` reference, which names a key and is shown as written)."""
    from gym_scaffold.rules._fields import API_KEY, role_of
    from gym_scaffold.secrets import looks_like_secret

    found: set[str] = set()

    def walk(value: Any, key: Any) -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                walk(item, name)
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif isinstance(value, str) and not (value.startswith("${") and value.endswith("}")):
            lowered = key.lower() if isinstance(key, str) else ""
            if (
                role_of(key) == API_KEY
                or looks_like_secret(value)
                or any(word in lowered for word in ("key", "token", "secret", "password"))
            ):
                found.add(value)
                found.add(value.strip())

    walk(data, None)
    return {value for value in found if value}


# -- one `validate --fix` / `--diff` run ----------------------------------------------------


@dataclass
class FixReport:
    result: Result  # what is left (after writing; as found, for --diff)
    fixed: int = 0
    files: set[str] = field(default_factory=set)
    refused: list[tuple[str, str]] = field(default_factory=list)
    not_applied: list[tuple[Problem, str]] = field(default_factory=list)
    hidden_unsafe: int = 0
    diff: str | None = None  # --diff: what would change

    @property
    def changed(self) -> bool:
        return bool(self.diff) if self.diff is not None else bool(self.files)

    def lines(self) -> list[str]:
        """What to tell the user besides the problems left, one line each."""
        out = [
            f"{p.path}:{p.line}:{p.column}: fix not applied: {why} [{p.rule}]"
            for p, why in self.not_applied
        ]
        out += [f"{shown}: not written: {why}" for shown, why in self.refused]

        def count(n: int, what: str) -> str:
            return f"{n} {what}" + ("" if n == 1 else "es" if what.endswith("x") else "s")

        if self.diff is not None:
            out.append(
                f"Would fix {count(self.fixed, 'problem')} in {count(len(self.files), 'file')} (nothing written)."
                if self.fixed
                else "Nothing to fix."
            )
        else:
            out.append(
                f"Fixed {count(self.fixed, 'problem')} in {count(len(self.files), 'file')}."
                if self.fixed
                else "Nothing to fix."
            )
        if self.hidden_unsafe:
            out.append(f"{count(self.hidden_unsafe, 'more fix')} available with --unsafe-fixes.")
        return out


def run_fix(options: ValidateOptions, *, unsafe: bool, diff_only: bool) -> FixReport:
    """Validate, fix, write (unless `diff_only`), and validate again."""
    report: FixReport | None = None
    for _ in range(MAX_ROUNDS):
        validator = Validator(options)
        found = validator.run()
        outcome, state = plan(validator, found, unsafe=unsafe)
        if report is None:
            report = FixReport(found)
        report.not_applied = outcome.not_applied
        report.hidden_unsafe = outcome.hidden_unsafe
        if diff_only:
            report.diff = diff(state, outcome)
            report.fixed = len(outcome.accepted)
            report.files = {state.context.shown(p) for p in [*state.paths(), *state.untracked]}
            return report
        applied = write(outcome, state)
        report.fixed += applied.fixed
        report.files |= applied.files
        report.refused += applied.refused
        if not applied.files:  # else a fix may have uncovered (or waited for) another
            break
    assert report is not None
    report.result = Validator(options).run()
    return report
