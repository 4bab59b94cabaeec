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

from gym_scaffold import schemas
from gym_scaffold.config.model import ConfigView
from gym_scaffold.problem import Problem

ID = "unknown-key"
SEVERITY = "error"
SUMMARY = (
    "keys an implementation, dataset or instance does not have (NeMo Gym would drop them silently)"
)


def _hint(name: str | None, allowed: tuple[str, ...]) -> str | None:
    guess = schemas.did_you_mean(name, allowed)
    if guess:
        return f"did you mean {guess!r}?"
    shown = [key for key in allowed if not key.startswith("_")] or list(allowed)
    if not shown:
        return None
    listing = ", ".join(shown[:12]) + (", ..." if len(shown) > 12 else "")
    return f"known keys: {listing}"


def check(view: ConfigView) -> Iterator[Problem]:
    return schemas.schema_problems(view, ID, lambda error: _hint(error.name, error.allowed))
