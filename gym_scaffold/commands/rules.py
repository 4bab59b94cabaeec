"""`gym-scaffold rules`: list the rules, or explain some of them in full.

    gym-scaffold rules                      # id, severity, fixable and summary of every rule
    gym-scaffold rules env-gitignore        # the rule's doc: what, why, failing and passing example
    gym-scaffold rules --format json        # {"version": 1, "rules": [{id, severity, summary, doc, ...}]}
    gym-scaffold rules --format markdown    # docs/rules.md (scripts/gen_rule_docs.py writes it)

An unknown rule id is a usage error (exit 2) with a did-you-mean.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gym_scaffold.rules import Rule, all_rules, doc_anchor

if TYPE_CHECKING:
    from gym_scaffold.settle import Rules

RULES_JSON_VERSION = 1
_CODE_INDENT = "    "


def suggestions(unknown: str, ids: Sequence[str]) -> list[str]:
    """Rule ids close to `unknown`: near misses first, then ids containing it."""
    close = difflib.get_close_matches(unknown, ids, n=3, cutoff=0.6)
    containing = [rule_id for rule_id in ids if unknown and unknown in rule_id]
    return list(dict.fromkeys(close + containing))[:3]


def select(requested: Sequence[str], rules: Sequence[Rule]) -> list[Rule]:
    """The rules named in `requested` (all of them when empty); unknown ids are a usage error."""
    if not requested:
        return list(rules)
    by_id = {rule.id: rule for rule in rules}
    chosen = []
    for raw in requested:
        rule_id = raw.strip().lower()
        if rule_id in by_id:
            chosen.append(by_id[rule_id])
            continue
        message = f"unknown rule {raw!r}."
        close = suggestions(rule_id, list(by_id))
        if close:
            message += " Did you mean " + " or ".join(repr(c) for c in close) + "?"
        message += " `gym-scaffold rules` lists them all."
        raise click.BadParameter(message, param_hint="RULE_ID")
    return chosen


def effective(rule: Rule, settled: Rules | None) -> tuple[str, str | None]:
    """(the rule's severity under the project configuration, the setting that changed it)."""
    if settled is None:
        return rule.severity, None
    off = settled.reason_off(rule.id)
    if off is not None:
        return "off", off
    configured = settled.project.severity.get(rule.id)
    if configured is not None and configured != rule.severity:
        return configured, "severity"
    return rule.severity, None


def _shown_severity(rule: Rule, settled: Rules | None) -> str:
    severity, why = effective(rule, settled)
    return f"{severity} ({why})" if why else severity


def text_list(rules: Sequence[Rule], settled: Rules | None = None) -> str:
    """One aligned line per rule: id, severity under the project configuration, fixable
    (validate --fix), summary; under it, when the severity depends on how validate runs,
    in which context."""
    if not rules:
        return "No rules registered.\n"
    shown = {rule.id: _shown_severity(rule, settled) for rule in rules}
    id_width = max(len("RULE"), *(len(rule.id) for rule in rules))
    sev_width = max(len("SEVERITY"), *(len(severity) for severity in shown.values()))
    fix_width = max(len("FIXABLE"), *(len(rule.fixable) for rule in rules))
    lines = [f"{'RULE':<{id_width}}  {'SEVERITY':<{sev_width}}  {'FIXABLE':<{fix_width}}  SUMMARY"]
    for rule in rules:
        lines.append(
            f"{rule.id:<{id_width}}  {shown[rule.id]:<{sev_width}}  {rule.fixable:<{fix_width}}  {rule.summary}"
        )
        if rule.severity_context and effective(rule, settled) == (rule.severity, None):
            lines.append(f"{'':<{id_width}}  {'':<{sev_width}}  {'':<{fix_width}}  ({rule.severity_context})")
    lines.append("")
    count = f"{len(rules)} rule{'' if len(rules) == 1 else 's'}"
    lines.append(f"{count}. `gym-scaffold rules RULE` shows one in full.")
    if settled is not None and settled.project.source is not None:
        lines.append(f"Severities as {settled.project.source.name} sets them.")
    return "\n".join(lines) + "\n"


def text_full(rules: Sequence[Rule], settled: Rules | None = None) -> str:
    """Each rule's id, severity, summary and whole doc, separated by a blank line."""
    blocks = []
    for rule in rules:
        fixable = f"; fixable: {rule.fixable}" if rule.fixable != "no" else ""
        context = f"\nSeverity: {rule.severity_context}." if rule.severity_context else ""
        head = f"{rule.id} ({_shown_severity(rule, settled)}{fixable}): {rule.summary}{context}"
        block = f"{head}\n\n{rule.doc}".rstrip()
        if rule.fix_doc:
            block += f"\n\nFix ({rule.fixable}, with validate --fix): {rule.fix_doc}"
        blocks.append(block)
    return "\n\n\n".join(blocks) + "\n"


def as_json(rules: Sequence[Rule], settled: Rules | None = None) -> str:
    entries = []
    for rule in rules:
        severity, why = effective(rule, settled)
        entries.append(
            {
                "id": rule.id,
                "severity": rule.severity,
                "fixable": rule.fixable,
                "summary": rule.summary,
                "doc": rule.doc,
                "effective_severity": severity,  # under the project configuration
                "configured_by": why,
                "severity_context": rule.severity_context,
            }
        )
    payload = {"version": RULES_JSON_VERSION, "rules": entries}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def doc_markdown(doc: str) -> str:
    """A rule docstring as Markdown: its indented examples become fenced code blocks.

    Docstrings follow the yamllint way: prose, then `Failing:` and `Passing:` each
    followed by an example indented by four spaces. Already fenced blocks pass through.
    """
    out: list[str] = []
    lines = doc.splitlines()
    i = 0
    in_fence = False
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            out.append(line)
            i += 1
            continue
        starts_block = (
            not in_fence
            and line.startswith(_CODE_INDENT)
            and line.strip()
            and (not out or not out[-1].strip())
        )
        if not starts_block:
            out.append(line)
            i += 1
            continue
        block = []
        while i < len(lines) and (lines[i].startswith(_CODE_INDENT) or not lines[i].strip()):
            block.append(lines[i][len(_CODE_INDENT) :])
            i += 1
        while block and not block[-1].strip():
            block.pop()
            i -= 1
        language = "console" if block[0].startswith("$ ") else "yaml"
        out += [f"```{language}", *block, "```"]
    return "\n".join(out)


def markdown(rules: Sequence[Rule]) -> str:
    """docs/rules.md: an index table, then one section per rule."""
    lines = [
        "<!-- Generated from the rule docstrings by scripts/gen_rule_docs.py; do not edit. -->",
        "",
        "# gym-scaffold rules",
        "",
        "Every problem `gym-scaffold validate` reports names one of these rules.",
        "`gym-scaffold rules RULE` prints the same text in a terminal.",
        "",
    ]
    if not rules:
        lines.append("No rules registered yet.")
        return "\n".join(lines) + "\n"
    lines += [
        "Fixable: `safe` fixes are made by `gym-scaffold validate --fix`, `unsafe` ones (they",
        "change what a config means, or need a judgment) only with `--unsafe-fixes` too.",
        "",
        "| Rule | Severity | Fixable | Summary |",
        "| --- | --- | --- | --- |",
    ]
    for rule in rules:
        summary = rule.summary.replace("|", "\\|")
        lines.append(
            f"| [`{rule.id}`](#{doc_anchor(rule.id)}) | {rule.severity} | {rule.fixable} | {summary} |"
        )
    for rule in rules:
        lines += [
            "",
            f"## {rule.id}",
            "",
            f"Severity: **{rule.severity}**. Fixable: **{rule.fixable}**. {rule.summary}"
            + (f" ({rule.severity_context}.)" if rule.severity_context else ""),
            "",
            doc_markdown(rule.doc) if rule.doc else "_No description yet._",
        ]
        if rule.fix_doc:
            lines += ["", f"**Fix** ({rule.fixable}): " + " ".join(rule.fix_doc.split())]
    return "\n".join(lines) + "\n"


FORMATS = ("text", "json", "markdown")


@click.command(name="rules")
@click.argument("rule_ids", metavar="[RULE_ID]...", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for a terminal, json for tools, markdown for docs/rules.md.",
)
def command(rule_ids: tuple[str, ...], fmt: str) -> int:
    """List every rule, or explain the rules named by RULE_ID in full.

    Severities are those the project configuration of the current checkout sets
    ([tool.gym-scaffold] in pyproject.toml, or .gym-scaffold.toml)."""
    rules = select(rule_ids, all_rules())
    if fmt == "json":
        output = as_json(rules, _settled())
    elif fmt == "markdown":
        output = markdown(rules)  # docs/rules.md: the rules' own severities
    elif rule_ids:
        output = text_full(rules, _settled())
    else:
        output = text_list(rules, _settled())
    click.echo(output, nl=False)
    return 0


def _settled() -> Rules:
    """The rules as the current checkout's project configuration settles them."""
    from gym_scaffold.discover import display_path, find_root
    from gym_scaffold.settle import ConfigError, Rules
    from gym_scaffold.settle.project import load

    cwd = Path.cwd()
    try:
        return Rules(load(find_root(cwd), lambda path: display_path(path, cwd)))
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.exceptions.Exit(2) from None
