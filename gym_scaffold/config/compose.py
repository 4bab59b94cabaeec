"""Merge config files the way NeMo Gym does: includes, env.yaml, directives.

NeMo Gym (`nemo_gym/global_config.py`, `GlobalConfigDictParser.parse`) builds one config:

1. `config_paths` includes. Starting from the files given (the `+config_paths=[...]` of a
   run), every file's own `config_paths` entries are appended breadth-first; an entry met
   again is not loaded again (that is also what keeps a cycle from looping). The include
   tree is then flattened post-order: every file merges after the files it pulled in, and
   siblings merge in listed order, so the including file and later siblings win.
   Relative entries resolve against the search roots in order (NEMO_GYM_EXTRA_ROOTS,
   then cwd, then the install root); a missing one is an error. Stricter than NeMo Gym,
   an entry leading outside every root (absolute, `..`, a symbolic link) is an error and
   is never read: a committed config has to work in every checkout. Problems of an entry
   (including a cycle, reported at every entry on it) are located at the entry, so the
   check of the file holding it reports them.
2. env.yaml is merged on top (command-line overrides would come after it).
3. Merging is OmegaConf's: mappings merge key by key, anything else replaces, except that
   `???` never replaces an existing value; merging a mapping with a list is an error.
4. Directives run on the merged result, before any interpolation is resolved:
   `_delete_key: a,b` drops sibling keys; `_inherit_from: x.y` (or the string form
   `${inherit_from:x.y}`) takes the source's value as a base under its own keys and removes
   the source; `_copy` does the same and keeps the source. Sources are read from a snapshot
   taken before any directive ran.
5. Then an instance whose `responses_api_models` holds `dummy_model` beside another
   implementation gets the dummy's values merged under the first other one, which wins
   where both set a key; `dummy_model` goes.

Every value carries the Origin of the file that supplied it, so a value moved by a
directive or overridden by an include still points at the line a person has to change.
"""

from __future__ import annotations

import difflib
import errno
import os
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from gym_scaffold.config.loader import DataPath, Document, load_file
from gym_scaffold.config.model import MANDATORY, Composed, EnvFile, Inherited, Origin, Unresolved
from gym_scaffold.problem import Problem, Severity
from gym_scaffold.rules import config_directive, config_include, config_merge, env_file

CONFIG_PATHS = "config_paths"
INHERIT_FROM = "_inherit_from"
COPY = "_copy"
DELETE_KEY = "_delete_key"
DUMMY_MODEL = "dummy_model"
_INHERIT_STR = "${inherit_from:"
_COPY_STR = "${copy:"

RULE_INCLUDE = config_include.ID
RULE_DIRECTIVE = config_directive.ID
RULE_MERGE = config_merge.ID
RULE_ENV = env_file.ID

NEAR_MISS = 0.85  # a directive source this close to an existing key is a typo, not elsewhere


def load_env_file(path: Path, display: str) -> EnvFile:
    return EnvFile(path, load_file(path, display))


# --------------------------------------------------------------------------------------
# A value tree that carries origins


class _At(NamedTuple):
    """Where a value (or a key) of a document was written, looked up only when asked:
    most values are never reported, and the document's positions are then never read."""

    doc: Document
    path: DataPath
    of_key: bool

    def origin(self) -> Origin | None:
        table = self.doc.key_positions if self.of_key else self.doc.value_positions
        position = table.get(self.path)
        return None if position is None else Origin(self.doc.path, position[0], position[1])


def _origin(where: _At | Origin | None) -> Origin | None:
    return where.origin() if isinstance(where, _At) else where


class _OriginTable(Mapping):
    """DataPath -> Origin, each worked out when it is asked for."""

    def get(self, path: DataPath, default: Any = None) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getitem__(self, path: DataPath) -> Origin:
        origin = self.get(path)
        if origin is None:
            raise KeyError(path)
        return origin

    def __contains__(self, path: object) -> bool:
        return isinstance(path, tuple) and self.get(path) is not None

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _MergedOrigins(_OriginTable):
    """The origins of a merged tree: paths to _At (or Origin), resolved when asked."""

    __slots__ = ("_where",)

    def __init__(self, where: dict[DataPath, Any]) -> None:
        self._where = where

    def get(self, path: DataPath, default: Any = None) -> Any:
        origin = _origin(self._where.get(path))
        return default if origin is None else origin

    def __iter__(self) -> Iterator[DataPath]:
        return (path for path in self._where if path in self)


