"""The rules: one module per rule, the way yamllint does it.

Each module has
    ID        the rule id printed after every problem, e.g. "placeholder-value"
    SEVERITY  "error" or "warning": the usual severity of its problems
    SUMMARY   one line for `gym-scaffold rules`
    SEVERITY_CONTEXT  (optional) when its problems take another severity, in one line
    RUN_DEPENDENT  (optional) True when a `--config` run may report what the file checked
              on its own does not: an inline suppression of it may serve that run, so it
              is never reported as unused
    a docstring: what the rule checks and why, then a failing and a passing example
and, when the rule looks at configs, `check(view) -> Iterator[Problem]` taking a
`gym_scaffold.config.model.ConfigView`. Rules whose problems arise while loading or
composing (YAML syntax, includes, git) document the ids those stages use. A rule that can
repair its problems also has `FIX = "safe"` (or "unsafe": the fix changes meaning or needs
a judgment; "safe, unsafe" for both kinds) and `fix(problem, context) -> Fix | None`, whose
docstring says what it does (gym_scaffold/fix.py).

Docstring convention (shown by `gym-scaffold rules`, and tested: tests/test_rule_examples.py
runs every `Failing:` example of a rule that has `check` and expects the rule to fire, and
every `Passing:` example and expects silence):

    <one-line summary>

    <what the rule checks and why, any length>

    Failing:

        policy_model:
          responses_api_models:
            openai_model:
              entrypoint: app.py

    Passing:

        # file: config.yaml
        policy_model: ...
        # file: env.yaml
        policy_api_key: ...

- A heading is a line `Failing:` or `Passing:` on its own; the example is the indented
  block after it (blank lines inside are kept) and ends at the first line indented no more
  than the heading. A rule may give several of each.
- An example is YAML text checked as `config.yaml`. A line `# file: NAME` starts a file of
  that name: an `env.yaml` file becomes the env.yaml beside the config, and an example
  that is only an env.yaml is checked as env.yaml on its own. Any other file (e.g.
  `# file: resources_servers/ns_tools/requirements.txt`) is written into the NeMo Gym
  root the example is checked in (`view.root`), for rules that look at directories.
- `examples(rule)` returns them as (failing, passing) lists of `Example`.

Adding a rule is adding a module here (and its tests): it is found by name.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass, field
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

    @property
    def severity_context(self) -> str | None:
        """When the rule reports with another severity than SEVERITY, e.g. "warning when
        one file is checked on its own" (the module's SEVERITY_CONTEXT, if any)."""
        return getattr(self.module, "SEVERITY_CONTEXT", None)

    @property
    def run_dependent(self) -> bool:
        return getattr(self.module, "RUN_DEPENDENT", False)

    @property
    def fixable(self) -> str:
        """"safe" or "unsafe" when the module has a `fix` (validate --fix), else "no"."""
        return getattr(self.module, "FIX", "no") if hasattr(self.module, "fix") else "no"

    @property
    def fix_doc(self) -> str:
        """What the fix does: the docstring of the module's `fix`."""
        fix = getattr(self.module, "fix", None)
        return inspect.getdoc(fix) or "" if fix is not None else ""


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


@cache
def rule_ids() -> frozenset[str]:
    """Every rule id, without importing the rules: a rule's id is its module's name with
    dashes (tests/test_rules_command.py holds every module to that)."""
    return frozenset(
        info.name.replace("_", "-") for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")
    )


def doc_anchor(rule_id: str) -> str:
    """The anchor of the rule's section in docs/rules.md (a Markdown heading's slug)."""
    return re.sub(r"[^a-z0-9_-]", "", rule_id.lower())


def rule_by_id(rule_id: str) -> Rule | None:
    return next((rule for rule in all_rules() if rule.id == rule_id), None)


@dataclass(frozen=True)
class Example:
    """One docstring example: the files it consists of, by name, in order."""

    files: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (name, text)

    @property
    def config(self) -> tuple[str, str] | None:
        """(name, text) of the file checked: the first that is not env.yaml, if any."""
        return next(((n, t) for n, t in self.files if n.rsplit("/", 1)[-1] != "env.yaml"), None)

    @property
    def env(self) -> str | None:
        return next((t for n, t in self.files if n.rsplit("/", 1)[-1] == "env.yaml"), None)


_HEADING = re.compile(r"^(?P<indent>[ \t]*)(?P<which>Failing|Passing):[ \t]*$")
_FILE = re.compile(r"^#\s*file:\s*(?P<name>\S+)\s*$")


def _split_files(block: list[str]) -> Example:
    files: list[tuple[str, list[str]]] = []
    for line in block:
        marker = _FILE.match(line)
        if marker:
            files.append((marker.group("name"), []))
            continue
        if not files:
            files.append(("config.yaml", []))
        files[-1][1].append(line)
    return Example(tuple((name, "\n".join(lines).strip("\n") + "\n") for name, lines in files))


def parse_examples(doc: str) -> tuple[list[Example], list[Example]]:
    """The `Failing:` and `Passing:` examples of a rule docstring (see the convention above)."""
    failing: list[Example] = []
    passing: list[Example] = []
    lines = doc.expandtabs().splitlines()
    i = 0
    while i < len(lines):
        heading = _HEADING.match(lines[i])
        i += 1
        if not heading:
            continue
        indent = len(heading.group("indent"))
        block: list[str] = []
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
        ):
            block.append(lines[i])
            i += 1
        while block and not block[-1].strip():
            block.pop()
        while block and not block[0].strip():
            block.pop(0)
        if not block:
            continue
        margin = min(len(line) - len(line.lstrip()) for line in block if line.strip())
        example = _split_files([line[margin:] for line in block])
        (failing if heading.group("which") == "Failing" else passing).append(example)
    return failing, passing


def examples(rule: Rule | ModuleType) -> tuple[list[Example], list[Example]]:
    """(failing, passing) examples from a rule's docstring."""
    doc = rule.doc if isinstance(rule, Rule) else (rule.__doc__ or "")
    return parse_examples(doc)
