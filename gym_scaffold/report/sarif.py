"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.

One run whose `tool.driver` lists every rule of the registry (id, summary as
shortDescription, the rule's doc as fullDescription and help, its section of
docs/rules.md as helpUri, its usual severity as defaultConfiguration.level) and one result per problem: ruleId and ruleIndex, level
(error, warning or note), message.text (the message, then the hint on its own line),
and a location whose artifactLocation.uri is the path relative to the `%SRCROOT%` base
(the repository root; an absolute path becomes a file: URI instead). The region holds
startLine and startColumn (columns count Unicode code points); a problem about a whole
file (line 0) has no region.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from gym_scaffold import DOCS_URL, __version__
from gym_scaffold.problem import Problem, Severity
from gym_scaffold.result import Result

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SRCROOT = "%SRCROOT%"


def artifact_location(path: str) -> dict:
    """`artifactLocation` for a path: relative to %SRCROOT%, or a file: URI when absolute."""
    posix = path.replace("\\", "/")
    if PurePosixPath(posix).is_absolute():
        return {"uri": "file://" + quote(posix, safe="/")}
    if PureWindowsPath(path).is_absolute():  # C:\repo\a.yaml
        return {"uri": "file:///" + quote(posix, safe="/:")}
    posix = posix.removeprefix("./")
    return {"uri": quote(posix, safe="/"), "uriBaseId": SRCROOT}


def help_uri(rule_id: str) -> str:
    """The rule's section of docs/rules.md."""
    from gym_scaffold.rules import doc_anchor

    return f"{DOCS_URL}rules.md#{doc_anchor(rule_id)}"


def _rule_descriptor(rule) -> dict:
    descriptor = {
        "id": rule.id,
        "helpUri": help_uri(rule.id),
        "shortDescription": {"text": rule.summary},
        "defaultConfiguration": {"level": rule.severity},
    }
    if rule.doc:
        descriptor["fullDescription"] = {"text": rule.doc}
        descriptor["help"] = {"text": rule.doc, "markdown": rule.doc}
    return descriptor


def _result(problem: Problem, rule_index: int) -> dict:
    text = problem.message
    if problem.hint:
        text += f"\nhint: {problem.hint}"
    physical: dict = {"artifactLocation": artifact_location(problem.path)}
    if problem.line > 0:
        region = {"startLine": problem.line}
        if problem.column > 0:
            region["startColumn"] = problem.column
        physical["region"] = region
    return {
        "ruleId": problem.rule,
        "ruleIndex": rule_index,
        "level": str(problem.severity),
        "message": {"text": text},
        "locations": [{"physicalLocation": physical}],
    }


def build(result: Result, rules: Iterable | None = None, *, show_notes: bool = True) -> dict:
    """The SARIF log for `result` (notes only when `show_notes`). `rules` defaults to the
    whole rule registry."""
    if rules is None:
        from gym_scaffold.rules import all_rules

        rules = all_rules()
    descriptors = [_rule_descriptor(rule) for rule in rules]
    index = {descriptor["id"]: i for i, descriptor in enumerate(descriptors)}
    results = []
    for problem in result.sorted_problems():
        if problem.severity is Severity.NOTE and not show_notes:
            continue
        if problem.rule not in index:  # an id outside the registry still gets a descriptor
            index[problem.rule] = len(descriptors)
            descriptors.append({"id": problem.rule, "helpUri": help_uri(problem.rule)})
        results.append(_result(problem, index[problem.rule]))
    driver = {
        "name": "gym-scaffold",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": descriptors,
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": driver},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def render(result: Result, *, rules: Iterable | None = None, show_notes: bool = True, **_options: object) -> str:
    """The SARIF log as indented JSON, ending in a newline."""
    return json.dumps(build(result, rules, show_notes=show_notes), indent=2, ensure_ascii=False) + "\n"