class _Node:
    """One value with where it was written. Trees built from documents are shared and
    never mutated; the directive pass works on its own copy."""

    __slots__ = ("value", "origin", "keys")

    def __init__(self, value: Any, origin: _At | Origin | None, keys: dict | None = None) -> None:
        self.value = value  # dict[str, _Node] | list[_Node] | scalar
        self.origin = origin
        self.keys = keys  # where the keys of a mapping are written: dict[key, _At | Origin | None]


def _build(doc: Document) -> _Node:
    def build(value: Any, path: DataPath) -> _Node:
        if isinstance(value, dict):
            children = {}
            key_origins = {}
            for k, v in value.items():
                child = path + (k,)
                children[k] = build(v, child)
                key_origins[k] = _At(doc, child, True)
            return _Node(children, _At(doc, path, False), key_origins)
        if isinstance(value, list):
            return _Node([build(v, path + (i,)) for i, v in enumerate(value)], _At(doc, path, False))
        return _Node(value, _At(doc, path, False))

    return build(doc.data, ())


def _tree(doc: Document) -> tuple[_Node, bool]:
    """The document as a tree of nodes with origins, and whether it holds a directive
    (once per document: an included file is merged into many configs)."""
    found = doc.memo.get("compose.tree")
    if found is None:
        node = _build(doc)
        found = doc.memo["compose.tree"] = (node, _has_directives(node))
    return found


def _is_dict(node: _Node | None) -> bool:
    return node is not None and isinstance(node.value, dict)


def _is_list(node: _Node | None) -> bool:
    return node is not None and isinstance(node.value, list)


def _problem(where: _At | Origin | None, fallback: str, rule: str, message: str, hint: str | None = None,
             severity: Severity = Severity.ERROR) -> Problem:
    origin = _origin(where)
    if origin is None:
        return Problem(fallback, 0, 0, severity, rule, message, hint)
    return Problem(origin.path, origin.line, origin.column, severity, rule, message, hint)


def _merge(dest: _Node | None, src: _Node, problems: list[Problem]) -> _Node:
    """OmegaConf.merge(dest, src) for untyped configs; inputs are not modified."""
    if dest is None:
        return src
    if src.value == MANDATORY and isinstance(src.value, str):
        return dest  # `???` never overrides a value that is there
    if isinstance(dest.value, dict) and isinstance(src.value, dict):
        merged = dict(dest.value)
        keys = dict(dest.keys or {})
        for k, v in src.value.items():
            merged[k] = _merge(merged.get(k), v, problems)
            keys[k] = (src.keys or {}).get(k) or keys.get(k)
        return _Node(merged, src.origin or dest.origin, keys)
    if (_is_dict(dest) and _is_list(src)) or (_is_list(dest) and _is_dict(src)):
        kinds = ("a mapping", "a list") if _is_dict(dest) else ("a list", "a mapping")
        earlier = _origin(dest.origin)
        where = f" (the earlier one is at {earlier.path}:{earlier.line})" if earlier else ""
        problems.append(
            _problem(
                src.origin,
                "",
                RULE_MERGE,
                f"{kinds[1]} here overrides {kinds[0]}{where}: OmegaConf refuses to merge them",
                "use the same shape in both files",
            )
        )
    return src


def _copy(node: _Node) -> _Node:
    """A mutable deep copy (origins are immutable and shared)."""
    if isinstance(node.value, dict):
        return _Node({k: _copy(v) for k, v in node.value.items()}, node.origin, dict(node.keys or {}))
    if isinstance(node.value, list):
        return _Node([_copy(v) for v in node.value], node.origin)
    return _Node(node.value, node.origin)


def _flatten(node: _Node, composed: Composed) -> Any:
    origins: dict[DataPath, Any] = {}
    key_origins: dict[DataPath, Any] = {}
    composed.origins, composed.key_origins = _MergedOrigins(origins), _MergedOrigins(key_origins)

    def walk(n: _Node, path: DataPath) -> Any:
        if n.origin is not None:
            origins[path] = n.origin
        value = n.value
        if value.__class__ is dict:
            out = {}
            keys = n.keys or {}
            for k, child in value.items():
                p = path + (k,)
                ko = keys.get(k)
                if ko is not None:
                    key_origins[p] = ko
                cv = child.value
                if cv.__class__ is dict or cv.__class__ is list:
                    out[k] = walk(child, p)
                else:
                    if child.origin is not None:
                        origins[p] = child.origin
                    out[k] = cv
            return out
        if value.__class__ is list:
            return [walk(child, path + (i,)) for i, child in enumerate(value)]
        return value

    return walk(node, ())


# --------------------------------------------------------------------------------------
# config_paths


