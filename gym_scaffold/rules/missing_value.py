"""A `???` ("supplied later") that nothing supplies.

In a committed config, `???` marks a value supplied at run time (by env.yaml or the
command line) and is fine. env.yaml is where values are supplied, so a `???` there is a
value still to fill in (`new --no-input` writes `policy_api_key: ???`): a warning, since
a run that does not use it, or that supplies it on the command line, still starts. In
one `--config` run, a `???` still present after merging env.yaml stops NeMo Gym at
start-up: an error. The always-run hook (`--env-check-only`) leaves it to validate.

Failing:

    # file: env.yaml
    policy_api_key: ???

Passing:

    # file: env.yaml
    policy_api_key: ${oc.env:OPENAI_API_KEY}
"""

from __future__ import annotations

from collections.abc import Iterator

from gym_scaffold.config.model import MANDATORY, ConfigView
from gym_scaffold.problem import Problem, Severity, shorten
from gym_scaffold.rules._values import iter_scalars, written_in_env_file

ID = "missing-value"
SEVERITY = "error"
SUMMARY = "a `???` in env.yaml, or left unfilled in a --config run"
RUN_DEPENDENT = True  # a run reports ??? left unfilled after every file and env.yaml are merged


def _dotted(path: tuple) -> str:
    """The path as messages quote it; keys are the user's text, of any length."""
    return shorten(".".join(shorten(str(part)) for part in path), 200)


def check(view: ConfigView) -> Iterator[Problem]:
    in_env = written_in_env_file(view)
    if in_env:
        for path, value in iter_scalars(view.env.data):
            if value == MANDATORY:
                yield view.problem(
                    path,
                    ID,
                    f"env.yaml sets '{_dotted(path)}' to ???, but env.yaml is where values are supplied",
                    severity=Severity.ERROR if view.run_mode else Severity.WARNING,
                    hint=f"write the real value of {_dotted(path)} here",
                )
    if view.run_mode:
        for path, value in iter_scalars(view.resolved.data):
            if in_env and path and path[0] in view.composed.env_keys:
                continue  # reported above, where env.yaml writes it
            if value == MANDATORY:
                yield view.problem(
                    path,
                    ID,
                    f"no value supplied for '{_dotted(path)}' (still ??? after merging env.yaml)",
                    hint="set it in env.yaml, or on the command line as +" + _dotted(path) + "=...",
                )
