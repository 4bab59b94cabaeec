"""Two servers of one run on the same explicit port, or a server on the head server's port.

NeMo Gym gives every server without a `port` a free one; an explicit `port` is taken as
written, so two instances with the same port, or one on the head server's port (11000,
or `head_server.port`), fail to bind when the run starts. Checked among the instances of
one file with its includes, and of a `--config` run. Reported at the later port.

Failing:

    policy_model:
      responses_api_models:
        vllm_model:
          entrypoint: app.py
          port: 8001
    judge_model:
      responses_api_models:
        vllm_model:
          entrypoint: app.py
          port: 8001

Failing:

    my_agent:
      responses_api_agents:
        simple_agent:
          entrypoint: app.py
          port: 11000

Passing:

    policy_model:
      responses_api_models:
        vllm_model:
          entrypoint: app.py
          port: 8001
    judge_model:
      responses_api_models:
        vllm_model:
          entrypoint: app.py
          port: 8002
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gym_scaffold.config.model import ConfigView
from gym_scaffold.problem import Problem, shorten

ID = "server-port"
SEVERITY = "error"
SUMMARY = "the same explicit port for two servers of one run, or the head server's port"

HEAD_SERVER_PORT = 11000


def _port(value: Any) -> int | None:
    """An explicit port as pydantic reads it (lax: "8000" too), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = value.strip() if isinstance(value, str) else ""
    # A port has at most 5 digits; longer text is not one (and int() refuses > 4,300 digits).
    if text.isdigit() and len(text) <= 6:
        return int(text)
    return None


def check(view: ConfigView) -> Iterator[Problem]:
    data = view.resolved.data
    if not isinstance(data, dict):
        return
    head = data.get("head_server")
    head_port = _port(head.get("port")) if isinstance(head, dict) else None
    head_port = HEAD_SERVER_PORT if head_port is None else head_port
    taken: dict[int, str] = {}
    for server in view.servers():
        path = server.path + ("port",)
        port = _port(server.body.get("port"))
        if port is None or view.is_deferred(path):
            continue
        if port == head_port:
            yield view.problem(
                path,
                ID,
                f"port {shorten(port)} of '{shorten(server.instance)}' is the head server's port",
                hint="leave port out (NeMo Gym picks a free one) or choose another",
            )
            continue
        first = taken.get(port)
        if first is None:
            taken[port] = server.instance
            continue
        origin = view.origin(_first_path(data, first))
        where = f" ({origin.path}:{origin.line})" if origin is not None else ""
        yield view.problem(
            path,
            ID,
            f"port {shorten(port)} of '{shorten(server.instance)}' is also the port of '{shorten(first)}'{where}",
            hint="two servers of one run cannot share a port: leave port out (NeMo Gym picks a free one) or choose another",
        )


def _first_path(data: dict, instance: str) -> tuple:
    value = data.get(instance)
    for server_type, impls in value.items() if isinstance(value, dict) else ():
        if isinstance(impls, dict):
            for impl in impls:
                return (instance, server_type, impl, "port")
    return (instance,)
