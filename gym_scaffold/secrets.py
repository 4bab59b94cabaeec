"""Recognising API keys and keeping them out of every output.

Rule for the whole project: no output contains a key, at most its last four characters.
Keys travel as `Secret`, whose str() and repr() are the redacted form, and any text that
came from outside (a server's error body, a log line) goes through `scrub` before printing.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

# Prefixes of real provider keys. Order matters only for `provider_of` (longest first).
KEY_PREFIXES: dict[str, str] = {
    "sk-proj-": "OpenAI project key",
    "sk-svcacct-": "OpenAI service-account key",
    "sk-admin-": "OpenAI admin key",
    "sk-ant-": "Anthropic key",
    "sk-or-": "OpenRouter key",
    "nvapi-": "NVIDIA API key",
    "gsk_": "Groq key",
    "hf_": "Hugging Face token",
    "AIza": "Google API key",
    "xai-": "xAI key",
    "fw_": "Fireworks key",
    "tvly-": "Tavily key",
    "sk-": "OpenAI-style key",
}

_PREFIX_RE = re.compile(
    "^(?:" + "|".join(re.escape(p) for p in sorted(KEY_PREFIXES, key=len, reverse=True)) + r")[A-Za-z0-9_\-]{12,}$"
)
_TOKENISH = re.compile(r"^[A-Za-z0-9_\-+/=.]{32,}$")


# What stands in for a value still to be filled in: `your-api-key`, `sk-your-key`,
# `<api_key>`, `changeme`, `sk-xxxx`, `api-key-here`. validate (rule placeholder-value)
# and doctor both ask here; doctor adds the markers of values supplied at run time.
PLACEHOLDER = re.compile(
    r"^(?:(?:sk-)?(?:insert[-_ ]?|enter[-_ ]?|put[-_ ]?)?your[-_ ].*"
    r"|.*your[-_ ]?(?:api[-_ ]?)?(?:key|token).*"
    r"|.*(?:api[-_ ]?key|token)[-_ ]?here.*"
    r"|insert.*key.*"
    r"|(?:change|replace|fix)[-_ ]?me|to[-_ ]?do|tbd|placeholder|redacted|secret"
    r"|x{3,}|\*{3,}|\.{3}|sk-(?:\.{3}|x{3,}|\*{3,}).*"
    r"|<[^<>]*>)$",
    re.IGNORECASE,
)


def redact(value: str | None) -> str:
    """The only form of a key that may be printed: its last four characters."""
    if value is None:
        return "<none>"
    if value == "":
        return "<empty>"
    if len(value) <= 8:
        return "<redacted>"
    return f"...{value[-4:]}"


class Secret:
    """A key. Printing it in any way prints the redacted form."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real key, for an HTTP header and nothing else."""
        return self._value

    def __str__(self) -> str:
        return redact(self._value)

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _entropy_bits_per_char(text: str) -> float:
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def provider_of(value: str) -> str | None:
    """Which provider's key format `value` has, if any."""
    for prefix in sorted(KEY_PREFIXES, key=len, reverse=True):
        if value.startswith(prefix):
            return KEY_PREFIXES[prefix]
    return None


def looks_like_secret(value: object) -> bool:
    """True for values that look like a real key: a provider prefix, or a long random token.

    `EMPTY`, `dummy`, `local-vllm`, URLs, paths, model names such as
    `nvidia/Nemotron-3-Nano-30B-A3B-BF16` and hex digests are not secrets.
    """
    if not isinstance(value, str):
        return False
    text = value.strip()
    if _PREFIX_RE.match(text):
        # Real keys are random: digits among the letters. `sk-your-api-key-here` is not one.
        return any(c.isdigit() for c in text) and "your" not in text.lower()
    if not _TOKENISH.match(text):
        return False
    # A random key is one long run of mixed letters and digits; names are short words.
    longest = max(re.split(r"[-_./+=]", text), key=len)
    if len(longest) < 24:
        return False
    has_digit = any(c.isdigit() for c in longest)
    has_alpha = any(c.isalpha() for c in longest)
    return has_digit and has_alpha and _entropy_bits_per_char(longest) > 4.0


