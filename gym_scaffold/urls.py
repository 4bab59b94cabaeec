"""What can be wrong with a model server's base URL. `validate` (rule base-url) and
`doctor` both ask here and word the answer for their own output."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

# Paths the OpenAI-compatible clients append to the base URL themselves.
ENDPOINT_SUFFIXES = ("/chat/completions", "/completions", "/responses", "/embeddings", "/models")

# Fault kinds. The first four stop the inspection: nothing else can be said of the URL.
WHITESPACE = "whitespace"  # detail: "around" or "inside"
UNPARSEABLE = "unparseable"  # detail: the parser's complaint
NO_SCHEME = "no scheme"
BAD_SCHEME = "bad scheme"  # detail: the scheme
NO_HOST = "no host"
ENDPOINT_SUFFIX = "endpoint suffix"  # detail: the suffix
NO_PATH = "no path"


@dataclass(frozen=True)
class UrlFault:
    kind: str
    detail: str = ""


def is_loopback_host(host: str) -> bool:
    """This machine: a localhost name, or a loopback or unspecified (0.0.0.0) address."""
    host = host.strip("[]").lower()
    if host in ("localhost", "ip6-localhost") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def split_url(url: str) -> SplitResult | None:
    """`urlsplit`, or None when the URL cannot be parsed (a bad port among others)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return None
    return parts


def inspect_url(url: str) -> tuple[list[UrlFault], SplitResult | None]:
    """The faults of `url`, and its parts when it parses (for the callers' own checks)."""
    text = url.strip()
    if text != url or any(c.isspace() for c in text):
        return [UrlFault(WHITESPACE, "around" if text != url else "inside")], None
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        return [UrlFault(UNPARSEABLE, str(exc))], None
    if parts.scheme not in ("http", "https"):
        if not parts.scheme or not parts.netloc:
            return [UrlFault(NO_SCHEME)], parts
        return [UrlFault(BAD_SCHEME, parts.scheme)], parts
    if not parts.hostname:
        return [UrlFault(NO_HOST)], parts
    faults = []
    path = parts.path.rstrip("/")
    suffix = next((s for s in ENDPOINT_SUFFIXES if path.endswith(s)), None)
    if suffix is not None:
        faults.append(UrlFault(ENDPOINT_SUFFIX, suffix))
    if not path:
        faults.append(UrlFault(NO_PATH))
    return faults, parts
