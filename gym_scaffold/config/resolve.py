"""Interpolation the way OmegaConf 2.3 (NeMo Gym's) resolves it, without importing it.

A string is an interpolation when it contains `${`. It is parsed with OmegaConf's grammar
(config/grammar.py) and evaluated here, against the composed config, env.yaml values
included; the resolvers it may call are a table in config/resolvers.py:

- `${a.b}`, `${a[0]}`, `${.sibling}`, `${..uncle}`: node references; a value that is exactly
  one interpolation takes the target's value and type, inside text it becomes `str(value)`.
- `${oc.env:VAR}`, `${oc.env:VAR,default}`: the variable from `environ` (a string); the
  default is `str()`-ed unless it is `null`. Arguments are evaluated first, as OmegaConf does.
- `${oc.select:key,default}`: the key's value, or the default when the key is absent or `???`.
- `${oc.decode:...}`, `${oc.create:...}`, `${oc.deprecated:...}`, `${oc.dict.keys:...}`,
  `${oc.dict.values:...}`, and NeMo Gym's `inherit_from` / `copy` (which return their text).
- `\\${` escapes an interpolation.

What cannot be known yet is *deferred*: the value keeps its text, its path goes into
`Resolved.deferred`, and each reference that failed directly is an `Unresolved`:
kind "key" (no such key), "missing" (the key holds `???`), "env" (the variable is not set
and there is no default; `key` is the variable's name). A value that only depends on
another deferred value is deferred without an Unresolved of its own. `???` values are
deferred too. Broken syntax, reference cycles, unknown resolvers and references through
a scalar are Problems (rule `interpolation`); values depending on them stay as written.
Work is bounded: chain depth, nesting depth, result sizes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gym_scaffold.config.grammar import (
    Call,
    DictC,
    GrammarError,
    ListC,
    Node,
    Prim,
    Quoted,
    Text,
    parse,
    primitive,
)
from gym_scaffold.config.loader import DataPath
from gym_scaffold.config.model import MANDATORY, Composed, Origin, Resolved, Unresolved
from gym_scaffold.config.resolvers import NOTHING, RESOLVERS, Cycle, Defer, Fail, dotted
from gym_scaffold.problem import Problem, Severity
from gym_scaffold.rules import interpolation

RULE = interpolation.ID

MAX_CHAIN = 64  # references followed from one value before giving up
MAX_RESULT_CHARS = 1_000_000  # one resolved string
MAX_WORK = 2_000_000  # characters and nodes produced in one resolve() call


class _Broken(Exception):
    """A value this one depends on has a Problem already."""


class _Resolver:
    def __init__(self, composed: Composed, environ: Mapping[str, str], out: Resolved) -> None:
        self.raw = composed.data
        self.composed = composed
        self._environ = environ  # read only through getenv, which records the name
        self.out = out
        self.done: dict[DataPath, tuple[str, Any]] = {}
        self.active: list[DataPath] = []
        self.active_set: set[DataPath] = set()
        self.work = 0
        self.reported: set[DataPath] = set()
        self.container_source: DataPath | None = None
        # ids of the containers with no interpolation and no ??? anywhere inside: they
        # resolve to themselves (most of a config), shared rather than copied.
        self.literal: set[int] = set()
        _mark_literal(self.raw, self.literal)

    def getenv(self, name: str) -> str | None:
        """An environment variable's value; every name asked for is recorded in the
        result (Resolved.environ_read): the outcome depends on it, set or not."""
        self.out.environ_read.add(name)
        return self._environ.get(name)

    # -- problems --------------------------------------------------------------------

    def origin(self, path: DataPath) -> Origin | None:
        table = self.composed.origins
        p = path
        while True:
            if p in table:
                return table[p]
            if not p:
                return None
            p = p[:-1]

    def problem(self, path: DataPath, message: str, hint: str | None = None) -> None:
        if path in self.reported:
            return
        self.reported.add(path)
        origin = self.origin(path)
        if origin is None:
            fallback = self.composed.documents[0].path if self.composed.documents else ""
            self.out.problems.append(Problem(fallback, 0, 0, Severity.ERROR, RULE, message, hint))
        else:
            self.out.problems.append(
                Problem(origin.path, origin.line, origin.column, Severity.ERROR, RULE, message, hint)
            )

    def spend(self, amount: int) -> None:
        self.work += amount
        if self.work > MAX_WORK:
            raise Fail(f"interpolations expand to more than {MAX_WORK} characters and values")

    # -- raw tree --------------------------------------------------------------------

    def raw_at(self, path: DataPath) -> Any:
        node = self.raw
        for key in path:
            if isinstance(node, dict):
                node = node[key]
            else:
                node = node[key]
        return node

    # -- values ----------------------------------------------------------------------

    def value_at(self, path: DataPath, raw: Any = NOTHING) -> Any:
        """The resolved value at `path` or an exception (Defer, _Broken)."""
        state = self.done.get(path)
        if state is not None:
            kind, value = state
            if kind == "ok":
                return value
            raise (Defer() if kind == "defer" else _Broken())
        if raw is NOTHING:
            raw = self.raw_at(path)
        if id(raw) in self.literal:
            self.done[path] = ("ok", raw)
            return raw
        if isinstance(raw, dict):
            result: Any = {}
            failed = None
            for k, v in raw.items():
                try:
                    result[k] = self.value_at(path + (k,), v)
                except (Defer, _Broken) as exc:
                    result[k] = self.display_value(path + (k,), v)
                    failed = failed or exc
            self.done[path] = ("ok", result)  # a container is there even if parts are deferred
            return result
        if isinstance(raw, list):
            result = []
            for i, v in enumerate(raw):
                try:
                    result.append(self.value_at(path + (i,), v))
                except (Defer, _Broken):
                    result.append(self.display_value(path + (i,), v))
            self.done[path] = ("ok", result)
            return result
        if isinstance(raw, str):
            if raw == MANDATORY:
                self.out.deferred.add(path)
                self.done[path] = ("defer", None)
                raise Defer()
            if "${" in raw:
                return self.interpolate(path, raw)
        self.done[path] = ("ok", raw)
        return raw

    def display_value(self, path: DataPath, raw: Any) -> Any:
        """What stands in the resolved data for a deferred or broken value."""
        state = self.done.get(path)
        if state is not None and state[0] == "ok":
            return state[1]
        return raw

    def interpolate(self, path: DataPath, raw: str) -> Any:
        if path in self.active_set:
            cycle = self.active[self.active.index(path) :] + [path]
            shown = " -> ".join(dotted(p) for p in cycle)
            for p in set(cycle):
                self.problem(p, f"interpolation cycle: {shown}", "one of these values must not refer back")
                self.done[p] = ("broken", None)
            raise _Broken()
        if len(self.active) >= MAX_CHAIN:
            self.problem(path, f"interpolation chain longer than {MAX_CHAIN} references")
            self.done[path] = ("broken", None)
            raise _Broken()
        try:
            tree = parse(raw)
        except GrammarError as exc:
            self.problem(path, f"malformed interpolation {_excerpt(raw)}: {exc} at character {exc.offset + 1}",
                         r"write ${key}, ${a.b}, ${oc.env:VAR,default}; a literal ${ is written \${")
            self.done[path] = ("broken", None)
            raise _Broken() from None
        self.active.append(path)
        self.active_set.add(path)
        unresolved: list[Unresolved] = []
        try:
            value = self.text(tree, path, unresolved, top=True)
        except Fail as exc:
            self.problem(path, str(exc))
            self.done[path] = ("broken", None)
            raise _Broken() from None
        except _Broken:
            if self.done.get(path, ("",))[0] != "broken":
                self.done[path] = ("broken-dep", None)
            self.out.deferred.add(path)
            raise
        except Defer:
            self.out.deferred.add(path)
            self.out.unresolved.extend(unresolved)
            self.done[path] = ("defer", None)
            raise
        finally:
            self.active.pop()
            self.active_set.discard(path)
        self.done[path] = ("ok", value)
        return value

    # -- AST -------------------------------------------------------------------------

    def text(self, tree: Text, path: DataPath, unresolved: list, top: bool) -> Any:
        parts = tree.parts
        if len(parts) == 1 and not isinstance(parts[0], str):
            self.container_source = None
            value = self.inter(parts[0], path, unresolved)
            if top and isinstance(value, (dict, list)) and self.container_source is not None:
                self.mark_copied(self.container_source, path)  # the container is the value here
            return value
        out: list[str] = []
        pending: Exception | None = None
        size = 0
        for part in parts:
            if isinstance(part, str):
                s = part
            else:
                try:
                    if isinstance(part, Node):  # str() of a container shows it as written
                        s = str(self.node(part, path, unresolved, raw_containers=True))
                    else:
                        s = str(self.inter(part, path, unresolved))
                except Defer as exc:  # keep going: report every unresolved key of the value
                    pending = pending or exc
                    continue
            size += len(s)
            if size > MAX_RESULT_CHARS:
                raise Fail(f"interpolation result longer than {MAX_RESULT_CHARS} characters")
            out.append(s)
        if pending is not None:
            raise pending
        self.spend(size)
        return "".join(out)

    def inter(self, item: Any, path: DataPath, unresolved: list) -> Any:
        if isinstance(item, Node):
            return self.node(item, path, unresolved)
        return self.call(item, path, unresolved)

    def key_text(self, key: Any, path: DataPath, unresolved: list) -> str:
        if isinstance(key, str):
            return key
        value = self.inter(key, path, unresolved)
        if not isinstance(value, str):
            raise Fail(f"{key.source} is used as a key and must give a string, not {value!r}")
        return value

    def node(self, item: Node, path: DataPath, unresolved: list, raw_containers: bool = False) -> Any:
        keys = [self.key_text(k, path, unresolved) for k in item.keys]
        if all(isinstance(k, str) for k in item.keys):
            written = item.source[2:-1].strip()  # as written: a.b[0], .sibling
        else:
            written = "." * item.dots + ".".join(keys)
        if item.dots:
            up = item.dots
            if up > len(path):
                raise Fail(f"{item.source} goes up {up} levels from '{dotted(path)}', above the top of the config")
            base = path[: len(path) - up]
        else:
            base = ()
        return self.select(base, keys, item, written, path, unresolved, raw_containers=raw_containers)

    def select(self, base: DataPath, keys: list[str], item: Any, written: str, path: DataPath,
               unresolved: list, missing_ok: bool = False, raw_containers: bool = False) -> Any:
        """The value at base + keys; with missing_ok, NOTHING for an absent key or `???`."""
        source = item.source if item is not None else written
        current_path: DataPath | None = base
        current: Any = self.raw_at(base) if base else self.raw
        for n, key in enumerate(keys):
            if current_path is not None and n > 0:
                # a step through a value that is itself an interpolation: follow it
                if isinstance(current, str) and "${" in current:
                    current = self.value_at(current_path, current)
                    current_path = None
            if isinstance(current, str) and current == MANDATORY:
                if missing_ok:
                    return NOTHING
                unresolved.append(Unresolved(path, source, written, "missing"))
                raise Defer()
            if isinstance(current, dict):
                if key not in current:
                    if missing_ok:
                        return NOTHING
                    unresolved.append(Unresolved(path, source, written, "key"))
                    raise Defer()
                current = current[key]
                current_path = current_path + (key,) if current_path is not None else None
            elif isinstance(current, list):
                try:
                    index = int(key)
                    current = current[index]
                except (ValueError, IndexError):
                    if missing_ok:
                        return NOTHING
                    unresolved.append(Unresolved(path, source, written, "key"))
                    raise Defer() from None
                current_path = current_path + (index,) if current_path is not None else None
            else:
                walked = ".".join(keys[:n]) or "the config"
                raise Fail(f"{source}: '{walked}' is {current!r}, not a mapping that could hold '{key}'")
        if isinstance(current, str) and current == MANDATORY:
            if missing_ok:
                return NOTHING
            unresolved.append(Unresolved(path, source, written, "missing"))
            raise Defer()
        if isinstance(current, (dict, list)) and current_path is not None and path[: len(current_path)] == current_path:
            raise Cycle(f"interpolation cycle: {source} refers to '{dotted(current_path)}', which contains it")
        if raw_containers and isinstance(current, (dict, list)):
            return current
        if raw_containers and current_path is not None and isinstance(current, str) and "${" in current:
            # str() of a referenced container shows it unresolved: follow a plain `${x}`
            # chain to the container without resolving what is inside it
            try:
                tree = parse(current)
            except GrammarError:
                tree = None
            if (
                tree is not None
                and len(tree.parts) == 1
                and isinstance(tree.parts[0], Node)
                and current_path not in self.active_set
                and len(self.active) < MAX_CHAIN
            ):
                self.active.append(current_path)
                self.active_set.add(current_path)
                try:
                    target = self.node(tree.parts[0], current_path, [], raw_containers=True)
                except Defer:
                    target = NOTHING
                finally:
                    self.active.pop()
                    self.active_set.discard(current_path)
                if isinstance(target, (dict, list)):
                    return target
        if current_path is not None:
            value = self.value_at(current_path, current)
            if isinstance(value, (dict, list)) and not raw_containers:
                self.container_source = current_path
                return self.deep_copy(value)
            return value
        return current

    def mark_copied(self, source: DataPath, target: DataPath) -> None:
        """A container copied from `source` to `target`: its deferred parts are deferred there too."""
        n = len(source)
        for d in [d for d in self.out.deferred if len(d) > n and d[:n] == source]:
            self.out.deferred.add(target + d[n:])

    def deep_copy(self, value: Any) -> Any:
        self.spend(1)
        if isinstance(value, dict):
            return {k: self.deep_copy(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.deep_copy(v) for v in value]
        return value

    def element(self, el: Any, path: DataPath, unresolved: list) -> Any:
        if isinstance(el, Prim):
            return primitive(el.parts, lambda p: self.inter(p, path, unresolved))
        if isinstance(el, Quoted):
            value = self.text(el.text, path, unresolved, top=False)
            return str(value)
        if isinstance(el, ListC):
            return self.args(el.items, path, unresolved)
        if isinstance(el, DictC):
            out = {}
            pending = None
            for key, item in el.items:
                try:
                    out[key] = self.element(item, path, unresolved)
                except Defer as exc:
                    pending = pending or exc
            if pending is not None:
                raise pending
            return out
        raise AssertionError(el)

    def as_written(self, el: Any, path: DataPath, unresolved: list, value: Any) -> Any:
        """The container an argument `${...}` names, unresolved; else `value`."""
        if isinstance(el, Prim) and len(el.parts) == 1 and isinstance(el.parts[0], Node):
            return self.node(el.parts[0], path, unresolved, raw_containers=True)
        return value

    def args(self, items: list, path: DataPath, unresolved: list) -> list:
        out = []
        pending = None
        for item in items:
            try:
                out.append(self.element(item, path, unresolved))
            except Defer as exc:
                pending = pending or exc
        if pending is not None:
            raise pending
        return out

    def call(self, item: Call, path: DataPath, unresolved: list) -> Any:
        name = ".".join(self.key_text(k, path, unresolved) for k in item.name)
        if name in ("inherit_from", "copy"):
            return item.source  # NeMo Gym's resolvers give their own text back
        args = self.args(item.args, path, unresolved)  # first, as OmegaConf does
        resolver = RESOLVERS.get(name)
        if resolver is None:
            raise Fail(f"unknown resolver '{name}' in {item.source}")
        return resolver(self, item, name, args, path, unresolved)


def _excerpt(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _mark_literal(value: Any, literal: set[int]) -> bool:
    """Whether `value` holds no interpolation and no ???; adds the ids of such containers."""
    if isinstance(value, str):
        return "${" not in value and value != MANDATORY
    if isinstance(value, dict):
        found = [_mark_literal(item, literal) for item in value.values()]
    elif isinstance(value, list):
        found = [_mark_literal(item, literal) for item in value]
    else:
        return True
    if all(found):
        literal.add(id(value))
        return True
    return False


def resolve(composed: Composed, environ: Mapping[str, str]) -> Resolved:
    """Substitute interpolations in `composed.data` (see the module doc for the rules)."""
    resolved = Resolved(data=None)
    resolver = _Resolver(composed, environ, resolved)
    try:
        data = resolver.value_at((), composed.data)
    except (Defer, _Broken):  # only when the whole config is one value
        data = composed.data
    except Fail as exc:
        resolver.problem((), str(exc))
        data = composed.data
    except RecursionError:
        resolver.problem((), "configuration too deeply nested to resolve")
        data = composed.data
    resolved.data = data
    return resolved
