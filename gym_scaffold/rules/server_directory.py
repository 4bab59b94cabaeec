"""An implementation without its directory, its requirements file or its entrypoint.

NeMo Gym starts a server from `<server_type>/<implementation>/`: the directory must exist,
hold exactly one of requirements.txt / pyproject.toml (its virtual environment is built
from it), and `entrypoint` names a file inside it. A wrong implementation name (the
config's file name, a sibling's name) passes every other check and fails only when the
server is started. Checked when the NeMo Gym root is known (a checkout, not text on its
own); reported at the implementation name or at the entrypoint.

Failing:

    arxiv_tool:
      resources_servers:
        ns_tools_arxiv:
          entrypoint: app.py
          domain: agent

Passing:

    arxiv_tool:
      resources_servers:
        ns_tools:
          entrypoint: app.py
          domain: agent
    # file: resources_servers/ns_tools/requirements.txt
    -e nemo-gym[dev] @ ../../
    # file: resources_servers/ns_tools/app.py
    print("a server")
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from pathlib import Path

from gym_scaffold.config.model import ConfigView
from gym_scaffold.problem import Problem, shorten

ID = "server-directory"
SEVERITY = "error"
SUMMARY = "<server_type>/<implementation>/ missing, without one requirements file, or without its entrypoint"

REQUIREMENTS = ("requirements.txt", "pyproject.toml")


def _close_implementations(view: ConfigView, server_type: str, implementation: str) -> list[str]:
    """The implementation directory nearest `implementation`."""
    names = view.listing(os.path.join(str(view.root), server_type)).directories
    return difflib.get_close_matches(implementation, names, n=1, cutoff=0.6)


def _home(view: ConfigView, path: tuple, server_type: str) -> str | None:
    """The implementation directory the block is written in (`<type>/<impl>/configs/x.yaml`)."""
    origin = view.origin(path, of_key=True)
    if origin is None:
        return None
    parts = Path(origin.path).parts
    for index in range(len(parts) - 2):
        if parts[index] == server_type:
            return parts[index + 1]
    return None


def _facts(view: ConfigView, folder: str, entrypoint: str | None) -> tuple[bool, list[str], bool]:
    """(the directory exists, the requirements files in it, the entrypoint is a file in it)."""
    is_dir = view.is_dir(folder)
    present = [name for name in REQUIREMENTS if is_dir and view.is_file(os.path.join(folder, name))]
    entry_found = bool(is_dir and entrypoint and view.is_file(os.path.join(folder, entrypoint)))
    return is_dir, present, entry_found


def check(view: ConfigView) -> Iterator[Problem]:
    root = view.root
    if root is None:
        return
    base = str(root)
    for server in view.servers():
        # String paths: this runs for every server of a checkout, and pathlib's joins cost more than the stat.
        folder_name = os.path.join(base, server.server_type, server.implementation)
        entrypoint = server.body.get("entrypoint")
        entry_path = server.path + ("entrypoint",)
        checkable = isinstance(entrypoint, str) and entrypoint and not view.is_deferred(entry_path)
        is_dir, present, entry_found = _facts(view, folder_name, entrypoint if checkable else None)
        if not is_dir:
            implementation = shorten(server.implementation)
            home = _home(view, server.path, server.server_type)
            if home is not None and view.is_dir(os.path.join(base, server.server_type, home)):
                hint = f"did you mean '{shorten(home)}'? (this file is in {server.server_type}/{shorten(home)}/)"
            elif close := _close_implementations(view, server.server_type, server.implementation):
                hint = f"did you mean '{shorten(close[0])}'?"
            else:
                hint = f"the implementation name is a directory under {server.server_type}/"
            yield view.problem(
                server.path,
                ID,
                f"implementation '{implementation}' has no directory {server.server_type}/{implementation}/",
                hint=hint,
                of_key=True,
            )
            continue
        if len(present) != 1:
            message = (
                f"{server.server_type}/{shorten(server.implementation)}/ has neither requirements.txt nor pyproject.toml"
                if not present
                else f"{server.server_type}/{shorten(server.implementation)}/ has both requirements.txt and pyproject.toml"
            )
            yield view.problem(
                server.path,
                ID,
                message,
                hint="NeMo Gym builds the server's environment from exactly one of them",
                of_key=True,
            )
        if checkable and not entry_found:
            files = [name for name in view.listing(folder_name).files if name.endswith(".py")]
            close = difflib.get_close_matches(entrypoint, files, n=1, cutoff=0.6)
            yield view.problem(
                entry_path,
                ID,
                f"entrypoint '{shorten(entrypoint)}' is not a file in {server.server_type}/{shorten(server.implementation)}/",
                hint=f"did you mean '{shorten(close[0])}'?" if close else "entrypoint is relative to the implementation directory",
            )
