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

from gym_scaffold.config.model import ConfigView
from gym_scaffold.problem import Problem, Severity
from gym_scaffold.schemas import SERVER_SHAPE, did_you_mean, schema_errors

ID = SERVER_SHAPE
SEVERITY = "error"
SUMMARY = (
    "instance -> exactly one server type -> exactly one implementation; server types spelled right"
)


def check(view: ConfigView) -> Iterator[Problem]:
    for error in schema_errors(view):
        if error.rule != ID:
            continue
        hint = None
        if error.kind == "near-miss":
            guess = did_you_mean(error.name, error.allowed)
            hint = (
                f"did you mean {guess!r}?" if guess else "server types: " + ", ".join(error.allowed)
            )
        elif error.kind in ("two-server-types", "implementations"):
            hint = "split it into one instance per server"
        elif error.kind == "no-server-type":
            hint = "put the implementation under one of: " + ", ".join(error.allowed)
        problem = view.problem(
            error.path,
            ID,
            error.message,
            severity=Severity(error.severity),
            hint=hint,
            of_key=error.of_key,
        )
        if problem is not None:
            yield problem
