"""A placeholder left where a real endpoint value belongs.

Values such as `sk-your-api-key`, `<api_key>`, `your-api-key`, `changeme` or
`http://<host_url>:<port>/v1` pass NeMo Gym's start-up and fail hours later as a 401
or a connection error. An empty API key is an error too when its endpoint is not on
this machine (local servers such as vLLM legitimately take `""`, `EMPTY` or `dummy`).

Failing:

    judge_model:
      responses_api_models:
        vllm_model:
          entrypoint: app.py
          base_url: http://<host_url>:<port>/v1
          api_key: <api_key>
          model: nvidia/judge

Passing:

    judge_model:
      responses_api_models:
        vllm_model:
          entrypoint: app.py
          base_url: ${judge_base_url}
          api_key: ${judge_api_key}
          model: nvidia/judge
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from gym_scaffold.config.grammar import is_interpolation
from gym_scaffold.config.model import ConfigView
from gym_scaffold.problem import Problem, shorten
from gym_scaffold.rules._fields import (
    API_KEY,
    BASE_URL,
    endpoint_values,
    is_local_url,
    sibling_base_url,
)
from gym_scaffold.secrets import PLACEHOLDER

ID = "placeholder-value"
SEVERITY = "error"
SUMMARY = "a placeholder (sk-your-..., <api_key>, changeme, empty key) where a real value belongs"

_ANGLE = re.compile(r"<[A-Za-z_][\w -]*>")


def placeholder_in(value: str, role: str) -> bool:
    text = value.strip()
    if PLACEHOLDER.match(text):
        return True
    # Inside a URL: http://<host_url>:<port>/v1
    return role == BASE_URL and bool(_ANGLE.search(text))


def check(view: ConfigView) -> Iterator[Problem]:
    for item in endpoint_values(view):
        value = item.value
        if not isinstance(value, str) or is_interpolation(value):
            continue
        name = item.path[-1] if isinstance(item.path[-1], str) else item.path[-2]
        if placeholder_in(value, item.role):
            what, example = ("API key", "policy_api_key") if item.role == API_KEY else ("base URL", "policy_base_url")
            yield view.problem(
                item.path,
                ID,
                f"'{shorten(name)}' is a placeholder {what}, not a real value",
                hint=f"put the real value in env.yaml and reference it here, e.g. ${{{example}}}",
            )
        elif item.role == API_KEY and value == "":
            base_url = sibling_base_url(view.resolved.data, item.path)
            if isinstance(base_url, str) and "://" in base_url and not is_local_url(base_url):
                yield view.problem(
                    item.path,
                    ID,
                    f"'{shorten(name)}' is empty but its endpoint {shorten(base_url)} is not on this machine",
                    hint="reference the key from env.yaml, e.g. ${policy_api_key}",
                )
