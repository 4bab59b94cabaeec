"""Changing a user's file without disturbing a byte it did not mean to change.

`validate --fix` edits files full of comments, odd quoting, CRLF line endings and a BOM.
Nothing here parses or re-dumps YAML: a file is read once as bytes, edited as text at
exact character spans (the loader's positions say where), encoded back with the BOM it
had, and written atomically (a temporary file in the same directory, then a rename) with
its mode and owner, only if it still holds the bytes that were read and only inside the
checkout. A diff of what would change never shows more of a key than its last four
characters.
"""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gym_scaffold.safeio import NotReadable, read_regular
from gym_scaffold.secrets import scrub

BOM = b"\xef\xbb\xbf"
NEW_FILE_MODE = 0o644  # before the umask, as `touch` creates files
PRIVATE_FILE_MODE = 0o600  # env.yaml: it holds keys


class EditError(Exception):
    """An edit that cannot be made (the text says why, for one line of output)."""


@dataclass(frozen=True)
class Source:
    """The contents of one file as read: bytes, and the text they decode to (BOM apart)."""

    path: Path  # the file to write: symbolic links already followed
    raw: bytes | None  # None: the file does not exist yet
    text: str
    bom: bytes = b""

    @classmethod
    def read(cls, path: Path) -> Source:
        """`path` read as UTF-8 text; a missing file reads as empty with raw None."""
        try:
            raw = read_regular(path)
        except FileNotFoundError:
            return cls(path, None, "")
        except (OSError, NotReadable) as exc:
            raise EditError(
                f"cannot read {path.name}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        bom = BOM if raw.startswith(BOM) else b""
        try:
            text = raw[len(bom) :].decode("utf-8")
        except UnicodeDecodeError:
            raise EditError(f"{path.name} is not UTF-8 text") from None
        return cls(path, raw, text, bom)

    @property
    def newline(self) -> str:
        """The line ending the file uses (that of its first line; LF for a new file)."""
        end = self.text.find("\n")
        return "\r\n" if end > 0 and self.text[end - 1] == "\r" else "\n"

    def encode(self, text: str) -> bytes:
        return self.bom + text.encode("utf-8")


@dataclass(frozen=True, order=True)
class Replacement:
    """Replace text[start:end] (character offsets into Source.text) with `text`."""

    start: int
    end: int
    text: str


def apply(text: str, replacements: list[Replacement]) -> str:
    """`text` with every replacement made; overlapping replacements are an EditError."""
    out, last = [], 0
    for item in sorted(set(replacements)):
        if item.start < last:
            raise EditError("two fixes change the same text")
        out += [text[last : item.start], item.text]
        last = item.end
    out.append(text[last:])
    return "".join(out)


def append_line(text: str, line: str, newline: str = "\n") -> str:
    """`text` with `line` added as its last line. A file that ends without a line break
    keeps ending without one; an empty file gets one after the line."""
    if not text:
        return line + newline
    if text.endswith(("\n", "\r")):
        return text + line + newline
    return text + newline + line


# -- where writing is allowed ---------------------------------------------------------------


def inside(path: str | os.PathLike[str], top: str | os.PathLike[str]) -> bool:
    """Is `path` (resolved, symbolic links followed) at or below `top` (resolved too)?"""
    real, real_top = os.path.realpath(path), os.path.realpath(top)
    return real == real_top or real.startswith(real_top.rstrip(os.sep) + os.sep)


def writable_target(path: Path, checkout: Path) -> Path:
    """The file to write for `path`: itself, or the file its symbolic link names when that
    is inside the checkout too. EditError for anything outside the checkout."""
    if not inside(path, checkout):
        raise EditError("outside the checkout (or a symbolic link leading out of it): not written")
    return Path(os.path.realpath(path))


# -- writing --------------------------------------------------------------------------------


def write_atomic(
    path: Path, data: bytes, *, expected: bytes | None, mode_if_new: int = NEW_FILE_MODE
) -> None:
    """Replace `path` with `data`, all at once: a reader sees the old file or the new one.

    `expected` is what the file held when it was read (None: it did not exist). When the
    file changed on disk since then, nothing is written (EditError). The new file keeps
    the old one's mode and, where allowed, its owner.
    """
    directory = path.parent
    try:
        current = read_regular(path)
    except FileNotFoundError:
        current = None
    except (OSError, NotReadable) as exc:
        raise EditError(
            f"cannot read it again before writing: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    if current != expected:
        raise EditError("changed on disk since it was read: not written")
    info = os.stat(path) if current is not None else None
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if info is not None:
                os.fchmod(handle.fileno(), stat.S_IMODE(info.st_mode))
                try:
                    os.fchown(handle.fileno(), info.st_uid, info.st_gid)
                except OSError:  # not ours to give away; the mode is what matters
                    pass
            else:
                umask = os.umask(0)
                os.umask(umask)
                os.fchmod(handle.fileno(), mode_if_new & ~umask)
            os.fsync(handle.fileno())
        if info is None:
            # A new file: link, which fails when one appeared meanwhile (never overwrite it).
            try:
                os.link(temporary, path)
            except FileExistsError:
                raise EditError("created on disk meanwhile: not written") from None
            os.unlink(temporary)
        else:
            os.replace(temporary, path)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise


# -- showing a change -----------------------------------------------------------------------


def unified_diff(
    shown: str, old: str | None, new: str, secrets: list[str] | tuple[str, ...] = ()
) -> str:
    """A unified diff of one file (old None: a new file), every line scrubbed of keys."""
    old_lines = (old or "").splitlines()
    new_lines = new.splitlines()
    before = "/dev/null" if old is None else f"a/{shown}"
    lines = difflib.unified_diff(old_lines, new_lines, before, f"b/{shown}", lineterm="", n=3)
    return "".join(scrub(line, secrets) + "\n" for line in lines)
