"""Typed views of a NeMo Gym configuration as it moves through the pipeline.

    load (Document) -> compose (Composed) -> resolve (Resolved) -> ConfigView -> rules

Paths into data are tuples of keys and list indexes (`DataPath`); every value keeps an
`Origin`, the file and position it was written at, so a problem found after merging and
interpolation still points at the line a person has to change.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from gym_scaffold.problem import Problem, Severity

if TYPE_CHECKING:  # the loader imports PyYAML; a fully cached run never needs it
    from gym_scaffold.config.loader import DataPath, Document

SERVER_TYPES = ("responses_api_models", "resources_servers", "responses_api_agents")

# Top-level keys that are NeMo Gym settings, not server instances.
RESERVED_TOP_LEVEL_KEYS = frozenset(
    """config_paths default_host head_server disallowed_ports head_server_deps python_version
    pip_install_verbose use_absolute_ip uv_pip_set_python skip_venv_if_present hf_token
    ray_head_node_address port_range_low port_range_high dry_run
    model_endpoint_readiness_timeout_seconds allow_openai_version_skew uv_cache_dir uv_venv_dir
    results_dir cache_dir nemo_gym_log_dir verbose json query observability_enabled
    model_call_capture_dir token_id_capture component_name skip_verification
    skip_verification_reward entrypoint _inherit_from _copy""".split()
)

MANDATORY = "???"  # OmegaConf's "supplied later" marker

_SERVERS = "gym_scaffold.servers"  # ConfigView.servers(), found once per view


class Origin(NamedTuple):
    """Where a value (or a key) was written. (A NamedTuple: a config has thousands.)"""

    path: str  # display path of the file
    line: int
    column: int


@dataclass
class EnvFile:
    """The env.yaml in effect: its own document and its top-level data."""

    path: Path
    document: Document

    @property
    def data(self) -> dict:
        return self.document.data if isinstance(self.document.data, dict) else {}


@dataclass
class Reads:
    """What checking a view read besides the YAML files it composed, recorded where it
    was read: by ConfigView's file-system questions and its checkout index. The result
    cache (gym_scaffold/cache.py) keeps an outcome only while each of these answers the
    same; a rule that asks through the view cannot leave one out."""

    files: set[str] = field(default_factory=set)  # whose contents (or absence) mattered
    dirs: set[str] = field(default_factory=set)  # whether each is a directory mattered
    listings: set[str] = field(default_factory=set)  # the names in each directory mattered
    lookups: dict = field(default_factory=dict)  # checkout index: name -> its answer


@dataclass
class Composed:
    """Config files merged the way NeMo Gym merges them, before interpolation."""

    data: dict
    origins: Mapping[DataPath, Origin] = field(default_factory=dict)  # value positions
    key_origins: Mapping[DataPath, Origin] = field(default_factory=dict)  # key positions
    documents: list[Document] = field(default_factory=list)  # every file read, in order
    problems: list[Problem] = field(default_factory=list)  # includes, directives
    env: EnvFile | None = None
    env_keys: frozenset[str] = frozenset()  # keys that only env.yaml supplied
    # `_inherit_from` / `_copy` sources not found (kind "directive", key = the dotted source)
    # that compose did not report: one config of a run may take them from another. The
    # instance then keeps its directive key, the mark of a body with an unknown base.
    unresolved: list[Unresolved] = field(default_factory=list)
    # Where an `_inherit_from` / `_copy` took effect, for telling inherited values from own.
    inherited: list[Inherited] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Inherited:
    """A mapping (or value) at `path` built by a directive from the source `target`."""

    path: DataPath
    directive: str  # "_inherit_from" or "_copy"
    target: str  # the dotted source, as written
    own: frozenset  # paths (relative to `path`) the body itself wrote; the rest is the source's


@dataclass(frozen=True, slots=True)
class Unresolved:
    """An interpolation whose key resolves nowhere."""

    path: DataPath  # the value holding the interpolation
    expression: str  # the whole `${...}` text
    key: str  # the key it looked for, e.g. "policy_api_key" or "judge.base_url"
    # "key": no such key in the merged config; "missing": the key holds `???`;
    # "env": `${oc.env:VAR}` with VAR unset and no default (`key` is then VAR);
    # "directive": an `_inherit_from` / `_copy` source not found (in Composed.unresolved).
    kind: str = "key"


@dataclass
class Resolved:
    """Composed data with interpolations substituted where they resolve.

    A value that cannot be resolved yet keeps its text and its path is in `deferred`,
    like a `???` marker: both mean "the value arrives later" and satisfy any type.
    """

    data: Any
    deferred: set[DataPath] = field(default_factory=set)
    unresolved: list[Unresolved] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # bad syntax, cycles
    environ_read: set[str] = field(default_factory=set)  # every variable oc.env looked up


@dataclass(frozen=True, slots=True)
class Server:
    """One server instance: `instance -> server_type -> implementation -> body`."""

    instance: str
    server_type: str
    implementation: str
    body: dict

    @property
    def path(self) -> DataPath:
        return (self.instance, self.server_type, self.implementation)


class Listing(NamedTuple):
    directories: tuple[str, ...]
    files: tuple[str, ...]


def listing(path: str) -> Listing:
    """The directories and the files in `path`, each sorted by name; both empty when it
    cannot be listed."""
    directories, files = [], []
    try:
        for entry in os.scandir(path):
            (directories if entry.is_dir() else files).append(entry.name)
    except OSError:
        return Listing((), ())
    return Listing(tuple(sorted(directories)), tuple(sorted(files)))


def iter_servers(data: Any) -> Iterator[Server]:
    """Every well-formed server instance at the top level of `data`."""
    if not isinstance(data, dict):
        return
    for instance, value in data.items():
        if not isinstance(value, dict) or len(value) == 0:
            continue
        types = [k for k in value if k in SERVER_TYPES]
        if len(types) != 1:
            continue
        impls = value[types[0]]
        if not isinstance(impls, dict):
            continue
        for impl, body in impls.items():
            if isinstance(body, dict):
                yield Server(str(instance), types[0], str(impl), body)


@dataclass
class ConfigView:
    """What the rules see: one file (or one `--config` run) composed and resolved.

    `reported_files` limits problems to the files being checked: a file included through
    `config_paths` is context here and is checked on its own.
    """

    composed: Composed
    resolved: Resolved
    reported_files: frozenset[str]
    run_mode: bool = False  # True for `validate --config A --config B`
    # Work shared between rules on the same view (e.g. one schema pass, read by several rules).
    cache: dict = field(default_factory=dict)
    # The NeMo Gym root (implementation directories, app.py sources); None for text on its own.
    root: Path | None = None
    # Instance name -> server types, over every config file of the checkout (a whole-checkout
    # run); None when the run does not look beyond the view.
    checkout: Mapping[str, frozenset[str]] | None = None
    # Where schemas derived from app.py sources are kept between runs; None: derive afresh.
    derived_cache: Path | None = None
    # Shared by every view of one run: what the rules learnt about the file system, which
    # does not change while a run lasts (a checkout has hundreds of servers in few directories).
    run_cache: dict = field(default_factory=dict)
    reads: Reads = field(default_factory=Reads)

    def __post_init__(self) -> None:
        if self.checkout is not None:
            from gym_scaffold.checkout import RecordedIndex

            self.checkout = RecordedIndex(self.checkout, self.reads.lookups)

    # -- the file system, as rules may ask about it: recorded, and answered once per run --

    def _stat(self, kind: str, path: str, answer: Callable[[str], Any]) -> Any:
        memo = self.run_cache.setdefault("gym_scaffold.fs." + kind, {})
        if path not in memo:
            memo[path] = answer(path)
        return memo[path]

    def is_file(self, path: str) -> bool:
        self.reads.files.add(path)
        return self._stat("file", path, os.path.isfile)

    def is_dir(self, path: str) -> bool:
        self.reads.dirs.add(path)
        return self._stat("dir", path, os.path.isdir)

    def listing(self, path: str) -> Listing:
        """The directories and the files in `path`, by name; both empty when it cannot be listed."""
        self.reads.listings.add(path)
        return self._stat("listing", path, listing)

    def files_read(self, paths: Iterable[str]) -> None:
        """Record files read some other way (app.py sources read by the schema deriver)."""
        self.reads.files.update(map(str, paths))

    @property
    def env(self) -> EnvFile | None:
        return self.composed.env

    def origin(self, path: DataPath, *, of_key: bool = False) -> Origin | None:
        """Where `path` was written; for a path that does not exist, its nearest parent."""
        table = self.composed.key_origins if of_key else self.composed.origins
        while True:
            if path in table:
                return table[path]
            if of_key and path in self.composed.origins:
                return self.composed.origins[path]
            if not path:
                return None
            path = path[:-1]

    def problem(
        self,
        path: DataPath,
        rule: str,
        message: str,
        *,
        severity: Severity = Severity.ERROR,
        hint: str | None = None,
        of_key: bool = False,
    ) -> Problem | None:
        """A Problem at `path`, or None when the value was written in a file not reported here."""
        origin = self.origin(path, of_key=of_key)
        if origin is None or origin.path not in self.reported_files:
            return None
        return Problem(origin.path, origin.line, origin.column, severity, rule, message, hint)

    def servers(self) -> Iterator[Server]:
        found = self.cache.get(_SERVERS)
        if found is None:
            found = self.cache[_SERVERS] = list(iter_servers(self.resolved.data))
        return iter(found)

    def is_deferred(self, path: DataPath) -> bool:
        return path in self.resolved.deferred
