"""Machine-readable output: one JSON object per run, versioned and described by a schema.

The object (`Report` below; its JSON Schema is committed as docs/report.schema.json):

    {
      "version": 1,
      "tool": {"name": "gym-scaffold", "version": "0.1.0"},
      "files_checked": ["responses_api_models/openai_model/configs/openai_model.yaml"],
      "files_skipped": ["resources_servers/x/prompts/system.yaml"],
      "problems": [
        {"path": "...", "line": 12, "column": 5, "severity": "error",
         "rule": "placeholder-value", "message": "...", "hint": "..."}
      ],
      "baselined": [],
      "summary": {"files": 1, "skipped": 1, "errors": 1, "warnings": 0, "notes": 0, "baselined": 0}
    }

`version` changes only when a field is removed, renamed or changes meaning; new fields
may appear within one version, so a reader should ignore keys it does not know.
Problems are sorted by path, line, column and rule; notes (a skipped file, a skipped check)
are listed only with `validate -v`, and always counted in the summary. `line` and `column` are 1-based;
0 means the problem concerns the whole file.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gym_scaffold import __version__
from gym_scaffold.problem import Problem, Severity
from gym_scaffold.result import Result

REPORT_VERSION = 1
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _Model(BaseModel):
    # No `additionalProperties: false` in the schema: fields may be added within a version.
    model_config = ConfigDict(frozen=True)


class Tool(_Model):
    """The program that wrote the report."""

    name: Literal["gym-scaffold"] = "gym-scaffold"
    version: str = Field(description="gym-scaffold's version, e.g. 0.1.0")


class ProblemEntry(_Model):
    """One problem at one place in one file."""

    path: str = Field(
        description="The file, as given on the command line or found under the repository root"
    )
    line: int = Field(ge=0, description="1-based line; 0 when the problem concerns the whole file")
    column: int = Field(ge=0, description="1-based column; 0 when there is no precise column")
    severity: Literal["error", "warning", "note"] = Field(
        description="error fails the run; warning fails it only with --strict; note never does"
    )
    rule: str = Field(description="The rule id; `gym-scaffold rules RULE` explains it")
    message: str = Field(description="What is wrong, in one line")
    hint: str | None = Field(description="How to fix it, or null")


class Summary(_Model):
    """Counts over the whole run."""

    files: int = Field(ge=0, description="Number of files checked")
    skipped: int = Field(ge=0, description="Number of YAML files skipped as not NeMo Gym configs")
    errors: int = Field(ge=0)
    warnings: int = Field(ge=0)
    notes: int = Field(ge=0, description="Notes of the run, listed under problems only with --verbose")
    baselined: int = Field(ge=0, description="Number of problems the baseline file records")


class Report(_Model):
    """The result of one `gym-scaffold validate` run."""

    model_config = ConfigDict(title="gym-scaffold validate report")

    version: Literal[1] = Field(description="Format version of this object")
    tool: Tool
    files_checked: list[str] = Field(description="Files checked, in the order they were checked")
    files_skipped: list[str] = Field(
        description="YAML files skipped because they are not NeMo Gym configs"
    )
    problems: list[ProblemEntry]
    baselined: list[ProblemEntry] = Field(
        description="Problems the baseline file records (--baseline): not reported, never fail the run"
    )
    summary: Summary


def _entry(problem: Problem) -> ProblemEntry:
    return ProblemEntry(
        path=problem.path,
        line=problem.line,
        column=problem.column,
        severity=str(problem.severity),
        rule=problem.rule,
        message=problem.message,
        hint=problem.hint,
    )


def build(result: Result, *, show_notes: bool = True) -> Report:
    """The report object for `result`; notes are counted, and listed when `show_notes`."""
    return Report(
        version=REPORT_VERSION,
        tool=Tool(version=__version__),
        files_checked=list(result.files_checked),
        files_skipped=list(result.files_skipped),
        problems=[
            _entry(problem)
            for problem in result.sorted_problems()
            if show_notes or problem.severity is not Severity.NOTE
        ],
        baselined=[_entry(problem) for problem in sorted(result.baselined, key=lambda p: p.sort_key)],
        summary=Summary(
            files=len(result.files_checked),
            skipped=len(result.files_skipped),
            errors=result.errors,
            warnings=result.warnings,
            notes=result.count(Severity.NOTE),
            baselined=len(result.baselined),
        ),
    )


def render(result: Result, *, show_notes: bool = True, **_options: object) -> str:
    """The report as indented JSON, ending in a newline."""
    return build(result, show_notes=show_notes).model_dump_json(indent=2) + "\n"


def schema() -> dict:
    """The JSON Schema (draft 2020-12) of the report object."""
    generated = Report.model_json_schema()
    return {"$schema": SCHEMA_DIALECT, **generated}


def schema_text() -> str:
    """The schema as committed in docs/report.schema.json."""
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"
