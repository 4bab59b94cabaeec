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
from typing import TYPE_CHECKING

from gym_scaffold.config.model import ConfigView
from gym_scaffold.problem import Problem
from gym_scaffold.rules._values import written_in_env_file, written_scalars
from gym_scaffold.secrets import looks_like_secret, provider_of, redact

if TYPE_CHECKING:
    from gym_scaffold.fix import Fix, FixContext

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


# The config then needs env.yaml to run: a change of how the file is used.
FIX = "unsafe"


def fix(problem: Problem, context: FixContext) -> Fix | None:
    """The key moved to env.yaml under a new key named after the instance (e.g.
    `judge_model_api_key`; never an existing key with another value), and `${that_key}`
    written in its place. env.yaml is created, and made ignored by git, when needed."""
    import re

    from gym_scaffold.fix import AppendLine, Fix, Replace, ignore_change
    from gym_scaffold.rules._fields import API_KEY, role_of
    from gym_scaffold.yaml_edit import scalar_text

    source = context.yaml(problem.path)
    entry = source.value_at(problem.line, problem.column) if source is not None else None
    value = getattr(entry.node, "value", None) if entry is not None else None
    if not looks_like_secret(value) or context.is_env(source.source.path) or len(entry.path) < 2:
        return None
    instance, key = entry.path[0], entry.path[-1]
    if not isinstance(instance, str) or not isinstance(key, str):
        return None
    base = re.sub(r"[^A-Za-z0-9_]", "_", f"{instance}_{'api_key' if role_of(key) == API_KEY else key}")
    view = context.view(problem.path)
    env_data = context.env_data()
    taken = {name for name in (view.composed.data if view is not None else {}) if name not in env_data}
    name = context.new_env_key(base, value, taken)
    reference = source.replace_scalar(entry, "${" + name + "}")
    written = scalar_text(value, "")
    if reference is None or written is None:
        return None
    changes: list = []
    if env_data.get(name) != value:
        changes.append(AppendLine(context.env_path, f"{name}: {written}"))
    if context.env_ignored(context.env_path) is False:
        ignore = ignore_change(context, context.env_path)
        if ignore is not None:
            changes.append(ignore)
    changes.append(Replace(source.source.path, reference))
    return Fix(tuple(changes), secrets=(value,))
