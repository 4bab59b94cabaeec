"""The rules: one module per rule, the way yamllint does it.

Each module has
    ID        the rule id printed after every problem, e.g. "placeholder-value"
    SEVERITY  "error" or "warning": the usual severity of its problems
    SUMMARY   one line for `gym-scaffold rules`
    a docstring: what the rule checks and why, then a failing and a passing example
and, when the rule looks at configs, `check(view) -> Iterator[Problem]` taking a
`gym_scaffold.config.model.ConfigView`. Rules whose problems arise while loading or
composing (YAML syntax, includes, git) document the ids those stages use.

Adding a rule is adding a module here (and its tests): it is found by name.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import cache
from types import ModuleType


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    summary: str
    doc: str
    module: ModuleType

    @property
    def checks_configs(self) -> bool:
        return hasattr(self.module, "check")


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule, sorted by id."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.append(
            Rule(
                id=module.ID,
                severity=module.SEVERITY,
                summary=module.SUMMARY,
                doc=(module.__doc__ or "").strip(),
                module=module,
            )
        )
    return tuple(sorted(found, key=lambda rule: rule.id))


def rule_by_id(rule_id: str) -> Rule | None:
    return next((rule for rule in all_rules() if rule.id == rule_id), None)
