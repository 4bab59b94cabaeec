"""An API key with characters that break the Authorization header.

A key with a trailing newline or space, surrounding quotes, a `Bearer ` prefix or
non-ASCII characters (a pasted ellipsis, a non-breaking space) fails every request;
the openai SDK reports some of these as a connection error rather than a 401. A
placeholder (`insert your api key`) is placeholder-value's to report, not this rule's.

Failing:

    policy_api_key: "Bearer sk-abc123def456ghi789jkl012"

Passing:

    policy_api_key: sk-abc123def456ghi789jkl012
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from gym_scaffold.config.grammar import is_interpolation
from gym_scaffold.config.model import ConfigView
from gym_scaffold.problem import Problem
from gym_scaffold.rules._fields import API_KEY, endpoint_values
from gym_scaffold.secrets import (
    KEY_AROUND_NEWLINE,
    KEY_AROUND_WHITESPACE,
    KEY_BEARER,
    KEY_INNER_WHITESPACE,
    KEY_NOT_ASCII,
    KEY_QUOTES,
    PLACEHOLDER,
    key_faults,
)

if TYPE_CHECKING:
    from gym_scaffold.fix import Fix, FixContext

ID = "api-key-format"
SEVERITY = "error"
SUMMARY = "API key with whitespace, quotes, a `Bearer ` prefix or non-ASCII characters"


# (message, hint) for each fault secrets.key_faults finds.
_WORDING = {
    KEY_AROUND_NEWLINE: ("API key has surrounding whitespace or a newline", "remove it; check how the key was pasted"),
    KEY_AROUND_WHITESPACE: ("API key has surrounding whitespace or a newline", "remove it; check how the key was pasted"),
    KEY_INNER_WHITESPACE: ("API key contains whitespace", "remove the spaces or line breaks inside the key"),
    KEY_QUOTES: ("API key includes quote characters that are part of the value", "remove the inner quotes"),
    KEY_BEARER: ("API key starts with 'Bearer'; the client adds that itself", "keep only the key"),
    KEY_NOT_ASCII: (
        "API key contains non-ASCII or control characters",
        "copy the key again from the provider's console",
    ),
}


def check(view: ConfigView) -> Iterator[Problem]:
    for item in endpoint_values(view):
        value = item.value
        if item.role != API_KEY or not isinstance(value, str) or is_interpolation(value) or value == "???":
            continue
        if PLACEHOLDER.match(value.strip()):
            continue  # one finding per value: the placeholder
        for fault in key_faults(value):
            message, hint = _WORDING[fault]
            yield view.problem(item.path, ID, message, hint=hint)


FIX = "safe"
_FIXABLE = frozenset({KEY_AROUND_NEWLINE, KEY_AROUND_WHITESPACE, KEY_QUOTES, KEY_BEARER})
_QUOTES = "'\"`"


def cleaned(key: str) -> str:
    """`key` without surrounding whitespace, quote characters and a `Bearer ` prefix."""
    previous = None
    while previous != key:
        previous = key
        key = key.strip()
        if key[:1] and key[0] in _QUOTES:
            key = key[1:]
        if key[-1:] and key[-1] in _QUOTES:
            key = key[:-1]
        if key[:6].lower() == "bearer" and (len(key) == 6 or key[6].isspace() or key[6] == ":"):
            key = key[7:]
    return key


def fix(problem: Problem, context: FixContext) -> Fix | None:
    """Surrounding whitespace, quote characters and a `Bearer ` prefix are removed from the
    key, in the quoting it was written with. Whitespace inside the key and non-ASCII
    characters are left to a person: the key itself is damaged."""
    from gym_scaffold.fix import Fix, Replace

    source = context.yaml(problem.path)
    entry = source.value_at(problem.line, problem.column) if source is not None else None
    value = getattr(entry.node, "value", None) if entry is not None else None
    if not isinstance(value, str):
        return None
    faults = [fault for fault in key_faults(value) if _WORDING[fault][0] == problem.message]
    if not faults or not set(faults) <= _FIXABLE:
        return None
    new = cleaned(value)
    if not new or set(key_faults(new)) & _FIXABLE:
        return None
    edit = source.replace_scalar(entry, new)
    return Fix((Replace(source.source.path, edit),), secrets=(value, new)) if edit is not None else None
