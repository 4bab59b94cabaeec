"""A base URL NeMo Gym cannot use as written.

The OpenAI-compatible servers append `/responses` or `/chat/completions` to the base
URL themselves, so the base URL needs a scheme and a host and must stop before the
endpoint path. A URL with no path at all usually lacks `/v1` (advisory: a warning).

Failing:

    policy_base_url: https://api.openai.com/v1/chat/completions

Passing:

    policy_base_url: https://api.openai.com/v1
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from gym_scaffold.config.model import ConfigView
from gym_scaffold.problem import Problem, Severity, shorten
from gym_scaffold.rules._fields import BASE_URL, endpoint_values
from gym_scaffold.rules.placeholder_value import placeholder_in

ID = "base-url"
SEVERITY = "error"
SUMMARY = "base URL without scheme or host, or ending in an endpoint path such as /chat/completions"

_ENDPOINT_SUFFIXES = ("/chat/completions", "/completions", "/responses", "/embeddings", "/models")


def _looks_like_url_attempt(text: str) -> bool:
    # `dummy`, `EMPTY` and `null` stand in for unused endpoints in real configs.
    return any(mark in text for mark in ("://", "/", ".", ":"))


def url_problems(url: str) -> list[tuple[Severity, str, str]]:
    """(severity, message, hint) for each thing wrong with `url`; shared with `doctor`."""
    text = url.strip()
    if text != url:
        return [(Severity.ERROR, "base URL has surrounding whitespace", "remove the spaces or newline")]
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        return [(Severity.ERROR, f"base URL is not a valid URL ({shorten(str(exc))})", "write it as https://host/v1")]
    if parts.scheme not in ("http", "https"):
        return [(Severity.ERROR, "base URL needs an http:// or https:// scheme", f"write https://{shorten(text.split('://')[-1])}")]
    if not parts.hostname:
        return [(Severity.ERROR, "base URL has no host", "write it as https://host/v1")]
    found = []
    path = parts.path.rstrip("/")
    for suffix in _ENDPOINT_SUFFIXES:
        if path.endswith(suffix):
            base = text[: text.rstrip("/").rfind(suffix)]
            found.append(
                (
                    Severity.ERROR,
                    f"base URL ends in the endpoint path {suffix}; the server appends it itself",
                    f"use {shorten(base)}",
                )
            )
            break
    if not path and not parts.query:
        found.append(
            (
                Severity.WARNING,
                "base URL has no path; OpenAI-compatible servers usually serve under /v1",
                f"did you mean {shorten(text.rstrip('/'))}/v1?",
            )
        )
    return found


def check(view: ConfigView) -> Iterator[Problem]:
    for item in endpoint_values(view):
        value = item.value
        if item.role != BASE_URL or not isinstance(value, str) or "${" in value or value == "???":
            continue
        if not _looks_like_url_attempt(value) or placeholder_in(value, BASE_URL):
            continue
        for severity, message, hint in url_problems(value):
            yield view.problem(item.path, ID, message, severity=severity, hint=hint)