def _within(path: str, roots: Sequence[str]) -> bool:
    for root in roots:
        prefix = root if root.endswith(os.sep) else root + os.sep
        if path == root or path.startswith(prefix):
            return True
    return False


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


class _Refused(NamedTuple):
    """A config_paths entry that names something NeMo Gym cannot use: never read."""

    message: str
    hint: str


_NOT_THERE = (errno.ENOENT, errno.ENOTDIR)


def _find_include(entry: str, roots: Sequence[Path]) -> Path | _Refused | None:
    """The file an entry names (the first root holding it), a refusal, or None if missing.

    Only metadata is looked at here (stat never blocks, even on a FIFO); nothing outside
    the roots is ever opened.
    """
    searched = ", ".join(str(r) for r in roots) or "(no roots)"
    lexical_roots = [os.path.normpath(os.path.abspath(r)) for r in roots]
    candidate = Path(entry)
    paths = [candidate] if candidate.is_absolute() else [Path(root) / candidate for root in roots]
    inside = [p for p in paths if _within(os.path.normpath(os.path.abspath(p)), lexical_roots)]
    if not inside:
        if candidate.is_absolute():
            message = f"config_paths entry '{entry}' is an absolute path outside the repository"
        elif paths:
            shown = os.path.normpath(os.path.abspath(paths[0]))
            message = f"config_paths entry '{entry}' climbs out of the repository (to {shown})"
        else:
            message = f"config_paths entry '{entry}' has no root to resolve against"
        hint = (
            "a committed config has to work in every checkout, so it only includes files inside "
            "the repository (or a NEMO_GYM_EXTRA_ROOTS folder): move the file there and include it "
            f"by its path from the repository root (roots: {searched})"
        )
        try:  # what it is, for the message: stat only, it is never opened
            mode = os.stat(paths[0]).st_mode if paths else stat.S_IFREG
        except (OSError, ValueError):
            mode = stat.S_IFREG
        if not stat.S_ISREG(mode):
            message += f"; it is {_kind(mode)}, not a regular file"
            hint = (
                "NeMo Gym reads each entry as a YAML file: include one inside the repository "
                f"(roots: {searched})"
            )
        return _Refused(message, hint)
    real_roots: list[str] | None = None
    for path in inside:
        try:
            mode = os.stat(path).st_mode
        except ValueError:  # a NUL in the entry
            return None
        except OSError as exc:
            if exc.errno in _NOT_THERE:
                if os.path.islink(path):
                    try:
                        target = f"it points at '{os.readlink(path)}': "
                    except OSError:
                        target = ""
                    return _Refused(
                        f"config_paths entry '{entry}' is a symbolic link to a file that does not exist",
                        f"{target}fix the link or include the file itself",
                    )
                continue
            return _Refused(
                f"config_paths entry '{entry}' cannot be read: {exc.strerror or exc}",
                "NeMo Gym would fail to open it at start-up",
            )
        if real_roots is None:
            real_roots = [os.path.realpath(r) for r in lexical_roots]
        real = os.path.realpath(path)
        if not _within(real, real_roots):
            return _Refused(
                f"config_paths entry '{entry}' leads outside the repository through a symbolic link "
                f"(to {real})",
                "a committed config has to work in every checkout: include a file inside the repository "
                "(or a NEMO_GYM_EXTRA_ROOTS folder), not a link to a file elsewhere",
            )
        if not stat.S_ISREG(mode):
            hint = (
                "name a YAML file inside it"
                if stat.S_ISDIR(mode)
                else "NeMo Gym reads each entry as a YAML file: point it at one"
            )
            message = f"config_paths entry '{entry}' is not a regular file: it is {_kind(mode)}"
            return _Refused(message, hint)
        return path
    return None


def _include_hint(entry: str, roots: Sequence[Path]) -> str:
    """A did-you-mean for a missing include: close names in the nearest existing folder."""
    rel = Path(entry)
    searched = ", ".join(str(r) for r in roots) or "(no roots)"
    bases = [rel] if rel.is_absolute() else [root / rel for root in roots]
    for base in bases:
        parent = base.parent
        missing: list[str] = [base.name]
        while not parent.is_dir() and parent != parent.parent:
            missing.insert(0, parent.name)
            parent = parent.parent
        if not parent.is_dir():
            continue
        try:
            names = sorted(p.name for p in parent.iterdir())
        except OSError:
            continue
        names = [name for name in names if name != missing[0]]  # never "did you mean" itself
        close = difflib.get_close_matches(missing[0], names, n=1, cutoff=0.6)
        if close:
            guess = parent / close[0]
            for part in missing[1:]:
                guess = guess / part
            for root in roots:
                try:
                    shown = guess.relative_to(root)
                    break
                except ValueError:
                    continue
            else:
                shown = guess
            return f"did you mean '{shown.as_posix()}'? (looked under: {searched})"
    return f"paths are relative to the repository root; looked under: {searched}"


