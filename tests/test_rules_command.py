"""`gym-scaffold rules`, the rule docs it prints, and the generated docs/rules.md."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from gym_scaffold.cli import cli
from gym_scaffold.commands import rules as rules_command
from gym_scaffold.rules import Rule, all_rules, rule_ids

ROOT = Path(__file__).resolve().parent.parent
RULES_MD = ROOT / "docs" / "rules.md"
RULE_IDS = [rule.id for rule in all_rules()]


def run(*args: str):
    return CliRunner().invoke(cli, ["rules", *args])


def fake_rule(rule_id: str, doc: str = "Title.") -> Rule:
    return Rule(rule_id, "error", f"summary of {rule_id}", doc, types.ModuleType(rule_id))


def test_registry_is_not_empty():
    assert RULE_IDS


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.id)
def test_every_rule_is_documented_the_yamllint_way(rule):
    assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", rule.id), rule.id
    assert rule.severity in {"error", "warning", "note"}
    assert rule.summary.strip() and "\n" not in rule.summary
    assert "Failing:" in rule.doc and "Passing:" in rule.doc, f"{rule.id}: add examples"
    assert rule.doc.index("Failing:") < rule.doc.index("Passing:")


def test_list_shows_every_rule_with_severity_fixable_and_summary():
    result = run()
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["RULE", "SEVERITY", "FIXABLE", "SUMMARY"]
    for rule in all_rules():
        assert any(
            line.startswith(rule.id + " ") and rule.severity in line and rule.summary in line
            for line in lines
        ), rule.id
    at = lines[0].index("FIXABLE")
    columns = {line.split()[0]: line[at:].split("  ")[0] for line in lines[1:-2]}
    assert columns["double-question-mark"] == "safe" and columns["unknown-key"] == "unsafe", columns
    assert columns["base-url"] == "safe, unsafe" and columns["duplicate-key"] == "no"
    assert lines[-1].startswith(f"{len(RULE_IDS)} rule")


def test_command_returns_exit_code_zero():
    result = CliRunner().invoke(cli, ["rules"], standalone_mode=False)
    assert result.exception is None and result.return_value == 0


def test_one_rule_in_full():
    rule = all_rules()[0]
    result = run(rule.id)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{rule.id} ({rule.severity}; fixable: safe): {rule.summary}\n\n")
    assert rule.doc in result.output
    assert f"Fix (safe, with validate --fix): {rule.fix_doc}" in result.output
    plain = run("duplicate-key").output
    assert plain.startswith("duplicate-key (error): ") and "Fix (" not in plain


def test_rule_id_is_case_and_space_insensitive():
    rule_id = RULE_IDS[0]
    assert run(f" {rule_id.upper()} ").output == run(rule_id).output


def test_several_rules_in_full():
    result = run(*RULE_IDS[:2])
    assert result.exit_code == 0
    for rule in all_rules()[:2]:
        assert rule.doc in result.output


def test_unknown_rule_is_a_usage_error_with_did_you_mean():
    near_miss = RULE_IDS[0][:-1]
    result = run(near_miss)
    assert result.exit_code == 2
    assert f"unknown rule {near_miss!r}" in result.output
    assert f"Did you mean {RULE_IDS[0]!r}" in result.output
    assert "Traceback" not in result.output


def test_unknown_rule_without_a_near_miss():
    result = run("zzzzzzzz")
    assert result.exit_code == 2
    assert "Did you mean" not in result.output and "gym-scaffold rules" in result.output


def test_suggestions_include_ids_containing_the_word():
    assert rules_command.suggestions("gitignore", ["env-gitignore", "env-tracked"]) == [
        "env-gitignore"
    ]
    assert rules_command.suggestions("", ["a"]) == []


def test_json_format():
    result = run("--format", "json")
    assert result.exit_code == 0
    payload = json.loads(result.output)
    assert payload["version"] == 1
    assert [entry["id"] for entry in payload["rules"]] == RULE_IDS
    first = payload["rules"][0]
    rule = all_rules()[0]
    assert first == {
        "id": rule.id,
        "severity": rule.severity,
        "fixable": "safe",
        "summary": rule.summary,
        "doc": rule.doc,
        "effective_severity": rule.severity,  # no project configuration here
        "configured_by": None,
        "severity_context": None,
    }
    one = json.loads(run(rule.id, "--format", "json").output)
    assert one["rules"] == [first]


def test_bad_format_is_a_usage_error():
    assert run("--format", "xml").exit_code == 2


def test_text_list_of_no_rules():
    assert rules_command.text_list([]) == "No rules registered.\n"
    assert "No rules registered yet." in rules_command.markdown([])


def test_markdown_fences_indented_examples():
    doc = (
        "Title.\n\nWhy.\n\nFailing:\n\n    a: 1\n\n      b: 2\n\nPassing:\n\n"
        "    $ git ls-files\n    x\n\nAfter.\n\n```yaml\n    kept: as is\n```"
    )
    assert rules_command.doc_markdown(doc) == (
        "Title.\n\nWhy.\n\nFailing:\n\n```yaml\na: 1\n\n  b: 2\n```\n\nPassing:\n\n"
        "```console\n$ git ls-files\nx\n```\n\nAfter.\n\n```yaml\n    kept: as is\n```"
    )


def test_markdown_index_links_to_each_section():
    text = rules_command.markdown([fake_rule("a-rule"), fake_rule("b|rule")])
    assert "| [`a-rule`](#a-rule) | error | no | summary of a-rule |" in text
    assert "summary of b\\|rule" in text
    assert "\n## a-rule\n" in text


def test_markdown_format_matches_generated_docs():
    result = run("--format", "markdown")
    assert result.exit_code == 0
    assert result.output == rules_command.markdown(all_rules())


def test_committed_rules_md_is_up_to_date():
    committed = RULES_MD.read_text(encoding="utf-8") if RULES_MD.exists() else ""
    assert committed == rules_command.markdown(all_rules()), (
        "docs/rules.md is out of date with the rule docstrings: "
        "run `python scripts/gen_rule_docs.py` and commit docs/rules.md"
    )


def test_gen_rule_docs_writes_what_the_tests_compare():
    spec = importlib.util.spec_from_file_location(
        "gen_rule_docs", ROOT / "scripts" / "gen_rule_docs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    generated = module.generated()
    assert generated[RULES_MD] == rules_command.markdown(all_rules())
    assert set(generated) == {RULES_MD, ROOT / "docs" / "report.schema.json"}


def test_python_dash_m_rules_end_to_end():
    rule = all_rules()[-1]
    ok = subprocess.run(
        [sys.executable, "-m", "gym_scaffold", "rules", rule.id],
        capture_output=True,
        check=False,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert rule.summary in ok.stdout and "Failing:" in ok.stdout

    bad = subprocess.run(
        [sys.executable, "-m", "gym_scaffold", "rules", rule.id + "x"],
        capture_output=True,
        check=False,
        text=True,
    )
    assert bad.returncode == 2
    assert f"Did you mean {rule.id!r}" in bad.stderr
    assert "Traceback" not in bad.stderr and bad.stdout == ""


def test_every_rule_id_is_its_module_name_with_dashes():
    # rule_ids() relies on it to check ids (config, suppressions) without importing rules
    assert {rule.module.__name__.rsplit(".", 1)[1].replace("_", "-") for rule in all_rules()} == {
        rule.id for rule in all_rules()
    }
    assert rule_ids() == {rule.id for rule in all_rules()}
