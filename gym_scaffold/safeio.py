"""Reading files that came from the repository, which may be anything.

A FIFO named like a config blocks a plain `open()` forever; /dev/zero or a 20 MB data
file fills memory. Every read of a user's file goes through `read_regular`: opened without
blocking, accepted only if it is a regular file, never read past a limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_FILE_BYTES = 1024 * 1024  # Biome's files.maxSize default; NeMo Gym configs are a few KB


class NotReadable(Exception):
    """The path is not a regular file of a sensible size (the text says why)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def read_regular(path: str | os.PathLike[str], limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes.

    Raises OSError when the file cannot be opened or read, NotReadable when it is a
    directory, a FIFO, a socket or a device, or larger than `limit`.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise NotReadable("cannot read: it is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise NotReadable("cannot read: not a regular file (a FIFO, socket or device)")
        too_large = NotReadable(
            f"file larger than {limit // 1024 // 1024} MB: too large to be a NeMo Gym config",
            "NeMo Gym configs are a few KB; keep data files out of the config directories",
        )
        if info.st_size > limit:
            raise too_large
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, 1024 * 1024)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # /proc files and the like report size 0
                raise too_large
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_or_none(path: str | os.PathLike[str], limit: int = MAX_FILE_BYTES) -> bytes | None:
    """`read_regular`, or None for anything it refuses."""
    try:
        return read_regular(path, limit)
    except (OSError, NotReadable):
        return None


class ReadOnce:
    """`read_or_none` that reads each path at most once: during one run the result cache
    and the checkout index look at the same files. (The loader reads with read_regular
    itself: it reports why a file cannot be read.)"""

    def __init__(self) -> None:
        self._contents: dict[str, bytes | None] = {}

    def __call__(self, path: str | os.PathLike[str]) -> bytes | None:
        key = os.fspath(path)
        if key not in self._contents:
            self._contents[key] = read_or_none(key)
        return self._contents[key]


def resolved(path: Path) -> Path:
    """`path.resolve()`, or the absolute path when a symlink loop makes resolving fail."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: Python < 3.13 on a symlink loop
        return Path(os.path.abspath(path))
