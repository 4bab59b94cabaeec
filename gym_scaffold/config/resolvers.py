"""The resolvers an interpolation may call, as OmegaConf 2.3 and NeMo Gym define them.

Each is `function(walk, call, name, args, path, unresolved)`: `walk` is the resolving
walk of config/resolve.py (for references, environment variables and nested elements),
`args` the call's arguments already evaluated. A resolver raises `Defer` when its value
arrives later (an unset variable, a `???`) and `Fail` where OmegaConf would raise.
NeMo Gym's `inherit_from` and `copy` give their own text back: config/compose.py acts on them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gym_scaffold.config.grammar import VALUE, Call, GrammarError, Parser, lex
from gym_scaffold.config.model import Unresolved


class Defer(Exception):
    """The value cannot be known yet (a key, a `???`, an env var arrives later)."""


class Fail(Exception):
    """OmegaConf would raise here: a Problem at the value being resolved."""


class Cycle(Fail):
    """A reference to a container that holds the referring value."""


NOTHING = object()  # "no such key", where None is a value

_KEY_PART = re.compile(r"\[([^\]]*)\]|([^.\[]+)")


def split_key(key: str) -> list[str]:
    """OmegaConf's `a.b[0].c` key split."""
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in _KEY_PART.finditer(key)]


def dotted(path: tuple) -> str:
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += ("." if out else "") + str(key)
    return out or "<top>"


def _env(walk: Any, item: Call, name: str, args: list, path: tuple, unresolved: list) -> Any:
    if not 1 <= len(args) <= 2:
        raise Fail(f"{item.source}: oc.env takes a variable name and an optional default")
    var = str(args[0])
    value = walk.getenv(var)
    if value is not None:
        return value
    if len(args) == 2:
        default = args[1]
        if isinstance(default, (dict, list)):  # OmegaConf's str() of a container shows it as written
            default = walk.as_written(item.args[1], path, unresolved, default)
        return None if default is None else str(default)
    unresolved.append(Unresolved(path, item.source, var, "env"))
    raise Defer()


def _select(walk: Any, item: Call, name: str, args: list, path: tuple, unresolved: list) -> Any:
    if not 1 <= len(args) <= 2:
        raise Fail(f"{item.source}: oc.select takes a key and an optional default")
    key = str(args[0])
    default = args[1] if len(args) == 2 else None
    dots = len(key) - len(key.lstrip("."))
    keys = split_key(key[dots:])
    if dots:
        if dots > len(path):
            raise Fail(f"{item.source} goes up {dots} levels from '{dotted(path)}', above the top")
        base = path[: len(path) - dots]
    else:
        base = ()
    if not keys:
        return default
    try:
        value = walk.select(base, keys, None, key, path, unresolved, missing_ok=True)
    except Cycle:
        raise
    except Fail:  # OmegaConf's select gives the default for a path through a scalar
        return default
    return default if value is NOTHING else value


def _decode(walk: Any, item: Call, name: str, args: list, path: tuple, unresolved: list) -> Any:
    if len(args) != 1:
        raise Fail(f"{item.source}: oc.decode takes one argument")
    value = args[0]
    if value is None or not isinstance(value, str):
        return value
    try:
        parser = Parser(value, lex(value, VALUE))
        element = parser.element()
        if parser.peek() is not None:
            raise parser.fail("unexpected text")
    except GrammarError as exc:
        raise Fail(f"{item.source}: cannot decode {value!r}: {exc}") from None
    return walk.element(element, path, unresolved)


def _create(walk: Any, item: Call, name: str, args: list, path: tuple, unresolved: list) -> Any:
    if len(args) != 1:
        raise Fail(f"{item.source}: oc.create takes one argument")
    return args[0]


def _deprecated(walk: Any, item: Call, name: str, args: list, path: tuple, unresolved: list) -> Any:
    if not args:
        raise Fail(f"{item.source}: oc.deprecated needs a key")
    return walk.select((), split_key(str(args[0])), None, str(args[0]), path, unresolved)


def _dict_part(walk: Any, item: Call, name: str, args: list, path: tuple, unresolved: list) -> Any:
    if len(args) != 1:
        raise Fail(f"{item.source}: {name} takes one argument")
    target = args[0]
    if isinstance(target, str):
        target = walk.select((), split_key(target), None, target, path, unresolved)
    if not isinstance(target, dict):
        raise Fail(f"{item.source}: {name} needs a mapping, got {target!r}")
    return list(target.keys() if name == "oc.dict.keys" else target.values())


Resolver = Callable[[Any, Call, str, list, tuple, list], Any]

RESOLVERS: dict[str, Resolver] = {
    "oc.env": _env,
    "oc.select": _select,
    "oc.decode": _decode,
    "oc.create": _create,
    "oc.deprecated": _deprecated,
    "oc.dict.keys": _dict_part,
    "oc.dict.values": _dict_part,
}
