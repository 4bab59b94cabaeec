"""Interpolation the way OmegaConf 2.3 (NeMo Gym's) resolves it, without importing it.

A string is an interpolation when it contains `${`. It is lexed with OmegaConf's grammar
(the same modes and tokens: top level, inside `${...}`, resolver arguments, quoted
strings) and evaluated against the composed config, env.yaml values included:

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

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from gym_scaffold.config.loader import DataPath
from gym_scaffold.config.model import MANDATORY, Composed, Origin, Resolved, Unresolved
from gym_scaffold.problem import Problem, Severity
from gym_scaffold.rules import interpolation

RULE = interpolation.ID

MAX_CHAIN = 64  # references followed from one value before giving up
MAX_NESTING = 32  # ${...} / [...] / {...} nesting inside one string
MAX_RESULT_CHARS = 1_000_000  # one resolved string
MAX_WORK = 2_000_000  # characters and nodes produced in one resolve() call

# --------------------------------------------------------------------------------------
# Lexer: OmegaConf's modes and tokens, longest match first, earlier rule on a tie.

_INT_U = r"(?:[1-9](?:_?[0-9])*|0)"
_DIGITS = r"[0-9](?:_?[0-9])*"
_POINT = rf"(?:{_INT_U}?\.{_DIGITS}|{_INT_U}\.)"
_EXP = rf"(?:(?:{_POINT}|{_INT_U})[eE][+-]?{_DIGITS})"
_ID = r"[a-zA-Z_][a-zA-Z0-9_\-]*"
_ESC_ANY = r"(?:\\\\|\\\(|\\\)|\\\[|\\\]|\\\{|\\\}|\\:|\\=|\\,|\\ |\\\t)+"

# token kinds
ANY, ESC_INTER, TOP_ESC, QUOTED_ESC, ESC = "ANY", "ESC_INTER", "TOP_ESC", "QUOTED_ESC", "ESC"
INTER_OPEN, INTER_CLOSE, BRACE_OPEN, BRACE_CLOSE = "${", "}$", "{", "}"
QUOTE_S, QUOTE_D, QUOTE_CLOSE = "'", '"', "QCLOSE"
COMMA, BRACKET_OPEN, BRACKET_CLOSE, COLON, DOT = ",", "[", "]", ":", "."
FLOAT, INT, BOOL, NULL, UNQUOTED, ID, WS, INTER_KEY = "FLOAT", "INT", "BOOL", "NULL", "UQ", "ID", "WS", "KEY"

DEFAULT, VALUE, INTERP, QSINGLE, QDOUBLE = range(5)

# (kind, regex, action); action: None, ("push", mode), "pop", ("mode", mode)
_MODES: dict[int, list[tuple[str, re.Pattern, Any]]] = {}


def _mode(mode: int, rules: list[tuple[str, str, Any]]) -> None:
    _MODES[mode] = [(kind, re.compile(rx, re.S), action) for kind, rx, action in rules]


_OPEN = r"\$\{[ \t]*"
_mode(
    DEFAULT,
    [
        (INTER_OPEN, _OPEN, ("push", INTERP)),
        (ANY, r"[^$]*[^\\$]", None),
        (ESC_INTER, r"(?:\\\\)*\\\$\{", None),
        (TOP_ESC, r"(?:\\\\)+", None),
        (ANY, r"\\+", None),
        (ANY, r"\$", None),
    ],
)
_mode(
    VALUE,
    [
        (INTER_OPEN, _OPEN, ("push", INTERP)),
        (BRACE_OPEN, r"\{[ \t]*", ("push", VALUE)),
        (BRACE_CLOSE, r"[ \t]*\}", "pop"),
        (QUOTE_S, r"'", ("push", QSINGLE)),
        (QUOTE_D, r'"', ("push", QDOUBLE)),
        (COMMA, r"[ \t]*,[ \t]*", None),
        (BRACKET_OPEN, r"\[[ \t]*", None),
        (BRACKET_CLOSE, r"[ \t]*\]", None),
        (COLON, r"[ \t]*:[ \t]*", None),
        (FLOAT, rf"[+-]?(?:{_EXP}|{_POINT}|[Ii][Nn][Ff]|[Nn][Aa][Nn])", None),
        (INT, rf"[+-]?{_INT_U}", None),
        (BOOL, r"[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]", None),
        (NULL, r"[Nn][Uu][Ll][Ll]", None),
        (UNQUOTED, r"[/\-\\+.$%*@?|]", None),
        (ID, _ID, None),
        (ESC, _ESC_ANY, None),
        (WS, r"[ \t]+", None),
    ],
)
_mode(
    INTERP,
    [
        (INTER_OPEN, _OPEN, ("push", INTERP)),
        (COLON, r"[ \t]*:[ \t]*", ("mode", VALUE)),
        (INTER_CLOSE, r"[ \t]*\}", "pop"),
        (DOT, r"\.", None),
        (BRACKET_OPEN, r"\[", None),
        (BRACKET_CLOSE, r"\]", None),
        (ID, _ID, None),
        (INTER_KEY, r"[^\\{}()\[\]:. \t'\"]+", None),
    ],
)
for _q, _m in (("'", QSINGLE), ('"', QDOUBLE)):
    _mode(
        _m,
        [
            (INTER_OPEN, _OPEN, ("push", INTERP)),
            (QUOTE_CLOSE, _q, "pop"),
            (ANY, rf"[^{_q}$]*[^{_q}\\$]", None),
            (ESC_INTER, r"(?:\\\\)*\\\$\{", None),
            (ESC, rf"(?:\\\\)*\\{_q}", None),
            (QUOTED_ESC, r"(?:\\\\)+", None),
            (ANY, r"\\+", None),
            (ANY, r"\$", None),
        ],
    )


class GrammarError(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class _Tok(NamedTuple):
    kind: str
    text: str
    start: int


def _lex(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    stack = [DEFAULT]
    pos, end = 0, len(text)
    while pos < end:
        best = None
        best_len = 0
        for kind, rx, action in _MODES[stack[-1]]:
            m = rx.match(text, pos)
            if m is not None and m.end() - pos > best_len:
                best, best_len = (kind, action), m.end() - pos
        if best is None:
            raise GrammarError(f"unexpected character {text[pos]!r}", pos)
        kind, action = best
        tokens.append(_Tok(kind, text[pos : pos + best_len], pos))
        pos += best_len
        if action is None:
            continue
        if action == "pop":
            if len(stack) > 1:
                stack.pop()
        elif action[0] == "push":
            stack.append(action[1])
            if len(stack) > MAX_NESTING + 1:
                raise GrammarError(f"nested deeper than {MAX_NESTING} levels", pos)
        else:
            stack[-1] = action[1]
    return tokens


# --------------------------------------------------------------------------------------
# AST


class Text(NamedTuple):
    """Top-level or quoted text: str pieces (already unescaped) and interpolations."""

    parts: list  # str | Node | Call


class Node(NamedTuple):
    """`${a.b[0]}`; keys are str or an interpolation that yields the key."""

    dots: int
    keys: list
    source: str


class Call(NamedTuple):
    name: list  # str | interpolation, joined with "."
    args: list  # elements
    source: str


class Prim(NamedTuple):
    """An unquoted primitive: typed value when `parts` is one token, else joined text."""

    parts: list  # (kind, text) tokens | Node | Call


class Quoted(NamedTuple):
    text: Text


class ListC(NamedTuple):
    items: list


class DictC(NamedTuple):
    items: list  # (key, element)


class _Parser:
    def __init__(self, text: str, tokens: list[_Tok]) -> None:
        self.text = text
        self.toks = tokens
        self.i = 0
        self.depth = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def kind(self) -> str | None:
        t = self.peek()
        return t.kind if t is not None else None

    def fail(self, message: str) -> GrammarError:
        t = self.peek()
        return GrammarError(message, t.start if t is not None else len(self.text))

    def take(self, kind: str) -> _Tok:
        t = self.peek()
        if t is None or t.kind != kind:
            raise self.fail(f"expected {kind!r}" if t is not None else "unexpected end of the string")
        self.i += 1
        return t

    def config_value(self) -> Text:
        text = self.text_parts(top=True)
        if self.peek() is not None:
            raise self.fail("unexpected text")
        return text

    def text_parts(self, top: bool) -> Text:
        """(interpolation | ANY | ESC | ESC_INTER | TOP_ESC | QUOTED_ESC)+ with OmegaConf's unescaping."""
        raw: list = []
        while True:
            k = self.kind()
            if k == INTER_OPEN:
                raw.append(self.interpolation())
            elif k in (ANY, ESC_INTER, TOP_ESC, QUOTED_ESC, ESC):
                raw.append(self.take(k))
            else:
                break
        parts: list = []
        for n, item in enumerate(raw):
            if not isinstance(item, _Tok):
                parts.append(item)
                continue
            nxt = raw[n + 1] if n + 1 < len(raw) else None
            s = item.text
            if item.kind == ESC_INTER:
                s = s[-(len(s) // 2 + 1) :]
            elif (
                item.kind == ESC
                or (item.kind == TOP_ESC and isinstance(nxt, (Node, Call)))
                or (item.kind == QUOTED_ESC and (nxt is None or isinstance(nxt, (Node, Call))))
            ):
                s = s[1::2]
            if parts and isinstance(parts[-1], str):
                parts[-1] += s
            else:
                parts.append(s)
        return Text(parts)

    def interpolation(self) -> Node | Call:
        start = self.take(INTER_OPEN).start
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(f"nested deeper than {MAX_NESTING} levels")
        dots = 0
        while self.kind() == DOT:
            self.i += 1
            dots += 1
        keys: list = []
        plain_name = dots == 0  # could still be a resolver name
        first = True
        while True:
            k = self.kind()
            if k == BRACKET_OPEN:
                self.i += 1
                keys.append(self.config_key())
                self.take(BRACKET_CLOSE)
                plain_name = False
            elif first or k == DOT:
                if not first:
                    self.i += 1
                t = self.peek()
                if t is None or t.kind not in (ID, INTER_KEY, INTER_OPEN):
                    raise self.fail("expected a key")
                if t.kind == INTER_KEY:
                    plain_name = False
                keys.append(self.config_key())
            else:
                break
            first = False
        k = self.kind()
        if k == INTER_CLOSE:
            self.i += 1
            self.depth -= 1
            end = self.toks[self.i - 1]
            return Node(dots, keys, self.text[start : end.start + len(end.text)])
        if k == COLON and plain_name:
            self.i += 1
            args: list = []
            if self.kind() != BRACE_CLOSE:
                args = self.sequence()
            end = self.take(BRACE_CLOSE)
            self.depth -= 1
            return Call(keys, args, self.text[start : end.start + len(end.text)])
        raise self.fail("expected '}'" if k is not None else "unclosed '${'")

    def config_key(self) -> Any:
        t = self.peek()
        if t is not None and t.kind == INTER_OPEN:
            return self.interpolation()
        if t is not None and t.kind in (ID, INTER_KEY):
            self.i += 1
            return t.text
        raise self.fail("expected a key")

    def sequence(self) -> list:
        items: list = []
        previous_comma = True
        while True:
            k = self.kind()
            if k == COMMA:
                self.i += 1
                if previous_comma:
                    items.append(Prim([(ANY, "")]))
                previous_comma = True
                continue
            if k in (BRACE_CLOSE, BRACKET_CLOSE, None):
                break
            if not previous_comma:
                raise self.fail("expected ','")
            items.append(self.element())
            previous_comma = False
        if previous_comma:
            items.append(Prim([(ANY, "")]))
        return items

    _PRIM = {ID, NULL, INT, FLOAT, BOOL, UNQUOTED, COLON, ESC, WS}

    def element(self) -> Any:
        k = self.kind()
        if k in (QUOTE_S, QUOTE_D):
            self.i += 1
            text = self.text_parts(top=False)
            self.take(QUOTE_CLOSE)
            return Quoted(text)
        if k in (BRACKET_OPEN, BRACE_OPEN):
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise self.fail(f"nested deeper than {MAX_NESTING} levels")
            self.i += 1
            if k == BRACKET_OPEN:
                items = [] if self.kind() == BRACKET_CLOSE else self.sequence()
                self.take(BRACKET_CLOSE)
                result: Any = ListC(items)
            else:
                pairs = []
                if self.kind() != BRACE_CLOSE:
                    while True:
                        key = self.dict_key()
                        self.take(COLON)
                        pairs.append((key, self.element()))
                        if self.kind() != COMMA:
                            break
                        self.i += 1
                self.take(BRACE_CLOSE)
                result = DictC(pairs)
            self.depth -= 1
            return result
        parts: list = []
        while True:
            k = self.kind()
            if k == INTER_OPEN:
                parts.append(self.interpolation())
            elif k in self._PRIM:
                t = self.take(k)
                parts.append((t.kind, t.text))
            else:
                break
        if not parts:
            raise self.fail("expected a value")
        return Prim(parts)

    def dict_key(self) -> Any:
        parts = []
        while self.kind() in (ID, NULL, INT, FLOAT, BOOL, UNQUOTED, ESC, WS):
            t = self.take(self.kind())
            parts.append((t.kind, t.text))
        if not parts:
            raise self.fail("expected a dictionary key")
        return _primitive(parts, None)


def _token_value(kind: str, text: str) -> Any:
    if kind == NULL:
        return None
    if kind == INT:
        return int(text)
    if kind == FLOAT:
        return float(text)
    if kind == BOOL:
        return text.lower() == "true"
    if kind == ESC:
        return text[1::2]
    return text


def _primitive(parts: list, evaluate: Any) -> Any:
    # A part is a (kind, text) token, a plain tuple, or an interpolation (a NamedTuple).
    if len(parts) == 1:
        p = parts[0]
        if type(p) is tuple:
            return _token_value(*p)
        return evaluate(p)
    out = []
    for p in parts:
        if type(p) is tuple:
            out.append(p[1][1::2] if p[0] == ESC else p[1])
        else:
            out.append(_to_str(evaluate(p)))
    return "".join(out)


_parsed: dict[str, Text | GrammarError] = {}


def parse(text: str) -> Text:
    """Parse a config string the way OmegaConf does; raises GrammarError."""
    hit = _parsed.get(text)
    if hit is None:
        try:
            hit = _Parser(text, _lex(text)).config_value()
        except GrammarError as exc:
            hit = exc
        if len(_parsed) > 20_000:
            _parsed.clear()
        _parsed[text] = hit
    if isinstance(hit, GrammarError):
        raise hit
    return hit


def is_interpolation(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


# --------------------------------------------------------------------------------------
# Evaluation


class _Defer(Exception):
    """The value cannot be known yet (a key, a `???`, an env var arrives later)."""


class _Fail(Exception):
    """OmegaConf would raise here: a Problem at the value being resolved."""


class _Cycle(_Fail):
    """A reference to a container that holds the referring value."""


class _Broken(Exception):
    """A value this one depends on has a Problem already."""


_NOTHING = object()


def _to_str(value: Any) -> str:
    return str(value)


class _Resolver:
    def __init__(self, composed: Composed, environ: Mapping[str, str], out: Resolved) -> None:
        self.raw = composed.data
        self.composed = composed
        self.environ = environ
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
            raise _Fail(f"interpolations expand to more than {MAX_WORK} characters and values")

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

    def value_at(self, path: DataPath, raw: Any = _NOTHING) -> Any:
        """The resolved value at `path` or an exception (_Defer, _Broken)."""
        state = self.done.get(path)
        if state is not None:
            kind, value = state
            if kind == "ok":
                return value
            raise (_Defer() if kind == "defer" else _Broken())
        if raw is _NOTHING:
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
                except (_Defer, _Broken) as exc:
                    result[k] = self.display_value(path + (k,), v)
                    failed = failed or exc
            self.done[path] = ("ok", result)  # a container is there even if parts are deferred
            return result
        if isinstance(raw, list):
            result = []
            for i, v in enumerate(raw):
                try:
                    result.append(self.value_at(path + (i,), v))
                except (_Defer, _Broken):
                    result.append(self.display_value(path + (i,), v))
            self.done[path] = ("ok", result)
            return result
        if isinstance(raw, str):
            if raw == MANDATORY:
                self.out.deferred.add(path)
                self.done[path] = ("defer", None)
                raise _Defer()
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
            shown = " -> ".join(_dotted(p) for p in cycle)
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
        except _Fail as exc:
            self.problem(path, str(exc))
            self.done[path] = ("broken", None)
            raise _Broken() from None
        except _Broken:
            if self.done.get(path, ("",))[0] != "broken":
                self.done[path] = ("broken-dep", None)
            self.out.deferred.add(path)
            raise
        except _Defer:
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
                        s = _to_str(self.node(part, path, unresolved, raw_containers=True))
                    else:
                        s = _to_str(self.inter(part, path, unresolved))
                except _Defer as exc:  # keep going: report every unresolved key of the value
                    pending = pending or exc
                    continue
            size += len(s)
            if size > MAX_RESULT_CHARS:
                raise _Fail(f"interpolation result longer than {MAX_RESULT_CHARS} characters")
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
            raise _Fail(f"{key.source} is used as a key and must give a string, not {value!r}")
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
                raise _Fail(f"{item.source} goes up {up} levels from '{_dotted(path)}', above the top of the config")
            base = path[: len(path) - up]
        else:
            base = ()
        return self.select(base, keys, item, written, path, unresolved, raw_containers=raw_containers)

    def select(self, base: DataPath, keys: list[str], item: Any, written: str, path: DataPath,
               unresolved: list, missing_ok: bool = False, raw_containers: bool = False) -> Any:
        """The value at base + keys; with missing_ok, _NOTHING for an absent key or `???`."""
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
                    return _NOTHING
                unresolved.append(Unresolved(path, source, written, "missing"))
                raise _Defer()
            if isinstance(current, dict):
                if key not in current:
                    if missing_ok:
                        return _NOTHING
                    unresolved.append(Unresolved(path, source, written, "key"))
                    raise _Defer()
                current = current[key]
                current_path = current_path + (key,) if current_path is not None else None
            elif isinstance(current, list):
                try:
                    index = int(key)
                    current = current[index]
                except (ValueError, IndexError):
                    if missing_ok:
                        return _NOTHING
                    unresolved.append(Unresolved(path, source, written, "key"))
                    raise _Defer() from None
                current_path = current_path + (index,) if current_path is not None else None
            else:
                walked = ".".join(keys[:n]) or "the config"
                raise _Fail(f"{source}: '{walked}' is {current!r}, not a mapping that could hold '{key}'")
        if isinstance(current, str) and current == MANDATORY:
            if missing_ok:
                return _NOTHING
            unresolved.append(Unresolved(path, source, written, "missing"))
            raise _Defer()
        if isinstance(current, (dict, list)) and current_path is not None and path[: len(current_path)] == current_path:
            raise _Cycle(f"interpolation cycle: {source} refers to '{_dotted(current_path)}', which contains it")
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
                except _Defer:
                    target = _NOTHING
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
            return _primitive(el.parts, lambda p: self.inter(p, path, unresolved))
        if isinstance(el, Quoted):
            value = self.text(el.text, path, unresolved, top=False)
            return _to_str(value)
        if isinstance(el, ListC):
            return self.args(el.items, path, unresolved)
        if isinstance(el, DictC):
            out = {}
            pending = None
            for key, item in el.items:
                try:
                    out[key] = self.element(item, path, unresolved)
                except _Defer as exc:
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
            except _Defer as exc:
                pending = pending or exc
        if pending is not None:
            raise pending
        return out

    def call(self, item: Call, path: DataPath, unresolved: list) -> Any:
        name = ".".join(self.key_text(k, path, unresolved) for k in item.name)
        if name in ("inherit_from", "copy"):
            return item.source  # NeMo Gym's resolvers give their own text back
        args = self.args(item.args, path, unresolved)
        if name == "oc.env":
            if not 1 <= len(args) <= 2:
                raise _Fail(f"{item.source}: oc.env takes a variable name and an optional default")
            var = _to_str(args[0])
            if var in self.environ:
                return self.environ[var]
            if len(args) == 2:
                default = args[1]
                if isinstance(default, (dict, list)):  # OmegaConf's str() of a container shows it as written
                    default = self.as_written(item.args[1], path, unresolved, default)
                return None if default is None else _to_str(default)
            unresolved.append(Unresolved(path, item.source, var, "env"))
            raise _Defer()
        if name == "oc.select":
            if not 1 <= len(args) <= 2:
                raise _Fail(f"{item.source}: oc.select takes a key and an optional default")
            key = _to_str(args[0])
            default = args[1] if len(args) == 2 else None
            dots = len(key) - len(key.lstrip("."))
            keys = _split_key(key[dots:])
            if dots:
                if dots > len(path):
                    raise _Fail(f"{item.source} goes up {dots} levels from '{_dotted(path)}', above the top")
                base = path[: len(path) - dots]
            else:
                base = ()
            if not keys:
                return default
            try:
                value = self.select(base, keys, None, key, path, unresolved, missing_ok=True)
            except _Cycle:
                raise
            except _Fail:  # OmegaConf's select gives the default for a path through a scalar
                return default
            return default if value is _NOTHING else value
        if name == "oc.decode":
            if len(args) != 1:
                raise _Fail(f"{item.source}: oc.decode takes one argument")
            value = args[0]
            if value is None or not isinstance(value, str):
                return value
            try:
                tokens = _lex_value(value)
                parser = _Parser(value, tokens)
                el = parser.element()
                if parser.peek() is not None:
                    raise parser.fail("unexpected text")
            except GrammarError as exc:
                raise _Fail(f"{item.source}: cannot decode {value!r}: {exc}") from None
            return self.element(el, path, unresolved)
        if name == "oc.create":
            return args[0] if len(args) == 1 else _fail(f"{item.source}: oc.create takes one argument")
        if name == "oc.deprecated":
            if not args:
                raise _Fail(f"{item.source}: oc.deprecated needs a key")
            keys = _split_key(_to_str(args[0]))
            return self.select((), keys, None, _to_str(args[0]), path, unresolved)
        if name in ("oc.dict.keys", "oc.dict.values"):
            if len(args) != 1:
                raise _Fail(f"{item.source}: {name} takes one argument")
            target = args[0]
            if isinstance(target, str):
                target = self.select((), _split_key(target), None, target, path, unresolved)
            if not isinstance(target, dict):
                raise _Fail(f"{item.source}: {name} needs a mapping, got {target!r}")
            return list(target.keys() if name == "oc.dict.keys" else target.values())
        raise _Fail(
            f"unknown resolver '{name}' in {item.source}",
        )


def _fail(message: str) -> Any:
    raise _Fail(message)


def _lex_value(text: str) -> list[_Tok]:
    """Tokens of `text` lexed in resolver-argument mode (for oc.decode)."""
    tokens: list[_Tok] = []
    stack = [VALUE]
    pos = 0
    while pos < len(text):
        best, best_len = None, 0
        for kind, rx, action in _MODES[stack[-1]]:
            m = rx.match(text, pos)
            if m is not None and m.end() - pos > best_len:
                best, best_len = (kind, action), m.end() - pos
        if best is None:
            raise GrammarError(f"unexpected character {text[pos]!r}", pos)
        kind, action = best
        tokens.append(_Tok(kind, text[pos : pos + best_len], pos))
        pos += best_len
        if action == "pop":
            if len(stack) > 1:
                stack.pop()
        elif action is not None and action[0] == "push":
            stack.append(action[1])
            if len(stack) > MAX_NESTING + 1:
                raise GrammarError("nested too deep", pos)
        elif action is not None:
            stack[-1] = action[1]
    return tokens


_KEY_PART = re.compile(r"\[([^\]]*)\]|([^.\[]+)")


def _split_key(key: str) -> list[str]:
    """OmegaConf's `a.b[0].c` key split."""
    out = []
    for m in _KEY_PART.finditer(key):
        out.append(m.group(1) if m.group(1) is not None else m.group(2))
    return out


def _dotted(path: DataPath) -> str:
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += ("." if out else "") + str(key)
    return out or "<top>"


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
    except (_Defer, _Broken):  # only when the whole config is one value
        data = composed.data
    except _Fail as exc:
        resolver.problem((), str(exc))
        data = composed.data
    except RecursionError:
        resolver.problem((), "configuration too deeply nested to resolve")
        data = composed.data
    resolved.data = data
    return resolved
