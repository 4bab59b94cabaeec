"""Build a ConfigView from YAML text: for tests, rule examples and tools that hold text.

    view_from_text("policy_model: ...")               a config file named config.yaml
    view_from_text(text, "env.yaml")                 env.yaml checked on its own
    view_from_text(text, env_text="policy_api_key: x")  a config with an env.yaml beside it

It runs the real pipeline (load -> compose -> resolve) on an in-memory document;
`config_paths` resolve against `roots` as they would on disk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from gym_scaffold.config.compose import compose
from gym_scaffold.config.loader import Document, load_text
from gym_scaffold.config.model import ConfigView, EnvFile
from gym_scaffold.config.resolve import resolve

ENV_NAME = "env.yaml"


def view_from_text(
    text: str,
    path: str = "config.yaml",
    *,
    env_text: str | None = None,
    roots: Sequence[Path] = (),
    environ: Mapping[str, str] | None = None,
) -> ConfigView:
    """A ConfigView of `text` as the file `path` (env.yaml when its name is env.yaml)."""
    environ = {} if environ is None else environ
    file = Path(path)
    document = load_text(text, path)
    cache: dict[Path, Document] = {}
    display = {file: path}
    if file.name == ENV_NAME:
        env = EnvFile(file, document)
        composed = compose(
            [], roots=list(roots), env=env, display=lambda p: display.get(p, str(p)), cache=cache
        )
        return ConfigView(
            composed=composed, resolved=resolve(composed, environ), reported_files=frozenset({path})
        )
    env = None
    if env_text is not None:
        env_path = file.parent / ENV_NAME
        env = EnvFile(env_path, load_text(env_text, str(env_path)))
    cache[file] = document
    composed = compose(
        [file], roots=list(roots), env=env, display=lambda p: display.get(p, str(p)), cache=cache
    )
    return ConfigView(
        composed=composed, resolved=resolve(composed, environ), reported_files=frozenset({path})
    )
