"""The `validate` pipeline: discover -> load -> compose -> resolve -> check -> Result.

Click-free: `commands/validate.py` parses options into `ValidateOptions` and hands the
`Result` to a reporter.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gym_scaffold import discover
from gym_scaffold.cache import Outcome, ResultCache, derived_schema_dir
from gym_scaffold.config.model import SERVER_TYPES, ConfigView, EnvFile
from gym_scaffold.parallel import fork_map
from gym_scaffold.problem import Problem, Severity
from gym_scaffold.result import Result
from gym_scaffold.rules import env_file, not_a_config, unreadable
from gym_scaffold.safeio import ReadOnce

if TYPE_CHECKING:
    from gym_scaffold.config.loader import Document


@dataclass
class ValidateOptions:
    paths: list[Path] = field(default_factory=list)  # files or directories; none = whole checkout
    configs: list[Path] = field(default_factory=list)  # one run, as `ng_run +config_paths=[...]`
    env_file: Path | None = None
    cwd: Path = field(default_factory=Path.cwd)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    env_check_only: bool = False  # only the env.yaml / git check (the always-run hook)
    check_git: bool = True
    use_cache: bool = True
    # Files never checked, not even when named (the project configuration's `exclude`).
    exclude: Callable[[Path], bool] | None = None
    # Each file's bytes, read once during the run (a fresh one per run when None); the
    # caller may pass one to read suppressions from the same bytes afterwards (settle/).
    read: ReadOnce | None = None


def run_root(options: ValidateOptions) -> Path:
    """The NeMo Gym root of a run: the one above its first config or path, or the cwd."""
    anchor = options.configs[0] if options.configs else (options.paths[0] if options.paths else options.cwd)
    return discover.find_root(anchor if anchor.is_absolute() else options.cwd / anchor)


EXTRA_ROOTS = "NEMO_GYM_EXTRA_ROOTS"  # where NeMo Gym looks for configs before the root
_GRAVITY = {Severity.NOTE: 0, Severity.WARNING: 1, Severity.ERROR: 2}

# A whole checkout is checked on several cores; small runs (a commit) stay in one process.
PARALLEL_MIN_FILES = 64
BATCH = 4  # files per task handed to a worker


def looks_like_config(data: Any) -> bool:
    """A NeMo Gym config has includes or at least one instance with a server type (or a near miss)."""
    if not isinstance(data, dict):
        return False
    if "config_paths" in data:
        return True
    for value in data.values():
        if not isinstance(value, dict):
            continue
        for key in value:
            if key in SERVER_TYPES or key in ("_inherit_from", "_copy"):
                return True
            if isinstance(key, str) and _near_server_type(key):
                return True
    return False


def _near_server_type(key: str) -> bool:
    import difflib  # only for keys that are not server types; most runs never need it

    return bool(difflib.get_close_matches(key, SERVER_TYPES, n=1, cutoff=0.8))


class Validator:
    """One validate run; shares loaded files across every file it checks."""

    def __init__(self, options: ValidateOptions) -> None:
        self.options = options
        self.cwd = options.cwd
        self.root = run_root(options)
        self.roots = [*self._extra_roots(), self.root]
        self.loaded: dict[Path, Document] = {}  # every YAML file read in this run
        self.includes: dict = {}  # where each config_paths entry was found (compose)
        self._display: dict[Path, str] = {}
        self._shown_paths: dict[str, Path] = {}  # the other way round
        self.result = Result()
        # the result cache and the checkout index share one read of each file
        self.read = options.read if options.read is not None else ReadOnce()
        self.run_cache: dict = {}  # ConfigView.run_cache
        self.results_cache = ResultCache(self.root, options.environ, self.read) if options.use_cache else None
        # Instance name -> server types over the whole checkout (checkout.py); built in run().
        self.index: Mapping[str, frozenset[str]] | None = None
        self.derived_cache = derived_schema_dir(options.environ) if options.use_cache else None

    def _extra_roots(self) -> list[Path]:
        # NeMo Gym looks in NEMO_GYM_EXTRA_ROOTS first (comma separated).
        value = self.options.environ.get(EXTRA_ROOTS, "")
        return [Path(part) for part in value.split(",") if part.strip()]

    def display(self, path: Path) -> str:
        shown = self._display.get(path)
        if shown is None:
            shown = self._display[path] = discover.display_path(path, self.cwd)
            self._shown_paths[shown] = path
        return shown

    def _abs(self, path: Path) -> Path:
        return path if path.is_absolute() else self.cwd / path

    # -- env.yaml ---------------------------------------------------------------------

    @cached_property
    def env_path(self) -> Path:
        if self.options.env_file is not None:
            return self._abs(self.options.env_file)
        return self.root / discover.ENV_FILE_NAME

    def load_env(self) -> EnvFile | None:
        path = self.env_path
        if self.options.env_file is None and not path.exists():
            # A fresh clone has no env.yaml: references to it are accepted. A directory, a
            # FIFO or an unreadable file there is reported: NeMo Gym would fail on it.
            return None
        if path.is_dir():
            self._add(Problem(self.display(path), 0, 0, Severity.ERROR, env_file.ID, "env.yaml is a directory"))
            return None
        from gym_scaffold.config.compose import load_env_file

        return load_env_file(path, self.display(path))

    def check_env(self, env: EnvFile | None) -> ConfigView | None:
        """env.yaml's own problems, its values, and that git ignores it. Returns env.yaml's
        view (None without env.yaml)."""
        view = None
        if env is not None:
            self._add_all(env.document.problems)
            if env.document.data is not None and not isinstance(env.document.data, dict):
                self._add(env.document.problem((), env_file.ID, "env.yaml must be a mapping of keys to values"))
            self.result.files_checked.append(env.document.path)
            view = self._view_of_env(env)
            if not self.options.env_check_only:
                # The always-run hook guards git hygiene only: a value still to fill in
                # (`policy_api_key: ???`, as `new --no-input` writes) must not fail every commit.
                self._add_all(self._run_rules(view))
        if self.options.check_git:
            self._add_all(self._env_git_problems(env))
        return view

    def _env_git_problems(self, env: EnvFile | None) -> list[Problem]:
        from gym_scaffold import gitcheck

        # env.yaml wherever NeMo Gym would look for it: the root and the extra roots.
        env_paths = sorted({root / discover.ENV_FILE_NAME for root in self.roots} | ({self.env_path} if env else set()))
        repo = gitcheck.find_repo_root(self.root)
        return list(gitcheck.check_env_ignored(repo, env_paths, display=self.display))

    def empty_view(self) -> ConfigView:
        """The view of a run with no config and no env.yaml."""
        return self._view(self._compose([], None), set(), checkout=None)

    def _view_of_env(self, env: EnvFile) -> ConfigView:
        composed = self._compose([], env)
        return self._view(composed, {env.document.path}, checkout=None)

    # -- configs ------------------------------------------------------------------------

    def _reuse(self, path: Path) -> Result | None:
        """The file's outcome from the result cache, when none of its inputs changed."""
        store = self.results_cache
        hit = store.get(path, self.index) if store is not None else None
        if hit is None:
            return None
        shown = self.display(path)
        if any(problem.path != shown for problem in hit.problems):
            return None  # (a run from another directory: its problems name the file otherwise)
        if hit.status == "checked":
            return Result(files_checked=[shown], problems=list(hit.problems))
        return Result(files_skipped=[shown], problems=list(hit.problems))

    def check_file(self, path: Path, env: EnvFile | None) -> tuple[Result, Outcome | None]:
        """Check one file: its result, and what the result cache keeps of it (None without
        a cache). Reads this run's shared state, never changes its result: it runs in the
        workers of a parallel run."""
        shown = self.display(path)
        outcome = Result()
        inputs, view = self._check_file(path, shown, env, outcome)
        store = self.results_cache
        if store is None:
            return outcome, None
        status = "skipped" if outcome.files_skipped else "checked"
        reads = view.reads if view is not None else None
        # The roots NeMo Gym looks in come from the environment too.
        environ = (*(view.resolved.environ_read if view is not None else ()), EXTRA_ROOTS)
        return outcome, store.outcome(path, status, outcome.problems, inputs, reads, environ)

    def _check_file(
        self, path: Path, shown: str, env: EnvFile | None, out: Result
    ) -> tuple[list[Path], ConfigView | None]:
        """Check one file into `out`. Returns what its outcome depends on: the YAML files
        read (the view, when there is one, recorded everything else)."""
        from gym_scaffold.config.loader import load_file

        env_inputs = [self.env_path]
        doc = self.loaded.get(path)
        if doc is None:
            doc = self.loaded[path] = load_file(path, shown)
        if doc.problems:
            out.files_checked.append(shown)
            out.problems += doc.problems
            return env_inputs, None
        if doc.data is None or not looks_like_config(doc.data):
            why = "empty file" if doc.data is None else "not a NeMo Gym config (no server instance)"
            out.files_skipped.append(shown)
            out.problems.append(Problem(shown, 0, 0, Severity.NOTE, not_a_config.ID, f"skipped: {why}"))
            return env_inputs, None
        out.files_checked.append(shown)
        composed = self._compose([path], env)
        # A file with config_paths is a run: what its includes do together (two of them on
        # one port) is reported too, at the include that says it.
        reported = {shown}
        if isinstance(doc.data, dict) and doc.data.get("config_paths"):
            reported.update(document.path for document in composed.documents)
            out.problems += [p for document in composed.documents if document.path != shown for p in document.problems]
        view = self._view(composed, reported, checkout=self.index)
        out.problems += [p for p in composed.problems if p.path in reported]
        out.problems += [p for p in view.resolved.problems if p.path in reported]
        out.problems += self._run_rules(view)
        if self.results_cache is None:
            return [], view
        inputs = env_inputs + [self._shown_paths[document.path] for document in composed.documents]
        # Every place an include could be found, so a missing one that appears later counts;
        # only inside the roots: compose refuses (and never reads) includes from elsewhere.
        for document in composed.documents:
            entries = document.data.get("config_paths") if isinstance(document.data, dict) else None
            if isinstance(entries, list):
                inputs += [
                    candidate
                    for root in self.roots
                    for entry in entries
                    if isinstance(entry, str) and self._inside_roots(candidate := root / entry)
                ]
        return inputs, view

    def _walked_root(self, paths: list[Path]) -> bool:
        """Did the walk of one of `paths` (the root or a directory above it) see every
        config file of the root?"""
        return any(path.is_dir() and discover.walk_reaches(path, self.root) for path in map(self._abs, paths))

    def _inside_roots(self, path: Path) -> bool:
        lexical = os.path.normpath(path)
        return any(
            lexical == os.path.normpath(root) or lexical.startswith(os.path.normpath(root) + os.sep)
            for root in self.roots
        )

    def check_run(self, configs: list[Path], env: EnvFile | None) -> ConfigView:
        """`--config A --config B`: one run composed as NeMo Gym composes it; everything
        reported. Returns the run's view (`show` prints it)."""
        files = [self._abs(path) for path in configs]
        composed = self._compose(files, env, run_mode=True)
        shown = {doc.path for doc in composed.documents}
        if env is not None:
            shown.add(env.document.path)
        self.result.files_checked.extend(sorted(shown))
        view = self._view(composed, shown, checkout=None, run_mode=True)
        for doc in composed.documents:
            self._add_all(doc.problems)
        self._add_all(composed.problems)
        self._add_all(view.resolved.problems)
        self._add_all(self._run_rules(view))
        return view

    def check_files(self, files: list[Path], env: EnvFile | None) -> None:
        """Check each file, taking unchanged ones from the result cache. A whole checkout
        is split across CPU cores: a pool of forked workers maps `check_file` over small
        batches (a worker that meets the expensive files, a first derivation or schema,
        does not hold up the others); outcomes are added up in order."""
        pending: list[Path] = []
        for path in files:
            cached = self._reuse(path)
            if cached is None:
                pending.append(path)
            else:
                self.result.merge(cached)
        for path, (outcome, entry) in zip(pending, self._check_all(pending, env), strict=True):
            self.result.merge(outcome)
            if entry is not None and self.results_cache is not None:
                self.results_cache.added[str(path)] = entry

    def _check_all(self, files: list[Path], env: EnvFile | None) -> Iterator[tuple[Result, Outcome | None]]:
        """`check_file` of each of `files`, in order."""
        if len(files) >= PARALLEL_MIN_FILES:
            # Workers are forked: they share what is loaded here (the rules, the schema
            # engine, the checkout index), so load it all once, first.
            if self.index is not None:
                self.index.built()
            _warm_up()
        return fork_map(lambda path: self.check_file(path, env), files, batch=BATCH, min_items=PARALLEL_MIN_FILES)

    def _checkout_index(self, files: list[Path]) -> Any:
        """The checkout index (gym_scaffold/checkout.py) of this run, built on first use."""
        from gym_scaffold import checkout

        options = self.options

        def build() -> checkout.CheckoutIndex:
            if not options.paths:
                everything = files
            elif self._walked_root(options.paths):  # `validate .`: the walk is done already
                everything = sorted(
                    (p for p in files if discover.in_config_dirs(p, self.root)),
                    key=lambda p: discover.config_dir_order(p, self.root),
                )
            else:
                everything = discover.default_targets(self.root)
            paths = [p for p in everything if p.name != discover.ENV_FILE_NAME]
            if self.results_cache is None:
                return checkout.build_index(paths, self.read)
            return self.results_cache.index(paths, lambda: checkout.build_index(paths, self.read))

        return checkout.LazyIndex(build)

    def _compose(self, files: list[Path], env: EnvFile | None, *, run_mode: bool = False) -> Any:
        """compose(), sharing this run's loaded files and include lookups."""
        from gym_scaffold.config.compose import compose

        return compose(
            files,
            roots=self.roots,
            env=env,
            display=self.display,
            cache=self.loaded,
            includes=self.includes,
            run_mode=run_mode,
        )

    def _view(
        self, composed: Any, reported: set[str], *, checkout: Any, run_mode: bool = False
    ) -> ConfigView:
        """What the rules see: `composed` resolved, problems limited to `reported` files."""
        from gym_scaffold.config.resolve import resolve

        return ConfigView(
            composed=composed,
            resolved=resolve(composed, self.options.environ),
            reported_files=frozenset(reported),
            run_mode=run_mode,
            root=self.root,
            checkout=checkout,
            derived_cache=self.derived_cache,
            run_cache=self.run_cache,
        )

    def _run_rules(self, view: ConfigView) -> list[Problem]:
        return [problem for rule in _config_rules() for problem in rule.module.check(view) if problem is not None]

    # -- bookkeeping ------------------------------------------------------------------

    def _add(self, problem: Problem) -> None:
        self.result.problems.append(problem)

    def _add_all(self, problems: Iterable[Problem]) -> None:
        self.result.problems.extend(problems)

    def run(self) -> Result:
        options = self.options
        env = self.load_env()
        if options.env_check_only:
            self.check_env(env)
            return self._finish()
        if options.configs:
            self.check_run(options.configs, env)
            self.check_env(env)
            return self._finish()
        if options.paths:
            files, errors = discover.expand(self._abs(path) for path in options.paths)
        else:
            files, errors = discover.default_targets(self.root), []
        for path, reason in errors:
            self._add(Problem(self.display(path), 0, 0, Severity.ERROR, unreadable.ID, reason))
        # env.yaml is checked with the whole checkout, when named among PATHS, or when given.
        env_named = not options.paths or options.env_file is not None
        env_resolved = discover.resolved(self.env_path)
        configs = []
        for path in files:
            if path.name == discover.ENV_FILE_NAME or (
                options.env_file is not None and discover.resolved(path) == env_resolved
            ):
                env_named = True  # env.yaml is checked once, below
            elif options.exclude is None or not options.exclude(path):
                configs.append(path)
        self.index = self._checkout_index(files)
        self.check_files(configs, env)
        if self.results_cache is not None:
            self.results_cache.save()
        if env_named:
            self.check_env(env)
        return self._finish()

    def finish(self) -> Result:
        """The result of the checks run so far (`show` runs them one by one)."""
        return self._finish()

    def _finish(self) -> Result:
        # Several views can report the same problem (a file and a run that includes it),
        # one of them perhaps with another hint or severity: the graver one is kept.
        kept: dict[tuple, Problem] = {}
        for problem in self.result.problems:
            key = (problem.path, problem.line, problem.column, problem.rule, problem.message)
            known = kept.get(key)
            if known is None or _GRAVITY[problem.severity] > _GRAVITY[known.severity]:
                kept[key] = problem
        self.result.problems = list(kept.values())
        self.result.files_checked.sort()
        self.result.files_skipped.sort()
        return self.result


@cache
def _config_rules() -> tuple:
    from gym_scaffold.rules import all_rules

    return tuple(rule for rule in all_rules() if rule.checks_configs)


def _warm_up() -> None:
    """Load the YAML reader, the rules and the schema engine (before forking workers,
    which then share them)."""
    from gym_scaffold import schemas

    _config_rules()
    schemas.validator(schemas.CONFIG_FILE)


def run_validate(options: ValidateOptions) -> Result:
    return Validator(options).run()
