"""Path globs of the project configuration (`exclude`, `per-file-ignores`).

Matched against a path relative to the checkout root, with `/` separators:

    *            any characters within one path segment
    ?            one character within a segment
    [abc] [!a]   one character of (not of) a set
    **           any number of segments, including none (`benchmarks/**/config.yaml`)

A glob without `/` matches a file or directory name at any depth (`prompts`, `*.json`);
one with `/` is anchored at the root. A glob that matches a directory covers everything
below it (`benchmarks/legacy`), as in .gitignore.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class GlobError(ValueError):
    """A glob that cannot be right; the message says why."""


@dataclass(frozen=True)
class Glob:
    text: str
    pattern: re.Pattern[str]
    anchored: bool

    def matches(self, relative: str) -> bool:
        """Does the glob cover `relative` (a root-relative path with `/` separators)?"""
        return self.pattern.fullmatch(relative) is not None


def _class(text: str, start: int) -> tuple[str, int]:
    """The regex of the `[...]` set opening at `start`, and the index after it."""
    i = start + 1
    negate = i < len(text) and text[i] == "!"
    if negate:
        i += 1
    first = i
    while i < len(text) and (text[i] != "]" or i == first):
        i += 1
    if i >= len(text):
        raise GlobError("a '[' without its ']'")
    members = text[first:i].replace("\\", "\\\\").replace("^", "\\^")
    if "/" in members:
        raise GlobError("a [...] set cannot hold '/'")
    return ("[^/" if negate else "[") + members + "]", i + 1


def compile_glob(text: str) -> Glob:
    """Compile one glob; GlobError says what is wrong with it."""
    if not isinstance(text, str):
        raise GlobError("a glob is a string")
    glob = text.strip()
    if not glob:
        raise GlobError("an empty glob")
    if "\\" in glob:
        raise GlobError("use '/' between directories, not '\\'")
    if glob.startswith("/") or re.match(r"^[A-Za-z]:", glob):
        raise GlobError("globs are relative to the checkout root; drop the leading '/'")
    glob = glob.removeprefix("./").rstrip("/")
    if ".." in glob.split("/"):
        raise GlobError("'..' cannot reach outside the checkout root")
    out = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[":
            piece, i = _class(glob, i)
            out.append(piece)
        else:
            out.append(re.escape(glob[i]))
            i += 1
    anchored = "/" in glob
    # One regex for the whole path: the glob at the root (or, without '/', below any
    # directory), then anything below what it matched.
    body = "".join(out)
    try:
        pattern = re.compile(("" if anchored else "(?:.*/)?") + f"(?:{body})(?:/.*)?", re.DOTALL)
    except re.error as exc:  # a set like [z-a]
        raise GlobError(f"not a valid glob ({exc})") from None
    return Glob(text, pattern, anchored)
