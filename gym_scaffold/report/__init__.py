"""Reporters: each turns a `Result` into the text of one output format, nothing else.

A reporter never checks anything and never writes anywhere: `render` returns a string
ending in a newline, and the caller prints it. Reporters are imported only when their
format is asked for, so the JSON reporter's pydantic import stays off the default path.

    render(result, "sarif")                  # -> str
    render(result, "text", color=True)       # options a reporter does not know are ignored
    default_format(os.environ)               # "github" under GitHub Actions, else "text"
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gym_scaffold.result import Result

# format name -> module exposing `render(result, **options) -> str`
FORMATS: dict[str, str] = {
    "text": "gym_scaffold.report.text",
    "json": "gym_scaffold.report.json",
    "github": "gym_scaffold.report.github",
    "sarif": "gym_scaffold.report.sarif",
}


def render(result: Result, fmt: str, **options: object) -> str:
    """Format `result` as `fmt` (a key of FORMATS). An unknown format is a ValueError."""
    module_name = FORMATS.get(fmt)
    if module_name is None:
        choices = ", ".join(sorted(FORMATS))
        raise ValueError(f"unknown output format {fmt!r} (choose from {choices})")
    module = importlib.import_module(module_name)
    return module.render(result, **options)


def default_format(environ: Mapping[str, str]) -> str:
    """GitHub annotations when running under GitHub Actions, plain text everywhere else."""
    return "github" if environ.get("GITHUB_ACTIONS") == "true" else "text"
