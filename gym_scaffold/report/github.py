"""GitHub Actions output: one workflow command per problem, shown as an annotation.

    ::error file=configs/a.yaml,line=12,col=5,title=placeholder-value::openai_api_key is a placeholder%0Ahint: ...

Errors become `::error`, warnings `::warning`, notes `::notice`. A problem about a whole
file (line 0) carries no line or col. The message and the hint share the annotation's
text, one per line. Escaping follows the runner's parser (actions/toolkit): in the text,
`%`, CR and LF are percent-encoded; in properties, `:` and `,` are too. The last line is
the run's summary as plain log text.
"""

from __future__ import annotations

from gym_scaffold.problem import Problem, Severity
from gym_scaffold.report.text import summary_line
from gym_scaffold.result import Result

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    """Escape the message part of a workflow command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (file, title) of a workflow command."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(problem: Problem) -> str:
    """The workflow command annotating one problem."""
    properties = [f"file={escape_property(problem.path)}"]
    if problem.line > 0:
        properties.append(f"line={problem.line}")
        if problem.column > 0:
            properties.append(f"col={problem.column}")
    properties.append(f"title={escape_property(problem.rule)}")
    text = problem.message
    if problem.hint:
        text += f"\nhint: {problem.hint}"
    return f"::{_COMMANDS[problem.severity]} {','.join(properties)}::{escape_data(text)}"


def render(result: Result, *, show_notes: bool = True, **_options: object) -> str:
    """Annotations for every problem (notes unless `show_notes` is false), then a summary."""
    lines = [
        command(problem)
        for problem in result.sorted_problems()
        if show_notes or problem.severity is not Severity.NOTE
    ]
    lines.append(f"gym-scaffold: {summary_line(result, show_notes=show_notes)}")
    return "\n".join(lines) + "\n"
