"""A required key is missing.

Each implementation schema names the fields its server cannot start without
(openai_model: openai_base_url, openai_api_key, openai_model); every server needs an
`entrypoint`, a resources server a `domain`, a dataset its name, type and jsonl_fpath
(and a license for train and validation data, a prepare_script for a benchmark). NeMo
Gym notices only when the server starts. A block that only overrides an instance defined
elsewhere (through `config_paths`, `_inherit_from` or `_copy`) is not held to this. Checking
one file on its own, a server block that declares a server (`entrypoint`) but lacks an
implementation key gets a warning (a run may supply it; write `???` to say so); in a
`--config` run it is an error. Reported at the mapping that lacks the key.

Failing:

    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_api_key: ${policy_api_key}
          openai_model: ${policy_model_name}

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

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from gym_scaffold.config.model import COPY, INHERIT_FROM, SERVER_TYPES, ConfigView
from gym_scaffold.problem import Problem, Severity

if TYPE_CHECKING:
    from gym_scaffold.config.loader import DataPath
    from gym_scaffold.schema_messages import SchemaError

# gym_scaffold.schemas is imported where it is used: the schema engine imports this
# module for its ID.
ID = "missing-key"
SEVERITY = "error"
SUMMARY = "required keys of servers, implementations and datasets"
RUN_DEPENDENT = True  # a run reports a missing key of a block that a file on its own may leave to another
SEVERITY_CONTEXT = (
    "warning for an implementation key when a file is checked on its own, since a run may supply it; "
    "error in a --config run"
)


def _hint(name: str | None, path: tuple, severity: str) -> str:
    if severity == "warning":
        return f"add {name}: ..., or {name}: ??? when the run supplies it (an override or another config)"
    if len(path) == 3 and name in ("entrypoint", "domain"):
        return (
            f"add {name}: ...; if this block only overrides an instance from another file, "
            "list that file under config_paths"
        )
    return f"add {name}: ..."


def check(view: ConfigView) -> Iterator[Problem]:
    from gym_scaffold import schemas

    for problem in schemas.schema_problems(view, ID, lambda error: _hint(error.name, error.path, error.severity)):
        if problem.severity is Severity.WARNING:  # say why it is not an error
            problem = dataclasses.replace(problem, message=f"{problem.message}, unless the run supplies it")
        yield problem


def _has_directive(node: Any) -> bool:
    return isinstance(node, dict) and (INHERIT_FROM in node or COPY in node)


def severity(
    view: ConfigView, data: dict, error: SchemaError, all_partial: bool
) -> str | None:
    """The severity of a missing key, or None when `required` does not apply there. The
    schema engine's shared pass asks it of every missing key (`all_partial`: the view is
    env.yaml, or a file whose includes were not all read)."""
    from gym_scaffold.derived_schemas import run_schemas
    from gym_scaffold.schema_messages import value_at
    from gym_scaffold.schemas import server_schema_path

    path = error.path
    if any(isinstance(part, int) for part in path):
        return "error"  # a dataset entry: lists are replaced whole, so the entry is complete
    if all_partial:
        return None
    node: Any = data
    for part in path:
        if _has_directive(node):
            return None
        found, node = value_at(node, (part,))
        if not found:
            return None
    if _has_directive(node):
        return None
    if view.run_mode or len(path) < 3 or path[1] not in SERVER_TYPES:
        return "error"
    found, body = value_at(data, path[:3])
    if not isinstance(body, dict):
        return "error"
    relative = server_schema_path(view, path[1], str(path[2]), body.get("entrypoint"))
    required = run_schemas(view).required_keys(relative) if relative else frozenset()
    includes = bool(data.get("config_paths"))
    # An implementation that requires nothing of its own (as many derived from app.py
    # do) cannot tell an overlay from a declaration: without entrypoint it is an overlay.
    if "entrypoint" not in body and (includes or not (relative and required and required <= body.keys())):
        # An overlay, composed with other files in a run. In a file with includes the
        # server may be declared by a file those pull in further down (or a run adds).
        return None
    if "entrypoint" not in body and _declared_elsewhere(view, path[:3]):
        return None  # an overlay of a block another config of the checkout declares
    if len(path) == 3 and error.name in ("entrypoint", "domain"):
        return "error"
    return "warning"


def _declared_elsewhere(view: ConfigView, block: DataPath) -> bool:
    """Whether another config of the checkout declares this server block (with its
    `entrypoint`); the view's index records the answer for the result cache."""
    if view.checkout is None or view.run_mode:
        return False
    instance, server_type, implementation = map(str, block)
    return view.checkout.declares(instance, server_type, implementation)
