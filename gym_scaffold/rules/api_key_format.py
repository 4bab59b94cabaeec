"""An API key with characters that break the Authorization header.

A key with a trailing newline or space, surrounding quotes, a `Bearer ` prefix or
non-ASCII characters (a pasted ellipsis, a non-breaking space) fails every request;
the openai SDK reports some of these as a connection error rather than a 401.

Failing:

    policy_api_key: "Bearer sk-abc123def456ghi789jkl012"

Passing:

    policy_api_key: sk-abc123def456ghi789jkl012
"""

from __future__ import annotations

from collections.abc import Iterator

from gym_scaffold.config.model import ConfigView
from gym_scaffold.problem import Problem
from gym_scaffold.rules._fields import API_KEY, endpoint_values
from gym_scaffold.rules._values import is_interpolation

ID = "api-key-format"
SEVERITY = "error"
SUMMARY = "API key with whitespace, quotes, a `Bearer ` prefix or non-ASCII characters"


def key_format_problems(key: str) -> list[tuple[str, str]]:
    """(message, hint) for each hygiene fault of `key`; shared with `doctor`."""
    found = []
    if key != key.strip():
        found.append(("API key has surrounding whitespace or a newline", "remove it; check how the key was pasted"))
    text = key.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        found.append(("API key is wrapped in quotes that are part of the value", "remove the inner quotes"))
    if text.lower().startswith("bearer "):
        found.append(("API key starts with 'Bearer '; the client adds that itself", "keep only the key"))
    if not text.isascii():
        found.append(("API key contains non-ASCII characters", "copy the key again from the provider's console"))
    return found


def check(view: ConfigView) -> Iterator[Problem]:
    for item in endpoint_values(view):
        value = item.value
        if item.role != API_KEY or not isinstance(value, str) or is_interpolation(value) or value == "???":
            continue
        for message, hint in key_format_problems(value):
            yield view.problem(item.path, ID, message, hint=hint)
