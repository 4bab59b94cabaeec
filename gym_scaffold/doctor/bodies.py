"""Error bodies and rate-limit figures, whatever shape the endpoint answers in.

OpenAI, vLLM (two generations), Azure OpenAI, NVIDIA NIM, OpenRouter, FastAPI and gateway
pages each shape an error differently; `parse_body` brings them to one `ErrorBody`.
`parse_rate_limit` reads a 429's figures from its message and headers.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass
class ErrorBody:
    """The parts of an error body that matter, whatever its shape."""

    shape: str  # openai, vllm, vllm_legacy, azure, nim, openrouter, fastapi, html, text, empty, json
    message: str = ""
    code: str | None = None
    type: str | None = None
    param: str | None = None
    html_title: str | None = None
    raw: Any = None


_HTML_TITLE = re.compile(r"<title>\s*(.*?)\s*</title>", re.IGNORECASE | re.DOTALL)
_HTML_H1 = re.compile(r"<h1>\s*(.*?)\s*</h1>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


def _s(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


def parse_body(body: Any, content_type: str | None = None) -> ErrorBody:
    """Normalise an error body of any known shape."""
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode("utf-8", errors="replace")
    if isinstance(body, str):
        text = body.strip()
        if not text:
            return ErrorBody("empty")
        looks_html = text[:200].lower().lstrip().startswith(("<!doctype", "<html", "<head", "<body"))
        if looks_html or (content_type and "html" in content_type.lower() and text.startswith("<")):
            match = _HTML_TITLE.search(text) or _HTML_H1.search(text)
            title = _TAGS.sub("", match.group(1)).strip() if match else None
            return ErrorBody("html", message=title or "an HTML page", html_title=title, raw=text)
        try:
            body = json.loads(text)
        except ValueError:
            return ErrorBody("text", message=text[:500], raw=text)
    if body is None:
        return ErrorBody("empty")
    if isinstance(body, str):  # a JSON string, e.g. NeMo Gym's wrapped errors
        return ErrorBody("text", message=body[:500], raw=body)
    if not isinstance(body, dict):
        return ErrorBody("json", message=json.dumps(body)[:500], raw=body)

    err = body.get("error")
    if isinstance(err, str):
        # vLLM's auth middleware: {"error": "Unauthorized"}
        return ErrorBody("vllm", message=err, raw=body)
    if isinstance(err, dict):
        message = _s(err.get("message")) or _s(err.get("detail")) or ""
        code = _s(err.get("code"))
        etype = _s(err.get("type"))
        param = _s(err.get("param"))
        if "metadata" in err or (isinstance(err.get("code"), int) and "type" not in err):
            shape = "openrouter"
        elif etype and etype.endswith("Error") and isinstance(err.get("code"), int):
            shape = "vllm"
        elif "type" not in err and isinstance(err.get("code"), str):
            shape = "azure"
        else:
            shape = "openai"
        return ErrorBody(shape, message=message, code=code, type=etype, param=param, raw=body)
    if body.get("object") == "error":
        return ErrorBody(
            "vllm_legacy",
            message=_s(body.get("message")) or "",
            code=_s(body.get("code")),
            type=_s(body.get("type")),
            param=_s(body.get("param")),
            raw=body,
        )
    if "title" in body or ("detail" in body and "status" in body):
        # RFC 7807 problem details (NVIDIA NIM / NVCF)
        detail = body.get("detail")
        message = _s(detail) if not isinstance(detail, (dict, list)) else json.dumps(detail)
        return ErrorBody("nim", message=message or _s(body.get("title")) or "", code=_s(body.get("status")),
                         type=_s(body.get("title")), raw=body)
    if "detail" in body:
        # FastAPI default: {"detail": "Not Found"} or a validation list
        detail = body["detail"]
        message = detail if isinstance(detail, str) else json.dumps(detail)[:500]
        return ErrorBody("fastapi", message=message, raw=body)
    if "message" in body:
        return ErrorBody("json", message=_s(body.get("message")) or "", code=_s(body.get("code")),
                         type=_s(body.get("type")), raw=body)
    return ErrorBody("json", message=json.dumps(body)[:500], raw=body)


# --------------------------------------------------------------------------- rate limits


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_duration(text: str | None) -> float | None:
    """'20s', '6m0s', '644ms', '4m12.172s', '1h2m', '1' (seconds) -> seconds."""
    if text is None:
        return None
    text = str(text).strip().lower()
    if not text:
        return None
    try:
        value = float(text)
        return value if value >= 0 and math.isfinite(value) else None
    except ValueError:
        pass
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text.replace(" ", ""):
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(n) * scale[u] for n, u in parts)


@dataclass
class RateLimit:
    scope: str | None = None  # "requests" or "tokens"
    unit: str | None = None  # RPM, TPM, RPD, TPD, ...
    limit: int | None = None
    used: int | None = None
    requested: int | None = None
    retry_after_s: float | None = None
    header_limit_requests: int | None = None
    header_limit_tokens: int | None = None
    header_remaining_requests: int | None = None
    header_remaining_tokens: int | None = None
    header_reset_requests: str | None = None
    header_reset_tokens: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


_RL_UNIT = re.compile(r"on (requests|tokens) per (min|minute|day)\s*\((\w+)\)", re.IGNORECASE)
_RL_LIMIT = re.compile(r"Limit:?\s*([\d,]+)", re.IGNORECASE)
_RL_USED = re.compile(r"Used:?\s*([\d,]+)", re.IGNORECASE)
_RL_REQUESTED = re.compile(r"Requested:?\s*([\d,]+)", re.IGNORECASE)
_RL_TRY_AGAIN = re.compile(r"try again in\s*([\d.hms]+)", re.IGNORECASE)
_RL_RETRY_AFTER = re.compile(r"retry after\s*(\d+(?:\.\d+)?)\s*(second|millisecond|ms|s)", re.IGNORECASE)
_AZ_CALL_LIMIT = re.compile(r"call rate limit", re.IGNORECASE)
_AZ_TOKEN_LIMIT = re.compile(r"token rate limit", re.IGNORECASE)


def _int(text: Any) -> int | None:
    if text is None:
        return None
    try:
        value = int(str(text).replace(",", "").strip())
    except ValueError:
        try:
            value = int(float(str(text).strip()))
        except ValueError:
            return None
    return value


def header(headers: Mapping[str, str], name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name:
            return v
    return None


def parse_rate_limit(message: str, headers: Mapping[str, str]) -> RateLimit:
    rl = RateLimit()
    m = _RL_UNIT.search(message)
    if m:
        rl.scope = m.group(1).lower()
        rl.unit = m.group(3).upper()
    elif _AZ_CALL_LIMIT.search(message):
        rl.scope, rl.unit = "requests", None
    elif _AZ_TOKEN_LIMIT.search(message):
        rl.scope, rl.unit = "tokens", None
    for pattern, attr in ((_RL_LIMIT, "limit"), (_RL_USED, "used"), (_RL_REQUESTED, "requested")):
        m = pattern.search(message)
        if m:
            setattr(rl, attr, _int(m.group(1)))
    m = _RL_TRY_AGAIN.search(message)
    if m:
        rl.retry_after_s = parse_duration(m.group(1).rstrip("."))
    m = _RL_RETRY_AFTER.search(message)
    if m and rl.retry_after_s is None:
        value = float(m.group(1))
        rl.retry_after_s = value / 1000 if m.group(2).lower().startswith("m") else value
    ms = header(headers, "retry-after-ms")
    if rl.retry_after_s is None and ms is not None:
        value = _int(ms)
        if value is not None and value >= 0:
            rl.retry_after_s = value / 1000
    ra = header(headers, "retry-after")
    if rl.retry_after_s is None and ra is not None:
        rl.retry_after_s = parse_duration(ra)

    def positive(name: str) -> int | None:
        value = _int(header(headers, name))
        return value if value is not None and value >= 0 else None  # Azure has sent -1

    rl.header_limit_requests = positive("x-ratelimit-limit-requests")
    rl.header_limit_tokens = positive("x-ratelimit-limit-tokens")
    rl.header_remaining_requests = positive("x-ratelimit-remaining-requests")
    rl.header_remaining_tokens = positive("x-ratelimit-remaining-tokens")
    rl.header_reset_requests = header(headers, "x-ratelimit-reset-requests")
    rl.header_reset_tokens = header(headers, "x-ratelimit-reset-tokens")
    if rl.scope is None and rl.header_remaining_requests == 0:
        rl.scope = "requests"
    elif rl.scope is None and rl.header_remaining_tokens == 0:
        rl.scope = "tokens"
    return rl


# A rollout's model call typically takes seconds; the recommendation assumes this long.
ASSUMED_SECONDS_PER_REQUEST = 10.0


def recommend_concurrency(rl: RateLimit) -> tuple[int, str]:
    """Parallel requests that stay under the limit, and how that number was reached."""
    per_minute: list[tuple[float, str]] = []
    per_min_unit = rl.unit is None or rl.unit.endswith("M")
    if rl.scope == "requests" and rl.limit and per_min_unit:
        per_minute.append((float(rl.limit), f"{rl.limit} requests/min"))
    elif rl.header_limit_requests:
        per_minute.append((float(rl.header_limit_requests), f"{rl.header_limit_requests} requests/min"))
    tokens_limit = rl.limit if rl.scope == "tokens" and rl.limit and per_min_unit else rl.header_limit_tokens
    if tokens_limit and rl.requested:
        per_minute.append(
            (tokens_limit / rl.requested, f"{tokens_limit} tokens/min at ~{rl.requested} tokens per request")
        )
    if rl.unit and rl.unit.endswith("D"):
        return 1, f"a per-day limit ({rl.unit}) is exhausted: no concurrency helps until it resets"
    if not per_minute:
        return 1, "the server gave no limit figures: start at 1 and raise it while no 429 appears"
    rate, basis = min(per_minute, key=lambda item: item[0])
    n = max(1, int(rate * ASSUMED_SECONDS_PER_REQUEST / 60.0))
    return n, f"{basis} at ~{ASSUMED_SECONDS_PER_REQUEST:.0f} s per request allows about {n} in parallel"


# --------------------------------------------------------------------------- classification


def first_sentence(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"
