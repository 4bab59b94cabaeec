"""A `${...}` reference that resolves nowhere.

Without env.yaml (a fresh clone, a CI job) references that env.yaml would supply are
accepted. With env.yaml present, an unresolved reference is an error when it looks
like a mistake: a near miss of a key that exists (`${policy_api_kye}`), or a key of an
endpoint env.yaml configures in part (it sets `policy_base_url` but not
`policy_api_key`). A key of an endpoint this machine does not configure at all
(`judge_*` with no judge keys in env.yaml), or another value env.yaml does not define, is
a note naming the key to add: a checkout holds configs for every environment and a
machine runs a few of them. In one `--config` run, every unresolved reference is an
error: NeMo Gym would stop on it.

Failing:

    # file: config.yaml
    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_base_url: ${policy_base_url}
          openai_api_key: ${policy_api_kye}
          openai_model: ${policy_model_name}
    # file: env.yaml
    policy_base_url: https://api.openai.com/v1
    policy_api_key: ${oc.env:OPENAI_API_KEY}
    policy_model_name: gpt-4o-mini

Passing:

    # file: config.yaml
    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_base_url: ${policy_base_url}
          openai_api_key: ${policy_api_key}
          openai_model: ${policy_model_name}
    # file: env.yaml
    policy_base_url: https://api.openai.com/v1
    policy_api_key: ${oc.env:OPENAI_API_KEY}
    policy_model_name: gpt-4o-mini
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from gym_scaffold.config.model import ConfigView, Unresolved
from gym_scaffold.problem import Problem, Severity, shorten

ID = "unresolved-interpolation"
SEVERITY = "error"
SUMMARY = "a ${...} reference that resolves nowhere (typo, or an endpoint env.yaml configures in part)"
RUN_DEPENDENT = True  # a run reports unset environment variables and keys missing from env.yaml
SEVERITY_CONTEXT = (
    "a note, in file and whole-checkout mode, for an endpoint env.yaml does not configure at all; "
    "always an error in a --config run"
)

_ENDPOINT_KEY = re.compile(r"^(?P<endpoint>.+?)_(?:base_url|api_key|model_name|model)$")


def _is_env_var(item: Unresolved) -> bool:
    return getattr(item, "kind", None) == "env" or item.key.startswith("oc.env:")


def _known_globals(view: ConfigView) -> list[str]:
    """Top-level keys a reference can mean: plain values, not server instances."""
    data = view.resolved.data if isinstance(view.resolved.data, dict) else {}
    return [key for key, value in data.items() if isinstance(key, str) and not isinstance(value, dict)]


def _classify(item: Unresolved, view: ConfigView) -> tuple[Severity, str, str] | None:
    key = item.key
    top = key.split(".")[0].split("[")[0]
    # As quoted in the message and hint (the user's text, of any length).
    expression, key_shown, top_shown = shorten(item.expression), shorten(key), shorten(top)
    if _is_env_var(item):
        if not view.run_mode:
            return None  # the variable is set where the config runs
        var = shorten(key.split(":", 1)[-1])
        return (
            Severity.WARNING,
            f"environment variable {var} is not set here and {expression} has no default",
            f"export {var}, or give a default: ${{oc.env:{var},<default>}}",
        )
    if view.env is None and not view.run_mode:
        return None  # no env.yaml here: the value arrives where the config runs
    data = view.resolved.data if isinstance(view.resolved.data, dict) else {}
    if top in data:
        return None  # defined, but its own value is still to come (???): missing-value's case
    candidates = [key for key in _known_globals(view) if item.path[:1] != (key,)]
    close = difflib.get_close_matches(top, candidates, n=1, cutoff=0.8)
    if close:
        return (
            Severity.ERROR,
            f"{expression} refers to '{top_shown}', which is not defined; did you mean '{shorten(close[0])}'?",
            f"write ${{{shorten(close[0] + key[len(top):])}}}",
        )
    if view.run_mode:
        return (
            Severity.ERROR,
            f"{expression}: '{key_shown}' is defined neither in these configs nor in env.yaml",
            f"add '{top_shown}: ...' to env.yaml",
        )
    env_keys = [k for k in view.env.data if isinstance(k, str)]
    match = _ENDPOINT_KEY.match(top)
    if match:
        endpoint = match.group("endpoint")
        siblings = sorted(k for k in env_keys if k.startswith(endpoint + "_"))
        if siblings:
            return (
                Severity.ERROR,
                (
                    f"{expression}: env.yaml configures the '{shorten(endpoint)}' endpoint "
                    f"({shorten(', '.join(shorten(s) for s in siblings), 200)}) but not '{top_shown}'"
                ),
                f"add '{top_shown}: ...' to env.yaml",
            )
        return (
            Severity.NOTE,
            f"{expression}: env.yaml does not configure the '{shorten(endpoint)}' endpoint",
            f"add '{top_shown}: ...' to env.yaml to run this config here",
        )
    return (
        Severity.NOTE,
        f"{expression}: '{key_shown}' is defined neither in this config nor in env.yaml",
        f"add '{top_shown}: ...' to env.yaml to run this config here",
    )


def check(view: ConfigView) -> Iterator[Problem]:
    for item in view.resolved.unresolved:
        verdict = _classify(item, view)
        if verdict is not None:
            severity, message, hint = verdict
            yield view.problem(item.path, ID, message, severity=severity, hint=hint)
