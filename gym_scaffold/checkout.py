"""Which server instances a checkout defines: instance name -> server types.

A reference `{type: resources_servers, name: math_with_judge}` in a benchmark config may
name an instance defined in a config the run adds (`+config_paths=[a,b]`), not one the
file includes. Checking a whole checkout, such a reference is good when some config file
of the checkout defines that instance with that type.

The index is built once per run, before the work is split across processes, from the
text of every config file: a top-level key with a server type among its own nested keys
(those indented as its first one), or `_inherit_from` / `_copy`, whose source gives the
type. A text scan, one regex over each file, rather than a YAML parse: it costs a read per
file (which the result cache does anyway) and never loads the YAML reader, so a run
answered from the cache stays cheap. Block-style YAML is what NeMo Gym configs use; a
flow-style instance (`name: {responses_api_models: ...}`) is read too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from gym_scaffold.config.model import SERVER_TYPES
from gym_scaffold.safeio import read_or_none

_DIRECTIVES = ("_inherit_from", "_copy")

# The scan is one regex over the whole text, which finds just the lines that matter: Python
# then handles a tenth of the lines instead of every one, as most are keys nested too deep
# to matter. It reads what a loop over text.splitlines() reads, exactly; tests/test_checkout.py
# keeps such a loop as the reference. The pieces:
_WS = r"[^\S\n]"  # whitespace
_KEY = rf"[A-Za-z_][\w\-]*{_WS}*:"  # a nested key, after its indentation
# a line that leaves a block open, with its line break: blank, indented but not a key
# (`- item`, a comment), or a comment. A line matches one alternative at most, and only up
# to its end: when no key follows, giving up takes a step per line, not every combination.
_PASSED_OVER = rf"(?:\n|[ \t]+(?![ \t]|{_KEY})[^\n]*\n|(?![ \t]){_WS}*#[^\n]*\n)"
# `name:` alone opens a block, an instance perhaps. The indentation of its first nested key,
# looked up ahead past the lines passed over, is that of all its own keys.
_BLOCK = rf"{_WS}*(?:#.*)?$(?=(?:\n{_PASSED_OVER}*(?P<first>[ \t]+){_KEY})?)"
# `name: {server_type: ...}`, a flow-style instance
_FLOW = rf"{_WS}*\{{{_WS}*(?P<flow>{'|'.join(SERVER_TYPES)}){_WS}*:.*"
# a top-level line, a key or not (`---`), ends the block before it; comments do not
_TOP_LEVEL = (
    rf"(?=[^ \t\n])(?!{_WS}*#)"
    rf"(?:(?P<name>[A-Za-z0-9_][\w.\-]*){_WS}*:(?:{_BLOCK}|{_FLOW}|.*)|.*)"
)
# a nested key that makes an instance: a server type, or a directive and its source.
# `(?=(?P<indent>...))(?P=indent)` takes the whole indentation at once, as `[ \t]++` would
# where Python has it (3.11+); trying every shorter one too, on every line, costs a third more.
_INSTANCE_KEY = (
    rf"(?=(?P<indent>[ \t]+))(?P=indent)(?P<key>{'|'.join(SERVER_TYPES + _DIRECTIVES)})"
    rf"{_WS}*:{_WS}*(?P<value>[^#\n]*)"
)


@functools.cache  # compiled on first use: a run answered from the result cache never scans
def _lines_that_matter() -> re.Pattern[str]:
    # Each match starts at the "\n" before its line, a literal the regex engine looks for
    # fast; with `^` it would try every character.
    return re.compile(rf"\n(?:{_TOP_LEVEL}|{_INSTANCE_KEY})", re.MULTILINE)


def scan_text(text: str) -> tuple[dict[str, set[str]], dict[str, str]]:
    """(instance -> server types, instance -> the source of its _inherit_from / _copy)."""
    # The regex knows one line break, "\n"; str.splitlines has others (CRLF, mostly). One
    # `in` each costs less than a regex or any() over them.
    if (
        "\r" in text or "\x0b" in text or "\x0c" in text or "\x1c" in text or "\x1d" in text
        or "\x1e" in text or "\x85" in text or "\u2028" in text or "\u2029" in text
    ):
        text = "\n".join(text.splitlines())
    types: dict[str, set[str]] = {}
    sources: dict[str, str] = {}
    current = child_indent = ""  # child_indent "": no block open, or one without nested keys
    # The groups in the pattern's order; one that did not match is "": a top-level line has
    # no key, a nested key no name.
    for name, first, flow, indent, key, value in _lines_that_matter().findall("\n" + text):
        if not key:  # a top-level line
            current, child_indent = name, first
            if flow:
                types.setdefault(current, set()).add(flow)
        elif indent == child_indent:  # a key of the block, not one nested deeper
            if key in SERVER_TYPES:
                types.setdefault(current, set()).add(key)
            else:
                value = value.strip().strip("'\"")
                if value:
                    sources[current] = value.split(".", 1)[0]
    return types, sources


class CheckoutIndex(dict):
    """Instance name -> server types, and the config files whose instances are unknown
    (empty: a partial copy of a checkout), which may define any name."""

    unknown_files: tuple[str, ...] = ()


class LazyIndex(Mapping):
    """A CheckoutIndex built on first use. Checking one file (a commit) usually resolves
    every reference within the file and its includes, and never pays for scanning the
    whole checkout."""

    def __init__(self, build: Callable[[], CheckoutIndex]) -> None:
        self._build = build
        self._index: CheckoutIndex | None = None

    def built(self) -> CheckoutIndex:
        if self._index is None:
            self._index = self._build()
        return self._index

    @property
    def ready(self) -> bool:
        return self._index is not None

    def provide(self, index: CheckoutIndex) -> None:
        """Use `index`, built elsewhere (another process), instead of building it."""
        self._index = index

    def __getitem__(self, name: str) -> frozenset[str]:
        return self.built()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.built())

    def __len__(self) -> int:
        return len(self.built())

    @property
    def unknown_files(self) -> tuple[str, ...]:
        return self.built().unknown_files


# A pseudo-name for the result cache: how many files of the checkout are unknown.
UNKNOWN_FILES = "\0unknown-files"


def build_index(paths: Iterable[Path], read: Callable[[Path], bytes | None] = read_or_none) -> CheckoutIndex:
    """Instance name -> the server types it is defined with, over `paths`."""
    types: dict[str, set[str]] = {}
    sources: dict[str, str] = {}
    unknown: list[str] = []
    for path in paths:
        raw = read(path)  # a FIFO or a huge file is not waited for; the loader reports it
        if raw is None:
            continue
        text = raw.decode("utf-8", errors="replace")
        if not text.strip():
            unknown.append(str(path))
            continue
        found, inherited = scan_text(text)
        for name, kinds in found.items():
            types.setdefault(name, set()).update(kinds)
        for name, source in inherited.items():
            sources.setdefault(name, source)
    # An instance built by a directive has its source's type (follow chains, no cycles).
    for name, first_source in sources.items():
        seen = {name}
        source = first_source
        while source in sources and source not in seen and source not in types:
            seen.add(source)
            source = sources[source]
        if source in types:
            types.setdefault(name, set()).update(types[source])
    index = CheckoutIndex((name, frozenset(kinds)) for name, kinds in types.items())
    index.unknown_files = tuple(unknown)
    return index


def lookups_match(lookups: Mapping[str, frozenset[str] | None], index: Mapping[str, frozenset[str]] | None) -> bool:
    """Whether names looked up in an earlier run still answer the same in `index`."""
    if not lookups:
        return True
    if index is None:
        return False
    unknown = len(getattr(index, "unknown_files", ()))
    return all(
        (unknown if name == UNKNOWN_FILES else index.get(name)) == answer for name, answer in lookups.items()
    )
