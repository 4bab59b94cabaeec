"""OmegaConf 2.3's interpolation grammar (NeMo Gym's), without importing OmegaConf.

One lexer with OmegaConf's modes and tokens (top level, inside `${...}`, resolver
arguments, quoted strings), and a parser from its tokens to a small tree: `Text` holds
literal pieces and interpolations, `Node` is a reference (`${a.b[0]}`), `Call` a resolver
(`${oc.env:VAR,default}`), and resolver arguments are `Prim`, `Quoted`, `ListC`, `DictC`.
Evaluating the tree is config/resolve.py's.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

MAX_NESTING = 32  # ${...} / [...] / {...} nesting inside one string

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


def lex(text: str, mode: int = DEFAULT) -> list[_Tok]:
    """`text`'s tokens, starting in `mode` (DEFAULT for a config value, VALUE for the
    text oc.decode reads as a resolver argument)."""
    tokens: list[_Tok] = []
    stack = [mode]
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


class Parser:
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
        return primitive(parts, None)


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


def primitive(parts: list, evaluate: Any) -> Any:
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
            out.append(str(evaluate(p)))
    return "".join(out)


_parsed: dict[str, Text | GrammarError] = {}


def parse(text: str) -> Text:
    """Parse a config string the way OmegaConf does; raises GrammarError."""
    hit = _parsed.get(text)
    if hit is None:
        try:
            hit = Parser(text, lex(text)).config_value()
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
