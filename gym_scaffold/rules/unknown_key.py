"""A key the schema of its mapping does not know.

NeMo Gym drops unknown fields of a server without a word: `max_concurent_requests: 8`
leaves the limit unset. Keys are checked where their meaning is known: the fields of an
implementation that has a schema (openai_model, vllm_model, ...), dataset entries,
references, and the keys of an instance (a server type, `_inherit_from`, `_copy`).
Implementations without a schema accept any key. Reported at the key, with a did-you-mean.

Failing:

    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_base_url: ${policy_base_url}
          openai_api_key: ${policy_api_key}
          openai_model: ${policy_model_name}
          max_concurent_requests: 8

Passing:

    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_base_url: ${policy_base_url}
          openai_api_key: ${policy_api_key}
          openai_model: ${policy_model_name}
          max_concurrent_requests: 8
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from gym_scaffold.config.model import ConfigView
from gym_scaffold.problem import Problem

if TYPE_CHECKING:
    from gym_scaffold.fix import Fix, FixContext

# gym_scaffold.schemas is imported where it is used: the schema engine imports this
# module for its ID.
ID = "unknown-key"
SEVERITY = "error"
SUMMARY = (
    "keys an implementation, dataset or instance does not have (NeMo Gym would drop them silently)"
)


def _hint(name: str | None, allowed: tuple[str, ...]) -> str | None:
    from gym_scaffold import schemas

    guess = schemas.did_you_mean(name, allowed)
    if guess:
        return f"did you mean {guess!r}?"
    shown = [key for key in allowed if not key.startswith("_")] or list(allowed)
    if not shown:
        return None
    listing = ", ".join(shown[:12]) + (", ..." if len(shown) > 12 else "")
    return f"known keys: {listing}"


def check(view: ConfigView) -> Iterator[Problem]:
    from gym_scaffold import schemas

    return schemas.schema_problems(view, ID, lambda error: _hint(error.name, error.allowed))


FIX = "unsafe"

def fix(problem: Problem, context: FixContext) -> Fix | None:
    """The key renamed to its did-you-mean when that is the one known key it is a typo of
    (at most two letters dropped, added, changed or swapped) and the mapping does not set
    that key already. Unsafe: the value starts being used."""
    from gym_scaffold import schemas
    from gym_scaffold.edits import Replacement
    from gym_scaffold.fix import Fix, Replace, typo_candidates
    from gym_scaffold.schemas import schema_errors
    from gym_scaffold.yaml_edit import key_text

    source = context.yaml(problem.path)
    entry = source.key_at(problem.line, problem.column) if source is not None else None
    view = context.view(problem.path) if entry is not None else None
    if view is None:
        return None
    where = (problem.path, problem.line, problem.column)
    error = next(
        (
            error
            for error in schema_errors(view)
            if error.rule == ID
            and error.message == problem.message
            and (origin := view.origin(error.path, of_key=True)) is not None
            and tuple(origin) == where
        ),
        None,
    )
    if error is None or not isinstance(error.name, str) or entry.node.value != error.name:
        return None
    close = typo_candidates(error.name, error.allowed)
    if len(close) != 1 or schemas.did_you_mean(error.name, error.allowed) != close[0]:
        return None
    candidate = close[0]
    siblings = {getattr(key, "value", None) for key, _ in entry.parent.value}
    parent = view.composed.data
    for part in error.path[:-1]:
        parent = parent.get(part) if isinstance(parent, dict) else None
    if candidate in siblings or (isinstance(parent, dict) and candidate in parent):
        return None
    text = key_text(candidate, entry.node.style)
    if text is None:
        return None
    start, end = source.span(entry.node)
    return Fix((Replace(source.source.path, Replacement(start, end, text)),))