def _cache_key(path: Path) -> str:
    # Lexical, not resolve(): cheap, and the same file spelled two ways is rare here.
    return os.path.normpath(os.path.abspath(path))


def _load(path: Path, display: Callable[[Path], str], cache: dict[Path, Document]) -> Document:
    doc = cache.get(path)
    if doc is None:
        doc = load_file(path, display(path))
        cache[path] = doc
    return doc


def _includes_of(doc: Document, problems: list[Problem]) -> list[tuple[int, str]]:
    data = doc.data
    if not isinstance(data, dict) or CONFIG_PATHS not in data:
        return []
    entries = data[CONFIG_PATHS]
    if entries is None:
        return []
    if not isinstance(entries, list):
        problems.append(
            doc.problem(
                (CONFIG_PATHS,),
                RULE_INCLUDE,
                f"config_paths must be a list of paths, not {type(entries).__name__}",
                hint="write each path as a list item: config_paths: [path/to/config.yaml]",
            )
        )
        return []
    out = []
    for i, entry in enumerate(entries):
        if isinstance(entry, str) and entry.strip():
            out.append((i, entry))
        else:
            problems.append(
                doc.problem((CONFIG_PATHS, i), RULE_INCLUDE, f"config_paths entry {entry!r} is not a path")
            )
    return out


def _collect(
    files: Sequence[Path],
    roots: Sequence[Path],
    display: Callable[[Path], str],
    cache: dict[Path, Document],
    problems: list[Problem],
    includes: dict[tuple, Path | _Refused | None],
) -> tuple[list[Document], list[Document]]:
    """(documents in load order, documents in merge order)."""
    docs: list[Document] = []
    children: list[list[int]] = []
    # Every entry that reached a file: (including document, entry position, entry, included).
    edges: list[tuple[int, int, str, int]] = []
    seen: dict[str, int] = {}
    queue: list[Path] = []
    for file in files:
        key = _cache_key(file)
        if key in seen:
            continue
        seen[key] = len(queue)
        queue.append(file)
        children.append([])
    roots_count = len(queue)
    index = 0
    while index < len(queue):
        doc = _load(queue[index], display, cache)
        docs.append(doc)
        for position, entry in _includes_of(doc, problems):
            found = includes.get((entry, *roots), _MISSING)
            if found is _MISSING:
                found = includes[(entry, *roots)] = _find_include(entry, roots)
            if found is None:
                problems.append(
                    doc.problem(
                        (CONFIG_PATHS, position),
                        RULE_INCLUDE,
                        f"config_paths entry '{entry}' was not found",
                        hint=_include_hint(entry, roots),
                    )
                )
                continue
            if isinstance(found, _Refused):
                problems.append(
                    doc.problem((CONFIG_PATHS, position), RULE_INCLUDE, found.message, hint=found.hint)
                )
                continue
            key = _cache_key(found)
            if key in seen:  # NeMo Gym loads each path once
                edges.append((index, position, entry, seen[key]))
                continue
            seen[key] = len(queue)
            queue.append(found)
            children.append([])
            children[index].append(len(queue) - 1)
            edges.append((index, position, entry, len(queue) - 1))
        index += 1
    _check_edges(docs, edges, problems)
    # Post-order over the include tree: a file after everything it pulled in.
    order: list[int] = []
    pending: list[tuple[int, bool]] = [(i, False) for i in reversed(range(roots_count))]
    while pending:
        i, done = pending.pop()
        if done:
            order.append(i)
            continue
        pending.append((i, True))
        pending.extend((c, False) for c in reversed(children[i]))
    return docs, [docs[i] for i in order]


