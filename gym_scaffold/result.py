"""The outcome of one `validate` run, handed as a whole to a reporter."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from gym_scaffold.problem import Problem, Severity


@dataclass
class Result:
    files_checked: list[str] = field(default_factory=list)
    files_skipped: list[str] = field(default_factory=list)  # YAML that is not a NeMo Gym config
    problems: list[Problem] = field(default_factory=list)
    # Problems the baseline records (gym_scaffold/settle/): not reported, never fail a run.
    baselined: list[Problem] = field(default_factory=list)

    def merge(self, other: Result) -> None:
        """Add `other` (one file's result) to this one: every field, concatenated."""
        for each in fields(self):
            getattr(self, each.name).extend(getattr(other, each.name))

    def count(self, severity: Severity) -> int:
        return sum(1 for problem in self.problems if problem.severity is severity)

    @property
    def errors(self) -> int:
        return self.count(Severity.ERROR)

    @property
    def warnings(self) -> int:
        return self.count(Severity.WARNING)

    def failed(self, *, strict: bool = False) -> bool:
        """Errors fail a run; with `strict`, warnings do too. Notes never do."""
        return self.errors > 0 or (strict and self.warnings > 0)

    def sorted_problems(self) -> list[Problem]:
        return sorted(self.problems, key=lambda problem: problem.sort_key)
