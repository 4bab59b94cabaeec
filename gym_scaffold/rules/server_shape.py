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

from gym_scaffold import schemas
from gym_scaffold.config.model import ConfigView
from gym_scaffold.problem import Problem

ID = "server-shape"
SEVERITY = "error"
SUMMARY = (
    "instance -> exactly one server type -> exactly one implementation; server types spelled right"
)


def _hint(error: schemas.SchemaError) -> str | None:
    if error.kind == "near-miss":
        guess = schemas.did_you_mean(error.name, error.allowed)
        return f"did you mean {guess!r}?" if guess else "server types: " + ", ".join(error.allowed)
    if error.kind in ("two-server-types", "implementations"):
        return "split it into one instance per server"
    if error.kind == "no-server-type":
        return "put the implementation under one of: " + ", ".join(error.allowed)
    return None


def check(view: ConfigView) -> Iterator[Problem]:
    return schemas.schema_problems(view, ID, _hint)