def _check_edges(
    docs: list[Document], edges: list[tuple[int, int, str, int]], problems: list[Problem]
) -> None:
    """Problems of the including entries: an included file that is not a mapping, and
    every entry on an include cycle.

    Each is reported in the file that holds the entry, so the check of any one file on a
    cycle (which shows only that file's problems) reports the cycle at its own entry.
    """
    for source, position, entry, target in edges:
        data = docs[target].data
        if data is None or isinstance(data, dict):
            continue  # empty (merged as {}), a mapping, or unreadable (reported in that file)
        what = "a list" if isinstance(data, list) else f"a single {_scalar_kind(data)}"
        problems.append(
            docs[source].problem(
                (CONFIG_PATHS, position),
                RULE_INCLUDE,
                f"config_paths entry '{entry}' holds {what}, not a mapping: NeMo Gym cannot merge it",
                hint="an included config is a mapping of instances (`name: {server_type: {...}}`); "
                "NeMo Gym stops at start-up on this one",
            )
        )
    component = _components(len(docs), [(s, t) for s, _, _, t in edges])
    successors: dict[int, list[int]] = {}
    for source, _, _, target in edges:
        successors.setdefault(source, []).append(target)
    for source, position, entry, target in edges:
        if component[source] != component[target]:
            continue
        chain = _path(target, source, successors, component)
        names = [docs[i].path for i in [source, *chain]]
        if len(names) > 8:
            names = [*names[:4], "...", *names[-3:]]
        problems.append(
            docs[source].problem(
                (CONFIG_PATHS, position),
                RULE_INCLUDE,
                f"config_paths entry '{entry}' is part of an include cycle: {' -> '.join(names)}",
                hint="NeMo Gym loads each file once, so it skips the repeat; remove one entry of the cycle",
                severity=Severity.WARNING,
            )
        )


def _scalar_kind(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "value"


def _components(count: int, edges: list[tuple[int, int]]) -> list[int]:
    """Strongly connected components (Tarjan, iterative): the component of each node."""
    successors: list[list[int]] = [[] for _ in range(count)]
    for source, target in edges:
        successors[source].append(target)
    index = [-1] * count
    low = [0] * count
    on_stack = [False] * count
    component = [-1] * count
    stack: list[int] = []
    counter = 0
    components = 0
    for start in range(count):
        if index[start] != -1:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack[node] = True
            recurse = False
            while i < len(successors[node]):
                nxt = successors[node][i]
                i += 1
                if index[nxt] == -1:
                    work.append((node, i))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if on_stack[nxt]:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component[member] = components
                    if member == node:
                        break
                components += 1
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return component


def _path(start: int, goal: int, successors: dict[int, list[int]], component: list[int]) -> list[int]:
    """A shortest include path start -> ... -> goal inside their component."""
    if start == goal:
        return [goal]
    previous = {start: start}
    frontier = [start]
    while frontier:
        nxt_frontier = []
        for node in frontier:
            for nxt in successors.get(node, ()):
                if nxt in previous or component[nxt] != component[start]:
                    continue
                previous[nxt] = node
                if nxt == goal:
                    path = [goal]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return path[::-1]
                nxt_frontier.append(nxt)
        frontier = nxt_frontier
    return [start, goal]  # not reached: a component's members reach each other


# --------------------------------------------------------------------------------------
# Composing without merging: most files share no top-level key with the files merged
# with them and hold no directive. Their composed data is then the union of the
# documents' top-level mappings, and origins are read from the documents' own position
# tables on demand, with no tree built.


class _PositionTable(_OriginTable):
    """DataPath -> Origin, read from the Document that supplied each top-level key."""

    __slots__ = ("_owners", "_root", "_of_key")

    def __init__(self, owners: dict[Any, Document], root: Document, *, of_key: bool) -> None:
        self._owners, self._root, self._of_key = owners, root, of_key

    def _table(self, path: DataPath) -> tuple[Document | None, dict]:
        doc = self._owners.get(path[0]) if path else (None if self._of_key else self._root)
        if doc is None:
            return None, {}
        return doc, doc.key_positions if self._of_key else doc.value_positions

    def get(self, path: DataPath, default: Any = None) -> Any:
        doc, table = self._table(path)
        position = table.get(path)
        return default if position is None else Origin(doc.path, position[0], position[1])

    def __iter__(self) -> Iterator[DataPath]:
        for doc in {id(doc): doc for doc in self._owners.values()}.values():
            table = doc.key_positions if self._of_key else doc.value_positions
            yield from (path for path in table if path and self._owners.get(path[0]) is doc)
        if not self._of_key and () in self._root.value_positions:
            yield ()



def _data_has_directives(doc: Document) -> bool:
    found = doc.memo.get("compose.directives")
    if found is not None:
        return found
    stack = [doc.data]
    found = False
    while stack and not found:
        value = stack.pop()
        if value.__class__ is dict:
            found = INHERIT_FROM in value or COPY in value or DELETE_KEY in value or DUMMY_MODEL in value
            stack.extend(value.values())
        elif value.__class__ is list:
            stack.extend(value)
        elif value.__class__ is str:
            found = value.startswith(_INHERIT_STR) or value.startswith(_COPY_STR)
    doc.memo["compose.directives"] = found
    return found


def _union(sources: list[Document]) -> tuple[dict, dict[Any, Document]] | None:
    """The merge of `sources` when no top-level key is in two of them and none holds a
    directive (merging is then a union); None otherwise."""
    data: dict = {}
    owners: dict[Any, Document] = {}
    for doc in sources:
        for key in doc.data:
            if key in owners:
                return None
            owners[key] = doc
        if _data_has_directives(doc):
            return None
        data.update(doc.data)
    return data, owners


# --------------------------------------------------------------------------------------
# Directives


class _Missing:
    pass


_MISSING = _Missing()


def _has_directives(node: _Node) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        v = n.value
        if isinstance(v, dict):
            if INHERIT_FROM in v or COPY in v or DELETE_KEY in v:
                return True
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, str) and (v.startswith(_INHERIT_STR) or v.startswith(_COPY_STR)):
            return True
    return False


