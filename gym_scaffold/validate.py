"""The `validate` pipeline: discover -> load -> compose -> resolve -> check -> Result.

Click-free: `commands/validate.py` parses options into `ValidateOptions` and hands the
`Result` to a reporter.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gym_scaffold import discover
from gym_scaffold.cache import ResultCache, derived_schema_dir
from gym_scaffold.config.model import INPUTS, LOOKUPS, SERVER_TYPES, ConfigView, EnvFile
from gym_scaffold.problem import Problem, Severity
from gym_scaffold.result import Result
from gym_scaffold.rules import env_file, not_a_config, unreadable
from gym_scaffold.safeio import ReadOnce

if TYPE_CHECKING:
    from gym_scaffold.config.loader import Document


# The YAML reader, composer and resolver are imported on first use: a run whose every
# file is answered from the cache never loads the YAML parser or the schema engine.
def compose(*args: Any, **kwargs: Any) -> Any:
    from gym_scaffold.config.compose import compose as real

    return real(*args, **kwargs)


def load_env_file(*args: Any, **kwargs: Any) -> Any:
    from gym_scaffold.config.compose import load_env_file as real

    return real(*args, **kwargs)


def load_file(*args: Any, **kwargs: Any) -> Any:
    from gym_scaffold.config.loader import load_file as real

    return real(*args, **kwargs)


def resolve(*args: Any, **kwargs: Any) -> Any:
    from gym_scaffold.config.resolve import resolve as real

    return real(*args, **kwargs)


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


# A whole checkout is checked on several cores; small runs (a commit) stay in one process.
PARALLEL_MIN_FILES = 64
MAX_WORKERS = 4


@cache
def _config_rules() -> tuple:
    from gym_scaffold.rules import all_rules

    return tuple(rule for rule in all_rules() if rule.checks_configs)


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
        self._env_checked = False  # check_env runs after check_files (set by run)
        self._git_problems: list[Problem] | None = None  # git's answers, worked out elsewhere
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
        value = self.options.environ.get("NEMO_GYM_EXTRA_ROOTS", "")
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
        env = load_env_file(path, self.display(path))
        return env

    def check_env(self, env: EnvFile | None) -> None:
        """env.yaml's own problems, its values, and that git ignores it."""
        if env is not None:
            self._add_all(env.document.problems)
            if env.document.data is not None and not isinstance(env.document.data, dict):
                self._add(env.document.problem((), env_file.ID, "env.yaml must be a mapping of keys to values"))
            self.result.files_checked.append(env.document.path)
            view = self._view_of_env(env)
            self._run_rules(view)
        if self.options.check_git:
            found = self._git_problems
            self._add_all(found if found is not None else self._env_git_problems(env))

    def _env_git_problems(self, env: EnvFile | None) -> list[Problem]:
        from gym_scaffold import gitcheck

        # env.yaml wherever NeMo Gym would look for it: the root and the extra roots.
        env_paths = sorted({root / discover.ENV_FILE_NAME for root in self.roots} | ({self.env_path} if env else set()))
        repo = gitcheck.find_repo_root(self.root)
        return list(gitcheck.check_env_ignored(repo, env_paths, display=self.display))

    def _view_of_env(self, env: EnvFile) -> ConfigView:
        composed = self._compose([], env)
        return self._view(composed, {env.document.path}, checkout=None)

    # -- configs ------------------------------------------------------------------------

    def _reuse(self, path: Path) -> bool:
        """Take the file's outcome from the result cache when none of its inputs changed."""
        store = self.results_cache
        hit = store.get(path, self.index) if store is not None else None
        shown = self.display(path)
        if hit is None or any(problem.path != shown for problem in hit.problems):
            return False  # (a run from another directory: its problems name the file otherwise)
        (self.result.files_checked if hit.status == "checked" else self.result.files_skipped).append(shown)
        self._add_all(hit.problems)
        return True

    def check_file(self, path: Path, env: EnvFile | None) -> None:
        """Check one file, and remember its outcome in the result cache."""
        store = self.results_cache
        problems_before, skipped_before = len(self.result.problems), len(self.result.files_skipped)
        inputs, lookups = self._check_file(path, self.display(path), env)
        if store is not None:
            status = "skipped" if len(self.result.files_skipped) > skipped_before else "checked"
            store.put(path, status, self.result.problems[problems_before:], inputs, lookups)

    def _check_file(self, path: Path, shown: str, env: EnvFile | None) -> tuple[list[Path], dict]:
        """Check one file. Returns what its outcome depends on: the files read, and the
        names the checkout index answered."""
        env_inputs = [self.env_path]
        doc = self.loaded.get(path)
        if doc is None:
            doc = self.loaded[path] = load_file(path, shown)
        if doc.problems:
            self.result.files_checked.append(shown)
            self._add_all(doc.problems)
            return env_inputs, {}
        if doc.data is None:
            self._skip(shown, "empty file")
            return env_inputs, {}
        if not looks_like_config(doc.data):
            self._skip(shown, "not a NeMo Gym config (no server instance)")
            return env_inputs, {}
        self.result.files_checked.append(shown)
        composed = self._compose([path], env)
        view = self._view(composed, {shown}, checkout=self.index)
        self._add_all(p for p in composed.problems if p.path == shown)
        self._add_all(p for p in view.resolved.problems if p.path == shown)
        self._run_rules(view)
        if self.results_cache is None:
            return [], {}
        inputs = env_inputs + [self._shown_paths[document.path] for document in composed.documents]
        inputs += view.cache.get(INPUTS, ())  # app.py sources, implementation directories
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
        return inputs, view.cache.get(LOOKUPS, {})

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

    def check_run(self, configs: list[Path], env: EnvFile | None) -> None:
        """`--config A --config B`: one run composed as NeMo Gym composes it; everything reported."""
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
        self._run_rules(view)

    def check_files(self, files: list[Path], env: EnvFile | None) -> None:
        """Check each file; a whole checkout is split across CPU cores (forked workers).
        Outcomes in the result cache are taken first: an unchanged checkout forks nothing."""
        files = [path for path in files if not self._reuse(path)]
        workers = min(os.cpu_count() or 1, MAX_WORKERS)
        if workers < 2 or len(files) < PARALLEL_MIN_FILES or not hasattr(os, "fork"):
            for path in files:
                self.check_file(path, env)
            return
        # The checkout index is built once, before forking, rather than once in every
        # worker: in another process, while this one loads the YAML reader, the rules and
        # the schema engine (forked workers share what is loaded before the fork). That
        # process then asks git about env.yaml, if the run checks it.
        index = self.index
        git_wanted = self.options.check_git and self._env_checked and self._git_problems is None
        elsewhere = (index is not None and not index.ready) or git_wanted
        prepared = _in_another_process(lambda: self._prepare_elsewhere(env), None) if elsewhere else (lambda: None)
        self._warm_up()
        found = prepared()
        if found is None:
            if index is not None:
                index.built()  # here, then (the other process failed, or was not needed)
        else:
            built, stored, self._git_problems = found
            self._adopt_index(built, stored)
        # Work is handed out in small batches through a pipe, so a worker that meets the
        # expensive files (a first derivation, a first schema) does not hold up the others.
        size = max(4, -(-len(files) // 8192))  # at most 32 KB of batch numbers: one pipe buffer
        batches = [files[i : i + size] for i in range(0, len(files), size)]
        queue, feed = os.pipe()
        os.write(feed, b"".join(number.to_bytes(4, "little") for number in range(len(batches))))
        os.close(feed)

        def work() -> list[int]:
            done = []
            while len(record := os.read(queue, 4)) == 4:  # reads of one record are atomic
                number = int.from_bytes(record, "little")
                for path in batches[number]:
                    self.check_file(path, env)
                done.append(number)
            return done

        def worker() -> tuple[Result, dict, list[int]]:
            self.result = Result()  # in the worker's process: only its own share
            done = work()
            return self.result, (self.results_cache.added if self.results_cache is not None else {}), done

        workers_started = [_in_another_process(worker, None) for _ in range(1, workers)]
        finished = set(work())
        os.close(queue)
        for worker_result in workers_started:
            shared = worker_result()
            if shared is None:
                continue  # the worker failed: its batches are redone below
            share, added, done = shared
            finished.update(done)
            if self.results_cache is not None:
                self.results_cache.added.update(added)
            self.result.files_checked += share.files_checked
            self.result.files_skipped += share.files_skipped
            self.result.problems += share.problems
        for number, batch in enumerate(batches):
            if number not in finished:
                for path in batch:
                    self.check_file(path, env)

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

    def _adopt_index(self, built: Any, stored: Any) -> None:
        """Use the checkout index another process built, with the result cache's record of it."""
        if built is not None:
            self.index.provide(built)
            if self.results_cache is not None:
                self.results_cache.stored_index, self.results_cache.index_changed = stored

    @staticmethod
    def _warm_up() -> None:
        """Load the YAML reader, the rules and the schema engine (before forking workers,
        which then share them)."""
        from gym_scaffold import derive, schemas  # noqa: F401
        from gym_scaffold.config import compose, loader, resolve  # noqa: F401

        _config_rules()
        schemas.validator(schemas.CONFIG_FILE)

    def _prepare_elsewhere(self, env: EnvFile | None) -> tuple[Any, Any, list[Problem] | None]:
        """For another process: the checkout index and the result cache's record of it,
        and git's answers about env.yaml when the run checks them."""
        index = self.index.built() if self.index is not None and not self.index.ready else None
        store = self.results_cache
        stored = (store.stored_index, store.index_changed) if store is not None else None
        git_wanted = self.options.check_git and self._env_checked and self._git_problems is None
        git = self._env_git_problems(env) if git_wanted else None
        return index, stored, git

    def _compose(self, files: list[Path], env: EnvFile | None, *, run_mode: bool = False) -> Any:
        """compose(), sharing this run's loaded files and include lookups."""
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

    def _run_rules(self, view: ConfigView) -> None:
        for rule in _config_rules():
            self._add_all(p for p in rule.module.check(view) if p is not None)

    # -- bookkeeping ------------------------------------------------------------------

    def _skip(self, shown: str, why: str) -> None:
        self.result.files_skipped.append(shown)
        self._add(Problem(shown, 0, 0, Severity.NOTE, not_a_config.ID, f"skipped: {why}"))

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
        # With no outcome to reuse, another process walks the tree and builds the checkout
        # index, and a third asks git about env.yaml (it mostly waits on git), while this
        # one loads the rules and the schema engine.
        early = asked_git = None
        walks = not options.paths or any(self._abs(path).is_dir() for path in options.paths)
        if walks and hasattr(os, "fork") and (self.results_cache is None or not self.results_cache.entries):
            if options.check_git:
                asked_git = _in_another_process(lambda: self._env_git_problems(env), None)
                self._git_problems = []  # the survey leaves git to that process
            early = _in_another_process(lambda: self._survey(env, build_index=True), None)
            self._warm_up()
        surveyed = early() if early is not None else None
        files, errors, configs, env_named, built, stored, git = surveyed or self._survey(env)
        self._git_problems = asked_git() if asked_git is not None else git  # None: asked later, here
        self.index = self._checkout_index(files)
        for path, reason in errors:
            self._add(Problem(self.display(path), 0, 0, Severity.ERROR, unreadable.ID, reason))
        self._adopt_index(built, stored)
        self._env_checked = env_named
        self.check_files(configs, env)
        if self.results_cache is not None:
            self.results_cache.save()
        if env_named:
            self.check_env(env)
        return self._finish()

    def _survey(self, env: EnvFile | None, *, build_index: bool = False) -> tuple:
        """The files to check and what is known before checking them: (files, unreadable
        PATHS, configs, whether env.yaml is checked, the checkout index and the result
        cache's record of it if `build_index`, git's answers about env.yaml if then asked)."""
        options = self.options
        if options.paths:
            files, errors = discover.expand(self._abs(path) for path in options.paths)
        else:
            files, errors = discover.default_targets(self.root), []
        env_resolved = discover.resolved(self.env_path)
        # env.yaml is checked with the whole checkout, when named among PATHS, or when given.
        env_named = not options.paths or options.env_file is not None
        configs = []
        for path in files:
            if path.name == discover.ENV_FILE_NAME or (
                options.env_file is not None and discover.resolved(path) == env_resolved
            ):
                env_named = True  # env.yaml is checked once, below
            elif options.exclude is None or not options.exclude(path):
                configs.append(path)
        built = stored = git = None
        if build_index and len(configs) >= PARALLEL_MIN_FILES:  # what a run split across workers needs
            self.index, self._env_checked = self._checkout_index(files), env_named
            built, stored, git = self._prepare_elsewhere(env)
        return files, errors, configs, env_named, built, stored, git

    def _finish(self) -> Result:
        # Several views can report the same problem (a file and a run that includes it).
        self.result.problems = list(dict.fromkeys(self.result.problems))
        self.result.files_checked.sort()
        self.result.files_skipped.sort()
        return self.result


def _in_another_process(compute: Callable[[], Any], failed: Any) -> Callable[[], Any]:
    """Run `compute` in a forked process. The function returned waits for its result, or
    gives `failed` when that process could not send one."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the forked process: compute, send the result back, exit at once
        os.close(read_end)
        code = 0
        try:
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump(compute(), pipe)
        except BaseException:  # noqa: BLE001 - the caller falls back on `failed`
            code = 1
        os._exit(code)
    os.close(write_end)

    def result() -> Any:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        if status != 0 or not data:
            return failed
        return pickle.loads(data)

    return result


def run_validate(options: ValidateOptions) -> Result:
    return Validator(options).run()
