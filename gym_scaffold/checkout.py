"""Which server instances a checkout defines: instance name -> server types.

A reference `{type: resources_servers, name: math_with_judge}` in a benchmark config may
name an instance defined in a config the run adds (`+config_paths=[a,b]`), not one the
file includes. Checking a whole checkout, such a reference is good when some config file
of the checkout defines that instance with that type.

The index is built once per run, before the work is split across processes, from the
text of every config file: a top-level key whose first nested key is a server type (or
`_inherit_from` / `_copy`, whose source gives the type). A text scan rather than a YAML
parse: it costs a read per file (which the result cache does anyway) and never loads the
YAML reader, so a run answered from the cache stays cheap. Block-style YAML is what NeMo
Gym configs use; a flow-style instance (`name: {responses_api_models: ...}`) is read too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from gym_scaffold.config.model import SERVER_TYPES
from gym_scaffold.safeio import read_or_none

_TOP = re.compile(r"^(?P<name>[A-Za-z0-9_][\w.\-]*)\s*:\s*(?P<rest>.*)$")
_CHILD = re.compile(r"^(?P<indent>[ \t]+)(?P<key>[A-Za-z_][\w\-]*)\s*:\s*(?P<value>[^#]*)")
_FLOW_TYPE = re.compile(r"\{\s*(" + "|".join(SERVER_TYPES) + r")\s*:")
_FLOW_ENTRYPOINT = re.compile(r"\{(?:.*[,{]\s*|\s*)entrypoint\s*:")
_DIRECTIVES = ("_inherit_from", "_copy")


def scan_text(text: str) -> tuple[dict[str, set[str]], dict[str, str]]:
    """(instance -> server types, instance -> the source of its _inherit_from / _copy)."""
    types, sources, _, _ = _scan(text)
    return types, sources


def _scan(text: str) -> tuple[dict[str, set[str]], dict[str, str], set[tuple[str, str, str]], set[tuple[str, str, str]]]:
    """scan_text; the (instance, server type, implementation) blocks that have an
    `entrypoint`: the instances the text declares rather than overlays; and the
    (server type, implementation, entrypoint) of each block-style entrypoint."""
    types: dict[str, set[str]] = {}
    sources: dict[str, str] = {}
    declared: set[tuple[str, str, str]] = set()
    entrypoints: set[tuple[str, str, str]] = set()
    current: str | None = None
    child_indent: str | None = None
    server_type: str | None = None  # the server type block being read, and its implementation
    impl_indent: str | None = None
    impl: str | None = None
    field_indent: str | None = None
    for line in text.splitlines():
        if not line or line.lstrip().startswith("#"):
            continue
        if line[0] not in " \t":
            current, child_indent, server_type = None, None, None
            top = _TOP.match(line)
            if top is None:
                continue
            rest = top.group("rest").split("#", 1)[0].strip()
            if not rest:
                current = top.group("name")
            else:
                flow = _FLOW_TYPE.match(rest)
                if flow:
                    types.setdefault(top.group("name"), set()).add(flow.group(1))
            continue
        if current is None:
            continue
        child = _CHILD.match(line)
        if child is None:
            continue
        indent = child.group("indent")
        if child_indent is None:
            child_indent = indent
        key = child.group("key")
        if indent != child_indent:
            if server_type is None or len(indent) <= len(child_indent):
                continue
            if impl_indent is None:
                impl_indent = indent
            if indent == impl_indent:
                impl, field_indent = key, None
                if _FLOW_ENTRYPOINT.match(child.group("value")):
                    declared.add((current, server_type, impl))
            elif impl is not None and len(indent) > len(impl_indent):
                field_indent = field_indent or indent
                if indent == field_indent and key == "entrypoint":
                    declared.add((current, server_type, impl))
                    value = child.group("value").strip().strip("'\"")
                    if value:
                        entrypoints.add((server_type, impl, value))
            continue
        server_type, impl_indent, impl = None, None, None
        if key in SERVER_TYPES:
            types.setdefault(current, set()).add(key)
            server_type = key
        elif key in _DIRECTIVES:
            value = child.group("value").strip().strip("'\"")
            if value:
                sources[current] = value.split(".")[0]
    return types, sources, declared, entrypoints


class CheckoutIndex(dict):
    """Instance name -> server types, the config files whose instances are unknown
    (empty: a partial copy of a checkout), which may define any name, and the
    (instance, server type, implementation) blocks some file declares with an `entrypoint`
    (a file that sets a few keys of such an instance is an overlay of it)."""

    unknown_files: tuple[str, ...] = ()
    declared: frozenset[tuple[str, str, str]] = frozenset()
    entrypoints: frozenset[tuple[str, str, str]] = frozenset()  # (server type, implementation, entrypoint)


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

    @property
    def declared(self) -> frozenset[tuple[str, str, str]]:
        return self.built().declared


# Pseudo-names for the result cache: how many files of the checkout are unknown, and
# every instance with its types (what a walk over the whole index saw).
UNKNOWN_FILES = "\0unknown-files"
EVERY_NAME = "\0every-name"
DECLARED = "\0declared:"  # followed by instance, server type and implementation, \0-separated


def names_of_type(index: Mapping[str, frozenset[str]], server_type: str) -> tuple[str, ...]:
    """The instances of `index` with `server_type`, sorted."""
    return tuple(sorted(name for name, types in index.items() if server_type in types))


def _answer(index: Mapping[str, frozenset[str]], name: str) -> object:
    if name == UNKNOWN_FILES:
        return len(getattr(index, "unknown_files", ()))
    if name == EVERY_NAME:
        return tuple(sorted((key, tuple(sorted(types))) for key, types in index.items()))
    if name.startswith(DECLARED):
        return tuple(name[len(DECLARED) :].split("\0", 2)) in getattr(index, "declared", ())
    return index.get(name)


class RecordedIndex(Mapping):
    """The checkout index as the rules see it: every answer it gives is recorded in
    `lookups` (name -> answer), so the result cache keeps an outcome only while the
    index would answer the same. A rule cannot read the index without being recorded."""

    def __init__(self, index: Mapping[str, frozenset[str]], lookups: dict) -> None:
        self._index = index
        self.lookups = lookups

    def _record(self, name: str) -> Any:
        answer = self.lookups[name] = _answer(self._index, name)
        return answer

    def __getitem__(self, name: str) -> frozenset[str]:
        found = self._record(name)
        if found is None:
            raise KeyError(name)
        return found

    def get(self, name: str, default: Any = None) -> Any:
        found = self._record(name)
        return default if found is None else found

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._record(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, _ in self._record(EVERY_NAME)])

    def __len__(self) -> int:
        return len(self._record(EVERY_NAME))

    @property
    def unknown_files(self) -> tuple[str, ...]:
        self._record(UNKNOWN_FILES)
        return getattr(self._index, "unknown_files", ())

    def declares(self, instance: str, server_type: str, implementation: str) -> bool:
        """Whether some config file of the checkout declares this block with an `entrypoint`."""
        return bool(self._record(DECLARED + "\0".join((instance, server_type, implementation))))


def build_index(paths: Iterable[Path], read: Callable[[Path], bytes | None] = read_or_none) -> CheckoutIndex:
    """Instance name -> the server types it is defined with, over `paths`."""
    types: dict[str, set[str]] = {}
    sources: dict[str, str] = {}
    unknown: list[str] = []
    declared: set[tuple[str, str, str]] = set()
    entrypoints: set[tuple[str, str, str]] = set()
    for path in paths:
        raw = read(path)  # a FIFO or a huge file is not waited for; the loader reports it
        if raw is None:
            continue
        text = raw.decode("utf-8", errors="replace")
        if not text.strip():
            unknown.append(str(path))
            continue
        found, inherited, blocks, entries = _scan(text)
        declared |= blocks
        entrypoints |= entries
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
    index.declared = frozenset(declared)
    index.entrypoints = frozenset(entrypoints)
    return index


def lookups_match(lookups: Mapping[str, frozenset[str] | None], index: Mapping[str, frozenset[str]] | None) -> bool:
    """Whether names looked up in an earlier run still answer the same in `index`."""
    if not lookups:
        return True
    if index is None:
        return False
    return all(_answer(index, name) == answer for name, answer in lookups.items())