def _is_typo(name: str, candidate: str) -> bool:
    """Nearly the same name, nearly the same length (the cheap upper bounds first)."""
    if abs(len(candidate) - len(name)) > 2:
        return False
    matcher = difflib.SequenceMatcher(None, name, candidate)
    return matcher.real_quick_ratio() >= NEAR_MISS and matcher.quick_ratio() >= NEAR_MISS and matcher.ratio() >= NEAR_MISS


class _Directives:
    def __init__(self, root: _Node, frozen: _Node, problems: list[Problem], fallback: str, *,
                 run_mode: bool, includes_failed: bool) -> None:
        self.root = root
        self.frozen = frozen
        self.problems = problems
        self.fallback = fallback
        self.run_mode = run_mode
        self.includes_failed = includes_failed
        self.unresolved: list[Unresolved] = []
        self.inherited: list[Inherited] = []

    def report(self, origin: Origin | None, message: str, hint: str | None = None) -> None:
        self.problems.append(_problem(origin, self.fallback, RULE_DIRECTIVE, message, hint))

    def index(self, start: _Node, path: list[str]) -> Any:
        """The node at `path`, _MISSING for a `???` on the way, or (depth, node) where it stops."""
        node = start
        for depth, key in enumerate(path):
            if not isinstance(node.value, dict) or key not in node.value:
                return (depth, node)
            node = node.value[key]
            if isinstance(node.value, str) and node.value == MANDATORY:
                return _MISSING
        return node

    def not_found(self, where: DataPath, directive: str, target: str, stop: tuple[int, _Node],
                  origin: Origin | None) -> None:
        path = target.split(".")
        depth, node = stop
        walked = ".".join(path[:depth])
        prefix = f"{walked}." if walked else ""
        close: list[str] = []
        best = 0.0
        if isinstance(node.value, dict):
            holder = where[depth] if len(where) > depth and where[:depth] == tuple(path[:depth]) else None
            candidates = [str(k) for k in node.value if k != holder]
            # Most sources missing here come from another config of the run and are not
            # reported: the did-you-mean is worked out only when a typo makes it likely.
            if self.run_mode or any(_is_typo(path[depth], candidate) for candidate in candidates):
                close = difflib.get_close_matches(path[depth], candidates, n=3, cutoff=0.6)
                for candidate in close:  # a typo: nearly the same name, nearly the same length
                    if abs(len(candidate) - len(path[depth])) <= 2:
                        best = max(best, difflib.SequenceMatcher(None, path[depth], candidate).ratio())
        if close:
            hint = "did you mean " + ", ".join(f"'{prefix}{c}'" for c in close) + "?"
        elif walked and not isinstance(node.value, dict):
            hint = f"'{walked}' is not a mapping"
        else:
            hint = "define it in this file or in a file of its config_paths"
        message = f"{directive}: '{target}' does not exist in the merged config"
        if self.run_mode or (best >= NEAR_MISS and not self.includes_failed):
            self.report(origin, message, hint)
        else:
            # Another config of the run may define it (or a missing include did, which is
            # reported already): rules decide, as for an unresolved interpolation.
            self.unresolved.append(Unresolved(where, f"{directive}: {target}", target, "directive"))

    def restore(self, v: _Node, directive: str, target: str, origin: Origin | None, prop: bool) -> None:
        """Put back a directive whose source was not found: the body's base is unknown."""
        if prop and isinstance(v.value, dict):
            v.value = {directive: _Node(target, origin), **v.value}
            v.keys = {directive: None, **(v.keys or {})}

    def walk(self, mapping: _Node, path: DataPath = ()) -> None:
        for k, v in list(mapping.value.items()):
            is_dict = isinstance(v.value, dict)
            to_delete: set[str] = set()
            is_delete = is_dict and DELETE_KEY in v.value
            if is_delete:
                spec = v.value.pop(DELETE_KEY)
                (v.keys or {}).pop(DELETE_KEY, None)
                if isinstance(spec.value, str):
                    to_delete = {s.strip() for s in spec.value.split(",")}
                else:
                    self.report(spec.origin, f"{DELETE_KEY} must be a comma-separated string of keys, not {spec.value!r}")
                for key in [key for key in to_delete if key in v.value]:
                    del v.value[key]
                    (v.keys or {}).pop(key, None)
                    to_delete.discard(key)
            if is_dict:
                self.walk(v, path + (k,))
            elif isinstance(v.value, list):
                for i, item in enumerate(v.value):
                    if isinstance(item.value, dict):
                        self.walk(item, path + (k, i))

            value = v.value
            swap_str = isinstance(value, str) and value.startswith(_INHERIT_STR)
            copy_str = isinstance(value, str) and value.startswith(_COPY_STR)
            swap_prop = is_dict and INHERIT_FROM in value
            copy_prop = is_dict and COPY in value
            is_swap = swap_str or swap_prop
            if not (is_swap or copy_str or copy_prop):
                continue
            spec_origin = v.origin
            target: Any = None
            directive = INHERIT_FROM if is_swap else COPY
            if swap_str:
                target = value[len(_INHERIT_STR):].removesuffix("}")
            elif swap_prop:
                spec = value.pop(INHERIT_FROM)
                (v.keys or {}).pop(INHERIT_FROM, None)
                target, spec_origin = spec.value, spec.origin or v.origin
            if copy_str:
                target, directive = value[len(_COPY_STR):].removesuffix("}"), COPY
            elif copy_prop:
                spec = value.pop(COPY)
                (v.keys or {}).pop(COPY, None)
                target, spec_origin, directive = spec.value, spec.origin or v.origin, COPY
            if not isinstance(target, str) or not target:
                self.report(spec_origin, f"{directive} needs a dotted path such as 'policy_model', not {target!r}")
                continue
            keys = target.split(".")
            parent = self.index(self.root, keys[:-1])
            if isinstance(parent, tuple):
                self.not_found(path + (k,), directive, target, parent, spec_origin)
                self.restore(v, directive, target, spec_origin, swap_prop or copy_prop)
                continue
            source = self.index(self.frozen, keys)
            if isinstance(source, tuple):
                self.not_found(path + (k,), directive, target, source, spec_origin)
                self.restore(v, directive, target, spec_origin, swap_prop or copy_prop)
                continue
            if is_swap and parent is not _MISSING and isinstance(parent.value, dict):
                parent.value.pop(keys[-1], None)
                (parent.keys or {}).pop(keys[-1], None)
            if parent is _MISSING or source is _MISSING:
                mapping.value[k] = _Node(MANDATORY, v.origin)
                continue
            own = frozenset(_leaf_paths(v)) if swap_prop or copy_prop else frozenset()
            if swap_prop or copy_prop:
                source = _merge(source, v, self.problems)
            new = _copy(source)
            mapping.value[k] = new
            self.inherited.append(Inherited(path + (k,), directive, target, own))
            if is_delete:
                for key in sorted(to_delete):
                    if isinstance(new.value, dict) and key in new.value:
                        del new.value[key]
                        (new.keys or {}).pop(key, None)
                    else:
                        self.report(
                            spec_origin,
                            f"{DELETE_KEY}: '{key}' is not a key of '{k}' after {directive} '{target}'",
                            "NeMo Gym fails on a key to delete that does not exist: remove it from the list",
                        )


