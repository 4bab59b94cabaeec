"""An API key written into a config file that gets committed.

Anything that looks like a real key (a provider prefix such as `sk-`, `sk-proj-`,
`nvapi-`, `sk-ant-`, `gsk_`, `hf_`, or a long random token) belongs in env.yaml, which
git ignores. Stand-ins for local servers (`EMPTY`, `dummy`, `""`) are not keys.

Failing:

    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_base_url: https://api.openai.com/v1
          openai_api_key: sk-proj-Xq7fT2mZk9LpR4vW8yB3nC6dJ1hG5sA0
          openai_model: gpt-4o-mini

Passing:

    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_base_url: https://api.openai.com/v1
          openai_api_key: ${policy_api_key}
          openai_model: gpt-4o-mini
"""

from __future__ import annotations

from collections.abc import Iterator

from gym_scaffold.config.model import ConfigView
from gym_scaffold.problem import Problem
from gym_scaffold.rules._values import written_in_env_file, written_scalars
from gym_scaffold.secrets import looks_like_secret, provider_of, redact

ID = "literal-secret"
SEVERITY = "error"
SUMMARY = "an API key written literally in a config file instead of env.yaml"


def check(view: ConfigView) -> Iterator[Problem]:
    env_keys = view.composed.env_keys if view.env is not None else frozenset()
    if written_in_env_file(view) and not view.run_mode:
        return
    for path, value in written_scalars(view):
        if path and path[0] in env_keys:
            continue  # env.yaml is where keys belong
        if looks_like_secret(value):
            kind = provider_of(value.strip()) or "secret"
            yield view.problem(
                path,
                ID,
                f"{kind} ({redact(value)}) written literally in a config file",
                hint="move it to env.yaml (git-ignored), e.g. policy_api_key: <key>, "
                "and write ${policy_api_key} here",
            )
