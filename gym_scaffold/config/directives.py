"""NeMo Gym's directives on a merged tree: `_delete_key`, `_inherit_from`, `_copy`, and
the `dummy_model` merge that follows them.

Sources are read from a snapshot taken before any directive ran. A source that does not
exist is an error when it is a near miss of an existing key or the run is complete;
otherwise it is recorded as unresolved, since another config of the run may define it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from gym_scaffold.config.loader import DataPath
from gym_scaffold.config.merge import merge_trees
from gym_scaffold.config.model import (
    COPY,
    COPY_CALL,
    DELETE_KEY,
    DUMMY_MODEL,
    INHERIT_CALL,
    INHERIT_FROM,
    MANDATORY,
    Inherited,
    Origin,
    Unresolved,
)
from gym_scaffold.config.origins import OriginNode, copy_tree, problem_at
from gym_scaffold.problem import Problem
from gym_scaffold.rules import config_directive

RULE_DIRECTIVE = config_directive.ID

NEAR_MISS = 0.85  # a directive source this close to an existing key is a typo, not elsewhere



class _Missing:
    pass


_MISSING = _Missing()


def tree_holds_directive(node: OriginNode) -> bool:
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
        elif isinstance(v, str) and (v.startswith(INHERIT_CALL) or v.startswith(COPY_CALL)):
            return True
    return False


def _is_typo(name: str, candidate: str) -> bool:
    """Nearly the same name, nearly the same length (the cheap upper bounds first)."""
    if abs(len(candidate) - len(name)) > 2:
        return False
    matcher = difflib.SequenceMatcher(None, name, candidate)
    return matcher.real_quick_ratio() >= NEAR_MISS and matcher.quick_ratio() >= NEAR_MISS and matcher.ratio() >= NEAR_MISS


class Directives:
    def __init__(self, root: OriginNode, frozen: OriginNode, problems: list[Problem], fallback: str, *,
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
        self.problems.append(problem_at(origin, self.fallback, RULE_DIRECTIVE, message, hint))

    def index(self, start: OriginNode, path: list[str]) -> Any:
        """The node at `path`, _MISSING for a `???` on the way, or (depth, node) where it stops."""
        node = start
        for depth, key in enumerate(path):
            if not isinstance(node.value, dict) or key not in node.value:
                return (depth, node)
            node = node.value[key]
            if isinstance(node.value, str) and node.value == MANDATORY:
                return _MISSING
        return node

    def not_found(self, where: DataPath, directive: str, target: str, stop: tuple[int, OriginNode],
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

    def restore(self, v: OriginNode, directive: str, target: str, origin: Origin | None, prop: bool) -> None:
        """Put back a directive whose source was not found: the body's base is unknown."""
        if prop and isinstance(v.value, dict):
            v.value = {directive: OriginNode(target, origin), **v.value}
            v.keys = {directive: None, **(v.keys or {})}

    def walk(self, mapping: OriginNode, path: DataPath = ()) -> None:
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
            swap_str = isinstance(value, str) and value.startswith(INHERIT_CALL)
            copy_str = isinstance(value, str) and value.startswith(COPY_CALL)
            swap_prop = is_dict and INHERIT_FROM in value
            copy_prop = is_dict and COPY in value
            is_swap = swap_str or swap_prop
            if not (is_swap or copy_str or copy_prop):
                continue
            spec_origin = v.origin
            target: Any = None
            directive = INHERIT_FROM if is_swap else COPY
            if swap_str:
                target = value[len(INHERIT_CALL):].removesuffix("}")
            elif swap_prop:
                spec = value.pop(INHERIT_FROM)
                (v.keys or {}).pop(INHERIT_FROM, None)
                target, spec_origin = spec.value, spec.origin or v.origin
            if copy_str:
                target, directive = value[len(COPY_CALL):].removesuffix("}"), COPY
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
                mapping.value[k] = OriginNode(MANDATORY, v.origin)
                continue
            own = frozenset(_leaf_paths(v)) if swap_prop or copy_prop else frozenset()
            if swap_prop or copy_prop:
                source = merge_trees(source, v, self.problems)
            new = copy_tree(source)
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


def merge_dummy_models(root: OriginNode, problems: list[Problem]) -> OriginNode:
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
        merged[others[0]] = merge_trees(dummy, merged[others[0]], problems)
        keys = {k: v for k, v in (models.keys or {}).items() if k != DUMMY_MODEL}
        new_models = OriginNode(merged, models.origin, keys)
        changed[instance] = OriginNode({**top.value, "responses_api_models": new_models}, top.origin, top.keys)
    if not changed:
        return root
    return OriginNode({**root.value, **changed}, root.origin, root.keys)


def _leaf_paths(node: OriginNode, path: DataPath = ()) -> Iterator[DataPath]:
    """The paths of every value of `node` that is not a mapping (lists are values: they replace)."""
    if isinstance(node.value, dict):
        for key, child in node.value.items():
            yield from _leaf_paths(child, path + (key,))
    else:
        yield path
