"""The baseline: problems a repository already had when it adopted validate.

A problem is recorded by a fingerprint that survives unrelated edits: its file (relative
to the checkout root), its rule, the YAML key path it sits under (not its line, so moving
a block keeps it), and, when it is reported at a value, a short hash of that value (so
changing the bad value reports it again). The same fingerprint may occur several times;
the file records how many, and only that many are hidden.

No API key material goes into the file: values of env.yaml, of keys named like a
credential and anything that looks like a key are never hashed (a short hash of a key
could be brute-forced against a list of candidates).

    {
      "version": 1,
      "problems": [
        {"count": 1, "key": ["policy_model", "responses_api_models", "openai_model",
         "openai_base_url"], "path": "responses_api_models/openai_model/configs/a.yaml",
         "rule": "base-url", "value": "5f1d2c3b4a596877"}
      ]
    }
"""

from __future__ import annotations

import contextlib
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

from gym_scaffold.cache import blake2b  # hashlib's module without OpenSSL's start-up
from gym_scaffold.problem import Problem
from gym_scaffold.safeio import NotReadable, read_regular
from gym_scaffold.settle import memo
from gym_scaffold.settle.project import BaselineError

VERSION = 1
BASELINE_MAX_BYTES = 64 * 1024 * 1024  # some 250,000 problems

# key: value, or - key: value. Group `key` is the key without quotes.
_KEY_LINE = re.compile(
    r"""^(?P<indent>[ \t]*)(?P<dashes>(?:-[ \t]+)*)"""
    r"""(?:"(?P<dq>(?:[^"\\]|\\.)*)"|'(?P<sq>(?:[^']|'')*)'|(?P<plain>[^\s#'"\[\]{},?:-][^#]*?|-[^\s#][^#]*?))"""
    r"""[ \t]*:(?=[ \t]|$)[ \t]*"""
)
_SECRET_NAME = re.compile(r"key|token|secret|passw|credential|auth|cookie|session", re.IGNORECASE)
_COMMENT = re.compile(r"[ \t]+#.*$")
# 12 or more letters and digits in a row, both kinds among them (or 24 of either): what
# keys and tokens are made of (sk-proj-..., nvapi-..., hf_..., base64), never a port, a
# URL's words or a model name.
_TOKEN = re.compile(r"(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{12,}|[A-Za-z0-9]{24,}")

Fingerprint = tuple[str, str, tuple[str, ...], str]  # path, rule, key path, value hash or ""


def _json() -> Any:
    import json  # a run whose baseline is remembered (settle/memo.py) never needs it

    return json


def _parse_line(text: str) -> tuple[str | None, int, int]:
    """(key or None, column where the key starts, column where its value starts), 0-based."""
    match = _KEY_LINE.match(text)
    if match is None:
        indent = len(text) - len(text.lstrip(" \t-"))
        return None, indent, indent
    key = match["dq"] if match["dq"] is not None else match["sq"] if match["sq"] is not None else match["plain"]
    start = len(match["indent"]) + len(match["dashes"])
    return key, start, match.end()


def key_path(lines: list[str], line: int) -> tuple[tuple[str, ...], str | None]:
    """The keys above 1-based `line` of a block-style YAML text, outermost first, and the
    value written on that line (None when there is none)."""
    if not 0 < line <= len(lines):
        return (), None
    text = lines[line - 1]
    key, start, value_at = _parse_line(text)
    value = _COMMENT.sub("", text[value_at:]).strip() or None
    keys = [key] if key is not None else []
    limit = start
    dash = text[len(text) - len(text.lstrip(" \t")) :].startswith("-")
    if dash:  # a list item: its parent key may sit at the dash's own column
        limit = len(text) - len(text.lstrip(" \t")) + 1
    for above in range(line - 2, -1, -1):
        if limit <= 0:
            break
        candidate = lines[above]
        stripped = candidate.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parent, parent_start, _ = _parse_line(candidate)
        if parent is None or parent_start >= limit:
            continue
        keys.append(parent)
        own_indent = len(candidate) - len(candidate.lstrip(" \t"))
        limit = own_indent + 1 if candidate.lstrip(" \t").startswith("-") else parent_start
    return tuple(reversed(keys)), value


def _hashable(path: str, keys: tuple[str, ...], value: str | None) -> bool:
    """May the value's hash be recorded? Never for env.yaml, a credential-like key, or a
    value holding a token: every provider key has a long run of letters and digits."""
    if value is None or os.path.basename(path) == "env.yaml":
        return False
    if any(_SECRET_NAME.search(key) for key in keys[-1:]):
        return False
    return _TOKEN.search(value) is None


def fingerprint(problem: Problem, relative: str, lines: list[str] | None) -> Fingerprint:
    """The fingerprint of `problem`, reported in the file `relative` to the root whose
    text is `lines` (None when it cannot be read)."""
    keys: tuple[str, ...] = ()
    digest = ""
    if lines is not None and problem.line > 0:
        keys, value = key_path(lines, problem.line)
        text = lines[problem.line - 1] if problem.line <= len(lines) else ""
        _, _, value_at = _parse_line(text)
        at_value = problem.column - 1 >= value_at and value_at > 0
        if at_value and _hashable(relative, keys, value):
            digest = blake2b(value.encode(), digest_size=8).hexdigest()
    return relative, problem.rule, keys, digest


def read(path: Path) -> Counter[Fingerprint]:
    """The fingerprints recorded in the baseline file at `path`, with their counts."""
    if not os.path.lexists(path):
        raise BaselineError(f"{path}: no such baseline file; write it with --update-baseline")
    try:
        raw = read_regular(path, limit=BASELINE_MAX_BYTES)  # never blocks on a FIFO
        data = memo.parsed(raw, "baseline", lambda: _json().loads(raw))
    except NotReadable as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc}") from None
    except (OSError, ValueError) as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("problems"), list):
        raise BaselineError(f'{path}: not a gym-scaffold baseline (expected {{"version": {VERSION}, "problems": [...]}})')
    recorded: Counter[Fingerprint] = Counter()
    for entry in data["problems"]:
        try:
            key = (str(entry["path"]), str(entry["rule"]), tuple(map(str, entry["key"])), str(entry.get("value", "")))
            recorded[key] += int(entry.get("count", 1))
        except (TypeError, KeyError, ValueError):
            raise BaselineError(f"{path}: a malformed entry: {_json().dumps(entry)[:200]}") from None
    return recorded


def render(fingerprints: Counter[Fingerprint]) -> str:
    """The baseline file's text: sorted, one entry per fingerprint, stable across runs."""
    entries = []
    for (path, rule, keys, digest), count in sorted(fingerprints.items()):
        entry: dict = {"count": count, "key": list(keys), "path": path, "rule": rule}
        if digest:
            entry["value"] = digest
        entries.append(entry)
    return _json().dumps({"version": VERSION, "problems": entries}, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(path: Path, fingerprints: Counter[Fingerprint]) -> None:
    """Write the baseline file whole or not at all (through a temporary file beside it)."""
    text = render(fingerprints)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise BaselineError(f"{path}: cannot write the baseline: {exc.strerror or exc}") from None
