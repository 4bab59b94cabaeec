"""An instance has exactly one server type, and the server type exactly one implementation.

NeMo Gym starts a server for each top-level mapping shaped
`instance -> server type -> implementation -> fields`, where the server type is one of
responses_api_models, resources_servers, responses_api_agents. A misspelled server type
turns the instance into a plain global that NeMo Gym silently never starts; two server
types or two implementations make it pick one and drop the other. Reported at the key.

Failing:

    policy_model:
      responses_api_model:
        openai_model:
          entrypoint: app.py
          openai_base_url: ${policy_base_url}
          openai_api_key: ${policy_api_key}
          openai_model: ${policy_model_name}

Failing:

    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_base_url: ${policy_base_url}
          openai_api_key: ${policy_api_key}
          openai_model: ${policy_model_name}
        vllm_model:
          entrypoint: app.py

Passing:

    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_base_url: ${policy_base_url}
          openai_api_key: ${policy_api_key}
          openai_model: ${policy_model_name}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from gym_scaffold.config.model import ConfigView
from gym_scaffold.problem import Problem

if TYPE_CHECKING:
    from gym_scaffold import schemas
    from gym_scaffold.fix import Fix, FixContext

# gym_scaffold.schemas is imported where it is used: the schema engine imports this
# module for its ID.
ID = "server-shape"
SEVERITY = "error"
SUMMARY = (
    "instance -> exactly one server type -> exactly one implementation; server types spelled right"
)


def _hint(error: schemas.SchemaError) -> str | None:
    from gym_scaffold import schemas

    if error.kind == "near-miss":
        guess = schemas.did_you_mean(error.name, error.allowed)
        return f"did you mean {guess!r}?" if guess else "server types: " + ", ".join(error.allowed)
    if error.kind in ("two-server-types", "implementations"):
        return "split it into one instance per server"
    if error.kind == "no-server-type":
        return "put the implementation under one of: " + ", ".join(error.allowed)
    return None


def check(view: ConfigView) -> Iterator[Problem]:
    from gym_scaffold import schemas

    return schemas.schema_problems(view, ID, _hint)


FIX = "safe"


def fix(problem: Problem, context: FixContext) -> Fix | None:
    """A misspelled server type is renamed to the one server type it is a typo of (at most
    two letters dropped, added, changed or swapped), unless the instance has a server type
    already."""
    from gym_scaffold.config.model import SERVER_TYPES
    from gym_scaffold.edits import Replacement
    from gym_scaffold.fix import Fix, Replace, typo_candidates
    from gym_scaffold.yaml_edit import key_text

    source = context.yaml(problem.path)
    entry = source.key_at(problem.line, problem.column) if source is not None else None
    name = getattr(entry.node, "value", None) if entry is not None else None
    if not isinstance(name, str) or not problem.message.startswith("unknown server type"):
        return None
    close = typo_candidates(name, SERVER_TYPES)
    siblings = {getattr(key, "value", None) for key, _ in entry.parent.value}
    if len(close) != 1 or siblings & set(SERVER_TYPES):
        return None
    text = key_text(close[0], entry.node.style)
    if text is None:
        return None
    start, end = source.span(entry.node)
    return Fix((Replace(source.source.path, Replacement(start, end, text)),))