# What can be wrong with a key's characters: each breaks the Authorization header or is
# sent as part of the key. `validate` and `doctor` word them for their own output.
KEY_AROUND_NEWLINE = "newline around"
KEY_AROUND_WHITESPACE = "whitespace around"
KEY_INNER_WHITESPACE = "whitespace inside"
KEY_QUOTES = "quotes"
KEY_BEARER = "bearer prefix"
KEY_NOT_ASCII = "not plain ASCII"


def key_faults(key: str) -> list[str]:
    """Every hygiene fault of `key`, in the order they are worth reporting."""
    found = []
    text = key.strip()
    if text != key:
        found.append(KEY_AROUND_NEWLINE if "\n" in key or "\r" in key else KEY_AROUND_WHITESPACE)
    if not text:
        return found
    bearer = text.lower().startswith("bearer")
    # "Bearer sk-..." is one mistake (the prefix), not also a space inside the key.
    rest = text[len("bearer") :].lstrip() if bearer else text
    if any(c.isspace() for c in rest):
        found.append(KEY_INNER_WHITESPACE)
    if text[0] in "'\"`" or text[-1] in "'\"`":
        found.append(KEY_QUOTES)
    if bearer:
        found.append(KEY_BEARER)
    if not text.isascii() or not text.isprintable():
        found.append(KEY_NOT_ASCII)
    return found


def scrub(text: str, secrets: Iterable[str | Secret]) -> str:
    """Replace every known key, and anything shaped like a key, in `text` by its redacted form."""
    for secret in secrets:
        raw = secret.reveal() if isinstance(secret, Secret) else secret
        if raw and len(raw) >= 4:
            text = text.replace(raw, redact(raw))
            stripped = raw.strip()
            if stripped and stripped != raw:
                text = text.replace(stripped, redact(stripped))
    return _KEY_IN_TEXT.sub(lambda m: redact(m.group(0)), text)


# Key-shaped substrings of free text (error bodies echo keys, sometimes masked as sk-ab***cd).
_KEY_IN_TEXT = re.compile(
    r"(?:"
    + "|".join(re.escape(p) for p in sorted(KEY_PREFIXES, key=len, reverse=True))
    + r")[A-Za-z0-9_\-*]{8,}"
)


# A masked key as servers echo it: some visible characters, three or more stars, some more
# (OpenAI: first 8 + stars + last 4). Only the tail may be shown.
_MASKED_TOKEN = re.compile(r"[A-Za-z0-9_\-]*\*{3,}[A-Za-z0-9_\-]*")
_FRAGMENT = 8  # no run of this many characters of a key may survive


def _drop_fragments(text: str, raw: str) -> str:
    """Replace every run of text sharing `_FRAGMENT` or more characters with `raw`."""
    if len(raw) < _FRAGMENT or len(text) < _FRAGMENT:
        return text
    grams = {raw[i : i + _FRAGMENT] for i in range(len(raw) - _FRAGMENT + 1)}
    spans: list[list[int]] = []
    for i in range(len(text) - _FRAGMENT + 1):
        if text[i : i + _FRAGMENT] in grams:
            end = i + _FRAGMENT
            if spans and i <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], end)
            else:
                spans.append([i, end])
    if not spans:
        return text
    out, last = [], 0
    for start, end in spans:
        out.append(text[last:start])
        out.append("<redacted>")
        last = end
    out.append(text[last:])
    return "".join(out)


def scrub_all(text: str, secrets: Iterable[str | Secret]) -> str:
    """`scrub`, plus the partial echoes servers send back: masked keys (`sk-abcd****wxyz`,
    `myproj12***3456`) and any run of eight or more characters of a known key."""
    secrets = list(secrets)
    text = scrub(text, secrets)
    text = _MASKED_TOKEN.sub(
        lambda m: redact(m.group(0)) if len(m.group(0)) >= 8 and m.group(0).strip("*") else m.group(0), text
    )
    for secret in secrets:
        raw = secret.reveal() if isinstance(secret, Secret) else secret
        if raw:
            text = _drop_fragments(text, raw)
            if raw.strip() != raw:
                text = _drop_fragments(text, raw.strip())
    return text
