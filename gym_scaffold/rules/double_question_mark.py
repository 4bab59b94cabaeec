"""`??` is a two-character string, not the `???` "supplied later" marker.

OmegaConf treats only `???` as a missing mandatory value. `??` loads as the literal
string "??", so NeMo Gym starts happily and sends `??` as the API key: the run fails
later with a 401 wrapped in a 500.

Failing:

    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_base_url: https://api.openai.com/v1
          openai_api_key: ??
          openai_model: gpt-4o-mini

Passing:

    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_base_url: https://api.openai.com/v1
          openai_api_key: ???
          openai_model: gpt-4o-mini
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from gym_scaffold.config.model import ConfigView
from gym_scaffold.problem import Problem, shorten
from gym_scaffold.rules._values import written_scalars

if TYPE_CHECKING:
    from gym_scaffold.fix import Fix, FixContext

ID = "double-question-mark"
SEVERITY = "error"
SUMMARY = "a literal `??` where the `???` marker (or a ${...} reference) was meant"


def check(view: ConfigView) -> Iterator[Problem]:
    for path, value in written_scalars(view):
        if value == "??":
            yield view.problem(
                path,
                ID,
                f"'{shorten(str(path[-1]))}' is the literal string '??', not the '???' marker",
                hint="write ??? for a value supplied at run time, or reference env.yaml, "
                "e.g. ${policy_api_key}",
            )


FIX = "safe"


def fix(problem: Problem, context: FixContext) -> Fix | None:
    """`??` becomes `???`, in the quotes it had (OmegaConf reads a quoted `???` as the marker too)."""
    from gym_scaffold.fix import Fix, Replace

    source = context.yaml(problem.path)
    entry = source.value_at(problem.line, problem.column) if source is not None else None
    if entry is None or getattr(entry.node, "value", None) != "??":
        return None
    edit = source.replace_scalar(entry, "???")
    return Fix((Replace(source.source.path, edit),)) if edit is not None else None
