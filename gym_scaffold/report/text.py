"""Human output: `path:line:col: severity: message [rule-id]` (`path: severity: ...` for a
problem about the whole file), a hint line, a summary."""

from __future__ import annotations

from gym_scaffold.problem import Problem, Severity
from gym_scaffold.result import Result

_COLORS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.NOTE: "\033[36m"}
_RESET = "\033[0m"
_DIM = "\033[2m"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_line(result: Result, *, show_notes: bool = True) -> str:
    files = len(result.files_checked)
    parts = [f"{_plural(result.errors, 'error')}", f"{_plural(result.warnings, 'warning')}"]
    if result.baselined:
        parts.append(f"{len(result.baselined)} baselined")
    skipped = len(result.files_skipped)
    checked = f"checked {_plural(files, 'file')}"
    if skipped:
        checked += f", skipped {skipped} (not NeMo Gym configs)"
    line = f"{', '.join(parts)}; {checked}"
    notes = result.count(Severity.NOTE)
    if notes and not show_notes:
        line += f"; {_plural(notes, 'note')} not shown (-v shows them)"
    return line


def location(problem: Problem) -> str:
    """`path:line:col`, `path:line`, or `path` for a problem about the whole file."""
    if problem.line == 0:
        return problem.path
    if problem.column == 0:
        return f"{problem.path}:{problem.line}"
    return f"{problem.path}:{problem.line}:{problem.column}"


def render(result: Result, *, color: bool = False, show_notes: bool = True, **_: object) -> str:
    lines = []
    for problem in result.sorted_problems():
        if problem.severity is Severity.NOTE and not show_notes:
            continue
        severity = str(problem.severity)
        if color:
            severity = f"{_COLORS[problem.severity]}{severity}{_RESET}"
        lines.append(f"{location(problem)}: {severity}: {problem.message} [{problem.rule}]")
        if problem.hint:
            hint = f"  hint: {problem.hint}"
            lines.append(f"{_DIM}{hint}{_RESET}" if color else hint)
    lines.append(summary_line(result, show_notes=show_notes))
    return "\n".join(lines) + "\n"
