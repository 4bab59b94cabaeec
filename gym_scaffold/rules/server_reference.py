"""A reference `{type, name}` to a server instance that does not exist, or has another type.

Servers name each other with `{type: <server type>, name: <instance>}` mappings
(`model_server`, `resources_server`, `judge_model_server`, `user_model_server`, at any
depth of a server block). NeMo Gym fails at start-up, or at the first request, when the
instance does not exist after merging `config_paths`, env.yaml and the directives, or is
of another type. Checking files one by one, a reference may also name an instance that
another config of the checkout defines (a run combines several configs); `policy_model`
is the model config chosen at run time and is always accepted. In a `--config` run the
instance must be part of the run. Reported at the name, with a did-you-mean.

Failing:

    my_agent:
      responses_api_agents:
        simple_agent:
          entrypoint: app.py
          resources_server:
            type: resources_servers
            name: math_with_judg
          model_server:
            type: responses_api_models
            name: policy_model
    math_with_judge:
      resources_servers:
        math_with_judge:
          entrypoint: app.py
          domain: math

Failing:

    my_agent:
      responses_api_agents:
        simple_agent:
          entrypoint: app.py
          resources_server:
            type: resources_servers
            name: judge_model
    judge_model:
      responses_api_models:
        vllm_model:
          entrypoint: app.py

Passing:

    my_agent:
      responses_api_agents:
        simple_agent:
          entrypoint: app.py
          resources_server:
            type: resources_servers
            name: math_with_judge
          model_server:
            type: responses_api_models
            name: policy_model
    math_with_judge:
      resources_servers:
        math_with_judge:
          entrypoint: app.py
          domain: math
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from gym_scaffold.checkout import names_of_type
from gym_scaffold.config.loader import DataPath
from gym_scaffold.config.model import SERVER_TYPES, ConfigView
from gym_scaffold.problem import Problem, Severity, shorten

ID = "server-reference"
SEVERITY = "error"
SUMMARY = "a {type, name} reference to an instance that does not exist or has another type"
RUN_DEPENDENT = True  # a run reports references to instances that are not in the run

RUN_SUPPLIED = "policy_model"  # the model config a run adds; references to it are fine
_KIND = {
    "responses_api_models": "a model server",
    "resources_servers": "a resources server",
    "responses_api_agents": "an agent",
}


def references(data: Any, path: DataPath) -> Iterator[tuple[DataPath, str, str]]:
    """(path of the mapping, type, name) of every reference below `data`."""
    if isinstance(data, dict):
        kind, name = data.get("type"), data.get("name")
        if kind in SERVER_TYPES and isinstance(name, str) and set(data) <= {"type", "name"}:
            yield path, kind, name
            return
        for key, value in data.items():
            yield from references(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from references(value, path + (index,))


def _local_instances(data: Any) -> dict[str, frozenset[str] | None]:
    """Instances of the merged config: name -> types (None: built by a directive whose
    source was not merged in, so its type is unknown)."""
    found: dict[str, frozenset[str] | None] = {}
    if not isinstance(data, dict):
        return found
    for name, value in data.items():
        if not isinstance(value, dict):
            continue
        types = frozenset(k for k in value if k in SERVER_TYPES)
        if types:
            found[str(name)] = types
        elif "_inherit_from" in value or "_copy" in value:
            found[str(name)] = None
    return found


def _include_gap(view: ConfigView) -> bool:
    """Whether an include of the view was not found or is empty: the instance may be there."""
    if any(problem.rule == "config-include" for problem in view.composed.problems):
        return True
    return any(doc.data is None for doc in view.composed.documents[1:])


def check(view: ConfigView) -> Iterator[Problem]:
    data = view.resolved.data
    if not isinstance(data, dict):
        return
    local = _local_instances(data)
    for server in view.servers():
        for path, kind, name in references(server.body, server.path):
            name_path = path + ("name",)
            if view.is_deferred(name_path) or view.is_deferred(path) or "${" in name:
                continue
            if name in local:
                types = local[name]
            elif not view.run_mode and name == RUN_SUPPLIED:
                continue
            elif not view.run_mode and view.checkout is not None:
                types = view.checkout.get(name)
                types = _MISSING if types is None else types
            else:
                types = _MISSING
            if types is None or (types is not _MISSING and kind in types):
                continue
            if types is _MISSING:
                if not view.run_mode and _include_gap(view):
                    continue
                yield from _missing(view, name_path, kind, name, local)
            else:
                shown = " and ".join(sorted(_KIND[t] for t in types))
                yield view.problem(
                    name_path,
                    ID,
                    f"'{shorten(name)}' is {shown} ({', '.join(sorted(types))}), not {_KIND[kind]} ({kind})",
                    hint=f"set type: {sorted(types)[0]}, or name an instance of type {kind}",
                )


class _Missing:
    pass


_MISSING: Any = _Missing()


def _missing(
    view: ConfigView, path: DataPath, kind: str, name: str, local: dict
) -> Iterator[Problem]:
    candidates = {n for n, t in local.items() if t is None or kind in t}
    if view.checkout is not None and not view.run_mode:
        candidates.update(names_of_type(view.checkout, kind))
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    where = "in this run" if view.run_mode else (
        "in this file, its config_paths or the checkout" if view.checkout is not None else "in this file or its config_paths"
    )
    hint = f"did you mean '{shorten(close[0])}'?" if close else f"define an instance '{shorten(name)}' of type {kind}, or fix the name"
    message = f"{_KIND[kind]} '{shorten(name)}' ({kind}) is not defined {where}"
    unknown = getattr(view.checkout, "unknown_files", ()) if not view.run_mode else ()
    if unknown:
        # Some config files of the checkout are empty (a partial copy): one may define it.
        message += f", unless one of the {len(unknown)} empty config files of the checkout does"
        yield view.problem(path, ID, message, severity=Severity.WARNING, hint=hint)
        return
    yield view.problem(path, ID, message, hint=hint)