def _merge_dummy_models(root: _Node, problems: list[Problem]) -> _Node:
    """NeMo Gym's step after the directives: an instance whose model servers hold
    `dummy_model` beside another implementation gets the dummy's values under the first
    other one, which wins where both set a key. Trees may be shared between configs:
    changed nodes are new ones."""
    changed: dict = {}
    for instance, top in root.value.items():
        models = top.value.get("responses_api_models") if isinstance(top.value, dict) else None
        if models is None or not isinstance(models.value, dict) or DUMMY_MODEL not in models.value:
            continue
        others = [key for key in models.value if key != DUMMY_MODEL]
        if not others:  # NeMo Gym has nothing to merge it into (it fails on this one itself)
            continue
        merged = dict(models.value)
        dummy = merged.pop(DUMMY_MODEL)
        merged[others[0]] = _merge(dummy, merged[others[0]], problems)
        keys = {k: v for k, v in (models.keys or {}).items() if k != DUMMY_MODEL}
        new_models = _Node(merged, models.origin, keys)
        changed[instance] = _Node({**top.value, "responses_api_models": new_models}, top.origin, top.keys)
    if not changed:
        return root
    return _Node({**root.value, **changed}, root.origin, root.keys)


def _leaf_paths(node: _Node, path: DataPath = ()) -> Iterator[DataPath]:
    """The paths of every value of `node` that is not a mapping (lists are values: they replace)."""
    if isinstance(node.value, dict):
        for key, child in node.value.items():
            yield from _leaf_paths(child, path + (key,))
    else:
        yield path


