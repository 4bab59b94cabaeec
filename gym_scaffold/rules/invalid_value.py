"""A value of the wrong type, out of range, or not among the accepted values.

Types are judged the way NeMo Gym's pydantic models read them (lax: `"8000"` is a valid
port, `yes` a valid boolean) after YAML 1.1 typing (`port: 0x1F90` is a number,
`python_version: 3.10` is the number 3.1). A `${...}` interpolation or the `???` marker
satisfies any type: the value arrives later. Enumerations (domain, dataset type, license,
reference type) get a did-you-mean. Reported at the value.

Failing:

    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_base_url: ${policy_base_url}
          openai_api_key: ${policy_api_key}
          openai_model: ${policy_model_name}
          port: abc

Failing:

    math:
      resources_servers:
        math_with_judge:
          entrypoint: app.py
          domain: maths

Passing:

    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_base_url: ${policy_base_url}
          openai_api_key: ${policy_api_key}
          openai_model: ${policy_model_name}
          port: ${policy_port}
          max_concurrent_requests: "16"
"""

from __future__ import annotations

from collections.abc import Iterator

from gym_scaffold.config.model import ConfigView
from gym_scaffold.problem import Problem

# gym_scaffold.schemas is imported where it is used: the schema engine imports this
# module for its ID.
ID = "invalid-value"
SEVERITY = "error"
SUMMARY = "types (as NeMo Gym reads them), ranges and accepted values, with a did-you-mean"


def _hint(name: str | None, allowed: tuple[str, ...]) -> str | None:
    from gym_scaffold import schemas

    if not allowed:
        return None
    guess = schemas.did_you_mean(name, allowed, cutoff=0.5)
    if guess:
        return f"did you mean {guess!r}?"
    return "accepted: " + ", ".join(allowed)


def check(view: ConfigView) -> Iterator[Problem]:
    from gym_scaffold import schemas

    return schemas.schema_problems(view, ID, lambda error: _hint(error.name, error.allowed))
