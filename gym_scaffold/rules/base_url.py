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
from typing import TYPE_CHECKING

from gym_scaffold import urls
from gym_scaffold.config.model import ConfigView
from gym_scaffold.problem import Problem, Severity, shorten
from gym_scaffold.rules._fields import BASE_URL, endpoint_values
from gym_scaffold.rules.placeholder_value import placeholder_in

if TYPE_CHECKING:
    from gym_scaffold.fix import Fix, FixContext

ID = "base-url"
SEVERITY = "error"
SUMMARY = "base URL without scheme or host, or ending in an endpoint path such as /chat/completions"

def _looks_like_url_attempt(text: str) -> bool:
    # `dummy`, `EMPTY` and `null` stand in for unused endpoints in real configs.
    return any(mark in text for mark in ("://", "/", ".", ":"))


def url_problems(url: str) -> list[tuple[Severity, str, str]]:
    """(severity, message, hint) for each thing wrong with `url`."""
    faults, parts = urls.inspect_url(url)
    text = url.strip()
    found = []
    for fault in faults:
        if fault.kind == urls.WHITESPACE:
            where = "surrounding whitespace" if fault.detail == "around" else "whitespace inside it"
            found.append((Severity.ERROR, f"base URL has {where}", "remove the spaces or newline"))
        elif fault.kind == urls.UNPARSEABLE:
            found.append(
                (Severity.ERROR, f"base URL is not a valid URL ({shorten(fault.detail)})", "write it as https://host/v1")
            )
        elif fault.kind in (urls.NO_SCHEME, urls.BAD_SCHEME):
            found.append(
                (
                    Severity.ERROR,
                    "base URL needs an http:// or https:// scheme",
                    f"write https://{shorten(text.split('://')[-1])}",
                )
            )
        elif fault.kind == urls.NO_HOST:
            found.append((Severity.ERROR, "base URL has no host", "write it as https://host/v1"))
        elif fault.kind == urls.ENDPOINT_SUFFIX:
            base = text[: text.rstrip("/").rfind(fault.detail)]
            found.append(
                (
                    Severity.ERROR,
                    f"base URL ends in the endpoint path {fault.detail}; the server appends it itself",
                    f"use {shorten(base)}",
                )
            )
        elif fault.kind == urls.NO_PATH and parts is not None and not parts.query:
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


# Trimming an endpoint path or surrounding spaces keeps what was meant; adding a scheme
# is a guess (https://, or http:// for this machine), hence unsafe.
FIX = "safe, unsafe"


def fix(problem: Problem, context: FixContext) -> Fix | None:
    """Safe: an endpoint path at the end (`/chat/completions`, `/responses`,
    `/completions`, `/embeddings`, `/models`, with any trailing slash) is cut off, and
    spaces around the URL are removed. Unsafe: a URL without a scheme gets `https://`
    (`http://` for this machine, where local servers do not speak TLS)."""
    from gym_scaffold.fix import Fix, Replace
    from gym_scaffold.rules._fields import is_local_url

    source = context.yaml(problem.path)
    entry = source.value_at(problem.line, problem.column) if source is not None else None
    value = getattr(entry.node, "value", None) if entry is not None else None
    if not isinstance(value, str) or problem.message not in {m for _, m, _ in url_problems(value)}:
        return None
    faults, _ = urls.inspect_url(value)
    kinds = {fault.kind: fault.detail for fault in faults}
    text = value.strip()
    unsafe = False
    if urls.ENDPOINT_SUFFIX in kinds and problem.message.startswith("base URL ends in the endpoint path"):
        new = text[: text.rstrip("/").rfind(kinds[urls.ENDPOINT_SUFFIX])]
    elif kinds.get(urls.WHITESPACE) == "around" and not any(c.isspace() for c in text):
        new = text
    elif urls.NO_SCHEME in kinds and "://" not in text:
        scheme = "http://" if is_local_url("http://" + text) else "https://"
        new, unsafe = scheme + text, True
    else:
        return None
    if not new or new == value:
        return None
    edit = source.replace_scalar(entry, new)
    return Fix((Replace(source.source.path, edit),), unsafe=unsafe) if edit is not None else None
