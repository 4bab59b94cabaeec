"""`config_paths` includes: finding each entry, loading the files, and include cycles.

Relative entries resolve against the search roots in order; an entry leading outside
every root (absolute, `..`, a symbolic link) is refused and never read. Problems of an
entry (including a cycle, reported at every entry on it) are located at the entry.
"""

from __future__ import annotations

import difflib
import errno
import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from gym_scaffold.config.loader import Document, load_file
from gym_scaffold.problem import Problem, Severity
from gym_scaffold.rules import config_include

CONFIG_PATHS = "config_paths"
RULE_INCLUDE = config_include.ID

_NOT_LOOKED_UP = object()  # an entry not looked for yet in the run's `includes`



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


def collect_includes(
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
            found = includes.get((entry, *roots), _NOT_LOOKED_UP)
            if found is _NOT_LOOKED_UP:
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
