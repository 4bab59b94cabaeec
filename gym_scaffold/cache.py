"""Remembering each file's problems between runs, the way ruff and mypy do.

`validate` over a whole checkout reads hundreds of files that rarely change between two
commits. An entry is reused only when every input of that file's check is the same: the
file, every file it includes, env.yaml (byte for byte), and everything else the check
read, as recorded where it was read (`config.model.Reads`: files, directories and the
checkout index asked through the view; the environment variables the resolver looked up),
and gym-scaffold's own code and schemas. The cache lives in the user's cache directory
(`cache_home`), never inside the user's repository.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gym_scaffold.config.model import Reads, listing
from gym_scaffold.problem import Problem
from gym_scaffold.safeio import ReadOnce

try:  # hashlib's own module, without loading OpenSSL first: milliseconds on every run
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter without it
    from hashlib import blake2b

_FORMAT = 3
_PACKAGE = Path(__file__).resolve().parent


@dataclass
class Outcome:
    """What checking one file produced, and what it depended on."""

    status: str  # "checked" or "skipped"
    problems: list[Problem]
    inputs: dict[str, str] = field(default_factory=dict)  # file -> digest ("" = absent)
    dirs: dict[str, bool] = field(default_factory=dict)  # path -> whether it is a directory
    listings: dict[str, str] = field(default_factory=dict)  # directory -> digest of its names
    environ_names: tuple[str, ...] = ()  # the environment variables the resolver looked up
    environ: str = ""  # digest of their values (never the values: they may be keys)
    # Names the check looked up in the checkout index, with the answer it got
    # (gym_scaffold/checkout.py): the entry holds while the index answers the same.
    lookups: dict = field(default_factory=dict)


def cache_home(environ: Mapping[str, str]) -> Path:
    """gym-scaffold's cache directory: under $XDG_CACHE_HOME when the run's environment
    sets it, else the platform's own (~/.cache, ~/Library/Caches, %LOCALAPPDATA%)."""
    if environ.get("XDG_CACHE_HOME"):
        return Path(environ["XDG_CACHE_HOME"]) / "gym-scaffold"
    import platformdirs

    return Path(platformdirs.user_cache_dir("gym-scaffold", appauthor=False))


def derived_schema_dir(environ: Mapping[str, str]) -> Path:
    """Where schemas derived from app.py sources are kept (gym_scaffold/derive.py)."""
    return cache_home(environ) / "derived"


def digest(data: bytes) -> str:
    """A short content digest (128-bit BLAKE2b, hex), for cache keys."""
    return blake2b(data, digest_size=16).hexdigest()


def code_fingerprint() -> str:
    """Changes whenever gym-scaffold's code or schemas change (also in an editable install)."""
    parts = []
    for base in (_PACKAGE, _PACKAGE.parent / "schemas", _PACKAGE / "schemas"):
        if base.is_dir():
            for path in sorted(base.rglob("*")):
                if path.suffix in (".py", ".json"):
                    stat = path.stat()
                    parts.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    return digest("\n".join(parts).encode())


class ResultCache:
    def __init__(self, root: Path, environ: Mapping[str, str], read: ReadOnce | None = None) -> None:
        self.read = read if read is not None else ReadOnce()
        self._seen: dict[str, str] = {}  # path -> digest of its contents
        self.file = cache_home(environ) / f"validate-{digest(str(root.resolve()).encode())}.pickle"
        self.environ = environ
        self.fingerprint = code_fingerprint()
        self.entries: dict[str, Outcome] = {}
        self.added: dict[str, Outcome] = {}
        # The checkout index (gym_scaffold/checkout.py) and the digest of the files it was
        # built from; `index_changed` when this run built it afresh.
        self.stored_index: tuple[str, Any] | None = None
        self.index_changed = False
        try:
            with self.file.open("rb") as handle:
                stored = pickle.load(handle)
            if stored.get("format") == _FORMAT and stored.get("code") == self.fingerprint:
                self.entries = stored["entries"]
                self.stored_index = stored.get("index")
        except Exception:  # noqa: BLE001 - a missing or damaged cache is an empty one
            self.entries = {}
            self.stored_index = None

    def _input(self, path: str) -> str:
        """The digest of a file, "" when absent (read once per run)."""
        seen = self._seen.get(path)
        if seen is None:
            # Never a blocking open (a FIFO among the inputs) nor an unbounded read
            # (/dev/zero); each input once per run, however many files share it.
            data = self.read(path)
            seen = self._seen[path] = "" if data is None else digest(data)
        return seen

    def _listing(self, path: str) -> str:
        return digest(repr(listing(path)).encode())

    def _environ_digest(self, names: Iterable[str]) -> str:
        return digest(repr([(name, self.environ.get(name)) for name in sorted(set(names))]).encode())

    def get(self, path: Path, index: Mapping | None = None) -> Outcome | None:
        entry = self.entries.get(str(path))
        if entry is None:
            return None
        if entry.lookups:
            from gym_scaffold.checkout import lookups_match

            if not lookups_match(entry.lookups, index):
                return None
        if any(self._input(name) != recorded for name, recorded in entry.inputs.items()):
            return None
        if any(os.path.isdir(name) != recorded for name, recorded in entry.dirs.items()):
            return None
        if any(self._listing(name) != recorded for name, recorded in entry.listings.items()):
            return None
        if self._environ_digest(entry.environ_names) != entry.environ:
            return None
        return entry

    def outcome(
        self,
        path: Path,
        status: str,
        problems: list[Problem],
        inputs: Iterable[Path | str],
        reads: Reads | None = None,
        environ_names: Iterable[str] = (),
    ) -> Outcome:
        """`path`'s outcome as the cache keeps it (in `added`, by the caller), with what it
        depended on: `inputs` (the YAML files and env.yaml), what the view recorded
        (`reads`) and the variables the resolver read."""
        reads = reads if reads is not None else Reads()
        files = {str(path), *map(str, inputs), *reads.files}
        names = tuple(sorted(set(environ_names)))
        return Outcome(
            status,
            list(problems),
            inputs={name: self._input(name) for name in files},
            dirs={name: os.path.isdir(name) for name in reads.dirs},
            listings={name: self._listing(name) for name in reads.listings},
            environ_names=names,
            environ=self._environ_digest(names),
            lookups=dict(reads.lookups),
        )

    def index(self, paths: list[Path], build: Callable[[], Any]) -> Any:
        """The checkout index over `paths`: the stored one while every file it was built
        from is byte-identical (their digests are needed for the outcomes anyway)."""
        key = digest("\n".join(f"{path}\0{self._input(str(path))}" for path in paths).encode())
        if self.stored_index is not None and self.stored_index[0] == key:
            return self.stored_index[1]
        built = build()
        self.stored_index, self.index_changed = (key, built), True
        return built

    def save(self) -> None:
        if not self.added and not self.index_changed:
            return
        self.entries.update(self.added)
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.file.with_suffix(f".{os.getpid()}.tmp")
            stored = {"format": _FORMAT, "code": self.fingerprint, "entries": self.entries, "index": self.stored_index}
            with temporary.open("wb") as handle:
                pickle.dump(stored, handle)
            os.replace(temporary, self.file)  # atomic: concurrent hooks never see half a file
        except OSError:
            pass  # a read-only home directory only costs speed