# --------------------------------------------------------------------------------------


def compose(
    files: Sequence[Path],
    *,
    roots: Sequence[Path],
    env: EnvFile | None,
    display: Callable[[Path], str],
    cache: dict[Path, Document] | None = None,
    run_mode: bool = False,
    includes: dict | None = None,
) -> Composed:
    """Merge `files` (and what they include) and env.yaml the way NeMo Gym does.

    `files` are the run's config files in order (`+config_paths=[...]`), `roots` the search
    roots for `config_paths` entries in order. Problems of reading a file stay in its
    Document (`composed.documents`, `env.document`); `composed.problems` holds what
    composing found (rules config-include, config-merge, config-directive, env-file).
    `cache` holds the documents read so far, `includes` where each `config_paths` entry
    was found: both may be shared by every compose() of one run (files do not change
    while it lasts). `config_paths` stays in the data as merged (a reserved key, never a server); the
    env.yaml's own `config_paths` is not followed, as `+config_paths` on the command line
    takes precedence over it in NeMo Gym.

    A directive naming a source that does not exist is an error (rule config-directive)
    when it is a near miss of an existing key or in `run_mode` (`validate --config ...`,
    where the run is complete); otherwise, like an unresolved interpolation, it is recorded
    in `composed.unresolved` (kind "directive") and the instance keeps its directive key.
    After a missing include it is never reported: the include is the cause.
    """
    cache = {} if cache is None else cache
    includes = {} if includes is None else includes
    problems: list[Problem] = []
    documents, merge_order = _collect(files, list(roots), display, cache, problems, includes)
    sources = [doc for doc in merge_order if isinstance(doc.data, dict)]
    env_data = env.document.data if env is not None else None
    if isinstance(env_data, dict):
        sources.append(env.document)
    union = _union(sources) if sources and (env_data is None or isinstance(env_data, dict)) else None
    if union is not None:
        data, owners = union
        composed = Composed(
            data=data,
            origins=_PositionTable(owners, sources[-1], of_key=False),
            key_origins=_PositionTable(owners, sources[-1], of_key=True),
            env=env,
            documents=documents,
            problems=problems,
            env_keys=frozenset(str(k) for k in env_data) if isinstance(env_data, dict) else frozenset(),
        )
        return composed
    root: _Node | None = None
    directives_seen = False
    for doc in merge_order:
        if isinstance(doc.data, dict):
            tree, flag = _tree(doc)
            root = _merge(root, tree, problems)
            directives_seen = directives_seen or flag
    env_keys: frozenset[str] = frozenset()
    if env is not None:
        data = env.document.data
        if isinstance(data, dict):
            tree, flag = _tree(env.document)
            root = _merge(root, tree, problems)
            directives_seen = directives_seen or flag
            env_keys = frozenset(str(k) for k in data)
        elif data is not None:
            problems.append(
                Problem(
                    env.document.path,
                    *env.document.position(()),
                    Severity.ERROR,
                    RULE_ENV,
                    f"env.yaml must be a mapping of keys to values, not {type(data).__name__}",
                    "write one `key: value` per line, e.g. policy_base_url: https://api.openai.com/v1",
                )
            )
    if root is None or not isinstance(root.value, dict):
        root = _Node({}, None, {})
    unresolved: list[Unresolved] = []
    inherited: list[Inherited] = []
    if directives_seen:
        live = _copy(root)
        fallback = documents[0].path if documents else ""
        includes_failed = any(p.rule == RULE_INCLUDE and p.severity == Severity.ERROR for p in problems)
        directives = _Directives(live, root, problems, fallback, run_mode=run_mode, includes_failed=includes_failed)
        directives.walk(live)
        unresolved = directives.unresolved
        inherited = directives.inherited
        root = live
    root = _merge_dummy_models(root, problems)
    composed = Composed(
        data={}, env=env, documents=documents, problems=problems, env_keys=env_keys, unresolved=unresolved,
        inherited=inherited,
    )
    composed.data = _flatten(root, composed)
    return composed
