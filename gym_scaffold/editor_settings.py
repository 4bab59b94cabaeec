"""`.vscode/settings.json`: our `yaml.schemas` entries merged in, everything else kept.

VS Code's settings are JSONC (comments, trailing commas), written by hand. Reading and
rewriting them as JSON would drop the user's comments, so the file is edited as text:
it is scanned into tokens, and only the values of our own `yaml.schemas` entries are
replaced, or new entries inserted after the last one. A file that does not parse is left
alone, with the reason.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from pathlib import Path

SETTINGS = Path(".vscode") / "settings.json"
SCHEMAS_KEY = "yaml.schemas"


class SettingsError(Exception):
    """The settings file cannot be read or understood; it was not changed."""


@dataclass
class _Member:
    key: str
    key_start: int
    value_start: int
    value_end: int


@dataclass
class _Object:
    start: int  # offset of "{"
    end: int  # offset of "}"
    members: list[_Member]


_TOKEN = re.compile(
    r'(?P<space>\s+)|(?P<line>//[^\n]*)|(?P<block>/\*.*?\*/)|(?P<string>"(?:[^"\\\n]|\\.)*")'
    r"|(?P<punct>[{}\[\]:,])|(?P<word>[^\s{}\[\]:,\"/]+)",
    re.DOTALL,
)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, offset) of every token but white space and comments."""
    found = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise SettingsError(f"unexpected {text[position]!r} at offset {position}")
        kind = match.lastgroup
        if kind in ("punct", "string", "word"):
            found.append((kind, match.group(), position))
        position = match.end()
    return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    def _peek(self) -> tuple[str, str, int]:
        if self.index >= len(self.tokens):
            raise SettingsError("the file ends too early")
        return self.tokens[self.index]

    def _take(self, expected: str | None = None) -> tuple[str, str, int]:
        token = self._peek()
        if expected is not None and token[1] != expected:
            raise SettingsError(f"expected {expected!r} at offset {token[2]}, found {token[1]!r}")
        self.index += 1
        return token

    def value(self) -> tuple[int, int, _Object | None]:
        """Parse one value: (start, end offsets, the object when it is one)."""
        kind, text, start = self._peek()
        if text == "{":
            parsed = self.object()
            return start, parsed.end + 1, parsed
        if text == "[":
            self._take()
            while self._peek()[1] != "]":
                self.value()
                if self._peek()[1] == ",":
                    self._take()
                elif self._peek()[1] != "]":
                    raise SettingsError(f"expected ',' or ']' at offset {self._peek()[2]}")
            end = self._take("]")[2] + 1
            return start, end, None
        if kind in ("string", "word"):
            self._take()
            return start, start + len(text), None
        raise SettingsError(f"unexpected {text!r} at offset {start}")

    def object(self) -> _Object:
        start = self._take("{")[2]
        members = []
        while self._peek()[1] != "}":
            kind, key_text, key_start = self._take()
            if kind != "string":
                raise SettingsError(f"expected a quoted key at offset {key_start}")
            self._take(":")
            value_start, value_end, _ = self.value()
            members.append(_Member(json.loads(key_text), key_start, value_start, value_end))
            if self._peek()[1] == ",":
                self._take()
            elif self._peek()[1] != "}":
                raise SettingsError(f"expected ',' or '}}' at offset {self._peek()[2]}")
        end = self._take("}")[2]
        return _Object(start, end, members)


def _indent_of(text: str, offset: int) -> str:
    line_start = text.rfind("\n", 0, offset) + 1
    return re.match(r"[ \t]*", text[line_start:]).group()


def _insert_members(text: str, target: _Object, entries: list[tuple[str, str]], indent: str) -> str:
    """`text` with `"key": value` members added at the end of the object `target`."""
    rendered = ",".join(f"\n{indent}{json.dumps(key)}: {value}" for key, value in entries)
    if target.members:
        after = target.members[-1].value_end
        line_end = text.find("\n", after)
        line_end = len(text) if line_end < 0 else line_end
        rest = re.fullmatch(r"[ \t]*(,)?[ \t]*(?://[^\n]*)?[ \t\r]*", text[after:line_end])
        if rest is not None and line_end < target.end:  # a comment ending the line stays with its value
            comma = "" if rest.group(1) else ","
            return text[:after] + comma + text[after:line_end] + rendered + text[line_end:]
        return text[:after] + "," + rendered + text[after:]
    closing_indent = _indent_of(text, target.end) if "\n" in text[target.start:target.end] else ""
    inner = text[target.start + 1:target.end]
    if inner.strip():  # only comments inside: keep them, then the members
        return text[:target.end].rstrip() + rendered + "\n" + closing_indent + text[target.end:]
    return text[:target.start + 1] + rendered + "\n" + closing_indent + text[target.end:]


def _schemas_block(schemas: dict[str, list[str]], indent: str) -> str:
    lines = [f"{indent}  {json.dumps(schema)}: {json.dumps(globs)}" for schema, globs in schemas.items()]
    return "{\n" + ",\n".join(lines) + "\n" + indent + "}"


def merge_schemas(text: str | None, schemas: dict[str, list[str]]) -> str:
    """Settings text with `yaml.schemas[schema] = globs` for each of `schemas`."""
    if text is None or not text.strip():
        return "{\n  " + json.dumps(SCHEMAS_KEY) + ": " + _schemas_block(schemas, "  ") + "\n}\n"
    parser = _Parser(text)
    top_start, _, top = parser.value()
    if top is None:
        raise SettingsError("the settings are not a JSON object")
    if parser.index != len(parser.tokens):
        raise SettingsError(f"unexpected text after the settings at offset {parser.tokens[parser.index][2]}")
    member_indent = _indent_of(text, top.members[0].key_start) if top.members else "  "
    existing = next((m for m in reversed(top.members) if m.key == SCHEMAS_KEY), None)
    if existing is None:
        return _insert_members(text, top, [(SCHEMAS_KEY, _schemas_block(schemas, member_indent))], member_indent)
    inner_parser = _Parser(text)
    inner_parser.index = next(i for i, t in enumerate(inner_parser.tokens) if t[2] == existing.value_start)
    _, _, inner = inner_parser.value()
    if inner is None:
        raise SettingsError(f'"{SCHEMAS_KEY}" is not an object')
    entry_indent = _indent_of(text, inner.members[0].key_start) if inner.members else member_indent + "  "
    replacements = []
    missing = []
    for schema, globs in schemas.items():
        value = json.dumps(globs)
        member = next((m for m in inner.members if m.key == schema), None)
        if member is None:
            missing.append((schema, value))
        else:
            replacements.append((member.value_start, member.value_end, value))
    if missing:
        text = _insert_members(text, inner, missing, entry_indent)
    for start, end, value in sorted(replacements, reverse=True):  # offsets before the insertion
        text = text[:start] + value + text[end:]
    return text


def update_settings(path: Path, schemas: dict[str, list[str]]) -> bool:
    """Merge `schemas` into the settings file at `path`; whether it changed.

    A byte order mark and CRLF line ends (which VS Code reads) are kept as they were.
    """
    bom, newline = b"", "\n"
    try:
        data = path.read_bytes()
        bom = codecs.BOM_UTF8 if data.startswith(codecs.BOM_UTF8) else b""
        text: str | None = data[len(bom):].decode("utf-8")
    except FileNotFoundError:
        text = None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read {path}: {exc}") from None
    if text is not None and "\r\n" in text:
        newline, text = "\r\n", text.replace("\r\n", "\n")
    merged = merge_schemas(text, schemas)
    if merged == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bom + merged.replace("\n", newline).encode("utf-8"))
    return True
