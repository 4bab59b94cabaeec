"""Where a value of a composed config came from: the line a person changes to change it.

    config.yaml:5                                   written there
    env.yaml:2 via ${policy_api_key}                an interpolation, followed to its source
    $OPENAI_API_KEY via oc.env                      an environment variable
    base.yaml:4 via _inherit_from: base_model       taken from a directive's source

`show --show-origin` prints these; `doctor` words the same chain for a fix
("policy_api_key in env.yaml:2 (read by ... in config.yaml:5)"). Only plain references
(`${a.b}`, `${.sibling}`) and `${oc.env:VAR}` are followed; a value built from text and
several interpolations stays at the line that writes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gym_scaffold.config.loader import DataPath
from gym_scaffold.config.model import Composed, Inherited, Origin

MAX_STEPS = 16  # references followed before stopping (a cycle is resolve's to report)

MISSING = object()


@dataclass(frozen=True)
class Step:
    """One link of the chain from a value to its source."""

    path: DataPath  # the value's place in the merged config
    origin: Origin | None  # where that value is written
    via: str | None = None  # how the value goes on: "${policy_api_key}", "oc.env", None at the source
    env_var: str | None = None  # the variable `${oc.env:...}` read (its value when set)
    env_set: bool = False
    inherited: Inherited | None = None  # the directive that brought this value here
    missing: bool = False  # a reference to a key the config does not have


@dataclass(frozen=True)
class Provenance:
    steps: tuple[Step, ...]  # from the value asked about to its source

    @property
    def source(self) -> Step:
        return self.steps[-1]

    def __str__(self) -> str:
        source = self.source
        if source.env_var is not None and source.env_set:
            text = f"${source.env_var} via oc.env"
        elif source.origin is None and source.missing:
            text = f"{dotted(source.path)} (defined nowhere)"
        else:
            text = _at(source.origin)
            if source.env_var is not None:
                text += f" (the default of ${{oc.env:{source.env_var},...}}: ${source.env_var} is not set)"
        for step in reversed(self.steps):
            if step.via is not None and step.via != "oc.env":
                text += f" via {step.via}"
            if step.inherited is not None:
                text += f" via {step.inherited.directive}: {step.inherited.target}"
        return text


def _at(origin: Origin | None) -> str:
    return f"{origin.path}:{origin.line}" if origin is not None else "(unknown)"


def value_at(data: Any, path: DataPath) -> Any:
    for key in path:
        if isinstance(data, dict) and key in data:
            data = data[key]
        elif isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
            data = data[key]
        else:
            return MISSING
    return data


def dotted(path: DataPath) -> str:
    from gym_scaffold.problem import shorten

    out = ""
    for key in path:
        text = shorten(key, 200)  # a key may be any YAML scalar, a 20,000-digit integer too
        out += f"[{text}]" if isinstance(key, int) and not isinstance(key, bool) else ("." if out else "") + text
    return out


def inherited_at(composed: Composed, path: DataPath) -> Inherited | None:
    """The innermost directive that brought the value at `path` from its source, if any."""
    covering = [r for r in composed.inherited if len(path) >= len(r.path) and path[: len(r.path)] == r.path]
    for record in sorted(covering, key=lambda r: len(r.path), reverse=True):
        rest = path[len(record.path) :]
        if not any(rest[:i] in record.own for i in range(len(rest) + 1)):
            return record
        # written by the body itself: an enclosing directive may still have brought the body
    return None


def _locate(data: Any, base: DataPath, keys: list[str]) -> DataPath | None:
    """base + keys with each key as the data spells it (list indexes, integer keys)."""
    path = base
    node = value_at(data, base)
    for key in keys:
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            step: Any = int(key)
        elif isinstance(node, dict) and key in node:
            step = key
        elif isinstance(node, dict) and key.lstrip("-").isdigit() and int(key) in node:
            step = int(key)
        else:
            return None
        path += (step,)
        node = node[step]
    return path


def _reference(raw: str, path: DataPath) -> tuple[str, Any] | None:
    """("ref", target path) for `${a.b}` / `${.x}`, ("env", (VAR, has_default)) for
    `${oc.env:VAR[,default]}`, None for anything else."""
    from gym_scaffold.config.grammar import Call, GrammarError, Node, Prim, parse

    try:
        tree = parse(raw)
    except GrammarError:
        return None
    if len(tree.parts) != 1:
        return None
    part = tree.parts[0]
    if isinstance(part, Node) and all(isinstance(k, str) for k in part.keys):
        if part.dots > len(path):
            return None
        base = path[: len(path) - part.dots] if part.dots else ()
        return "ref", (base, list(part.keys), part.source)
    if isinstance(part, Call) and part.name == ["oc", "env"] and 1 <= len(part.args) <= 2:
        first = part.args[0]
        if isinstance(first, Prim) and len(first.parts) == 1 and isinstance(first.parts[0], tuple):
            return "env", (first.parts[0][1], len(part.args) == 2)
    return None


def provenance(composed: Composed, path: DataPath, environ: Mapping[str, str]) -> Provenance:
    """The chain from the value at `path` of `composed` to where it was written."""
    steps: list[Step] = []
    seen: set[DataPath] = set()
    while len(steps) < MAX_STEPS and path not in seen:
        seen.add(path)
        origin = composed.origins.get(path)
        inherited = inherited_at(composed, path) if composed.inherited else None
        raw = value_at(composed.data, path)
        found = _reference(raw, path) if isinstance(raw, str) and "${" in raw else None
        if found is None:
            steps.append(Step(path, origin, inherited=inherited))
            break
        kind, target = found
        if kind == "env":
            var, _ = target
            steps.append(Step(path, origin, via="oc.env", env_var=var, env_set=var in environ, inherited=inherited))
            break
        base, keys, written = target
        steps.append(Step(path, origin, via=written, inherited=inherited))
        located = _locate(composed.data, base, keys)
        if located is None:
            steps.append(Step(base + tuple(keys), None, missing=True))  # defined nowhere: resolve reports it
            break
        path = located
    return Provenance(tuple(steps))
