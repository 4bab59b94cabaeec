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

The steps live beside it: config/includes.py (1), config/merge.py (3, and the union
shortcut taken when merging would change nothing), config/directives.py (4, 5), on the
value tree of config/origins.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from gym_scaffold.config.directives import Directives, merge_dummy_models, tree_holds_directive
from gym_scaffold.config.includes import RULE_INCLUDE, collect_includes
from gym_scaffold.config.loader import Document, load_file
from gym_scaffold.config.merge import PositionTable, merge_trees, union_of_documents
from gym_scaffold.config.model import Composed, EnvFile, Inherited, Unresolved
from gym_scaffold.config.origins import OriginNode, build_tree, copy_tree, flatten_tree
from gym_scaffold.problem import Problem, Severity
from gym_scaffold.rules import env_file

RULE_ENV = env_file.ID


def load_env_file(path: Path, display: str) -> EnvFile:
    return EnvFile(path, load_file(path, display))


def _tree(doc: Document) -> tuple[OriginNode, bool]:
    """The document as a tree of nodes with origins, and whether it holds a directive
    (once per document: an included file is merged into many configs)."""
    found = doc.memo.get("compose.tree")
    if found is None:
        node = build_tree(doc)
        found = doc.memo["compose.tree"] = (node, tree_holds_directive(node))
    return found


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
    documents, merge_order = collect_includes(files, list(roots), display, cache, problems, includes)
    sources = [doc for doc in merge_order if isinstance(doc.data, dict)]
    env_data = env.document.data if env is not None else None
    if isinstance(env_data, dict):
        sources.append(env.document)
    union = union_of_documents(sources) if sources and (env_data is None or isinstance(env_data, dict)) else None
    if union is not None:
        data, owners = union
        composed = Composed(
            data=data,
            origins=PositionTable(owners, sources[-1], of_key=False),
            key_origins=PositionTable(owners, sources[-1], of_key=True),
            env=env,
            documents=documents,
            problems=problems,
            env_keys=frozenset(str(k) for k in env_data) if isinstance(env_data, dict) else frozenset(),
        )
        return composed
    root: OriginNode | None = None
    directives_seen = False
    for doc in merge_order:
        if isinstance(doc.data, dict):
            tree, flag = _tree(doc)
            root = merge_trees(root, tree, problems)
            directives_seen = directives_seen or flag
    env_keys: frozenset[str] = frozenset()
    if env is not None:
        data = env.document.data
        if isinstance(data, dict):
            tree, flag = _tree(env.document)
            root = merge_trees(root, tree, problems)
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
        root = OriginNode({}, None, {})
    unresolved: list[Unresolved] = []
    inherited: list[Inherited] = []
    if directives_seen:
        live = copy_tree(root)
        fallback = documents[0].path if documents else ""
        includes_failed = any(p.rule == RULE_INCLUDE and p.severity == Severity.ERROR for p in problems)
        directives = Directives(live, root, problems, fallback, run_mode=run_mode, includes_failed=includes_failed)
        directives.walk(live)
        unresolved = directives.unresolved
        inherited = directives.inherited
        root = live
    root = merge_dummy_models(root, problems)
    composed = Composed(
        data={}, env=env, documents=documents, problems=problems, env_keys=env_keys, unresolved=unresolved,
        inherited=inherited,
    )
    composed.data = flatten_tree(root, composed)
    return composed
