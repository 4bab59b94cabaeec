"""What an endpoint's answer means, and what to change.

Input is what came over the wire: a status code, headers and a body (any of the shapes
OpenAI, vLLM, Azure OpenAI, NVIDIA NIM, OpenRouter or a gateway page use), or the kind of
transport failure. Output is one `Diagnosis`: a stable category, a message and a concrete
fix that names the setting to change. Classification reads fields, never an SDK's
exception text (it differs between SDK versions).
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Category(str, enum.Enum):
    OK = "ok"
    MISSING_API_KEY = "missing_api_key"
    INVALID_API_KEY = "invalid_api_key"
    ORGANIZATION_MISMATCH = "organization_mismatch"
    PERMISSION_DENIED = "permission_denied"
    MODEL_NOT_FOUND = "model_not_found"
    BAD_BASE_URL = "bad_base_url"
    INSUFFICIENT_QUOTA = "insufficient_quota"
    RATE_LIMITED = "rate_limited"
    REQUEST_TOO_LARGE = "request_too_large"
    SERVER_ERROR = "server_error"
    UNREACHABLE = "unreachable"
    # A 4xx that none of the above explains (a rejected parameter, a redirect, ...).
    UNEXPECTED_RESPONSE = "unexpected_response"

    def __str__(self) -> str:
        return self.value


@dataclass
class Where:
    """Names of the settings behind one endpoint, for fixes a person can act on.

    Each is a phrase such as `env.yaml: policy_api_key` or
    `configs/model.yaml:5 policy_model.responses_api_models.openai_model.openai_api_key`.
    """

    key: str = "the model server's API key (env.yaml: policy_api_key)"
    base_url: str = "the model server's base URL (env.yaml: policy_base_url)"
    model: str = "the model server's model name (env.yaml: policy_model_name)"
    # where concurrency is set for this server, e.g. "max_concurrent_requests under policy_model..."
    concurrency: str = "max_concurrent_requests (openai_model) / num_concurrent_requests"
    provider: str | None = None  # openai, azure, nim, openrouter, local, or None if unknown


@dataclass
class Diagnosis:
    category: Category
    message: str
    fix: str
    status_code: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.category is Category.OK


# --------------------------------------------------------------------------- body shapes


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


def _header(headers: Mapping[str, str], name: str) -> str | None:
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
    ms = _header(headers, "retry-after-ms")
    if rl.retry_after_s is None and ms is not None:
        value = _int(ms)
        if value is not None and value >= 0:
            rl.retry_after_s = value / 1000
    ra = _header(headers, "retry-after")
    if rl.retry_after_s is None and ra is not None:
        rl.retry_after_s = parse_duration(ra)

    def positive(name: str) -> int | None:
        value = _int(_header(headers, name))
        return value if value is not None and value >= 0 else None  # Azure has sent -1

    rl.header_limit_requests = positive("x-ratelimit-limit-requests")
    rl.header_limit_tokens = positive("x-ratelimit-limit-tokens")
    rl.header_remaining_requests = positive("x-ratelimit-remaining-requests")
    rl.header_remaining_tokens = positive("x-ratelimit-remaining-tokens")
    rl.header_reset_requests = _header(headers, "x-ratelimit-reset-requests")
    rl.header_reset_tokens = _header(headers, "x-ratelimit-reset-tokens")
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


_QUOTA_CODES = {
    "insufficient_quota",
    "credit_balance_exhausted",
    "billing_hard_limit_reached",
    "billing_not_active",
    "access_terminated",
    "quota_exceeded",
    "payment_required",
}
_MODEL_NOT_FOUND_TEXT = re.compile(
    r"model\b.*\b(does not exist|not found|not exist|is not a valid model|unknown model|"
    r"no such model|not supported|is not available|is not served)|"
    r"(unknown|invalid|unsupported) model|deployment.*(does not exist|not found)|"
    r"not a valid model id|Function '[^']*': Not found",
    re.IGNORECASE,
)
_TOO_LARGE_TEXT = re.compile(
    r"request too large|maximum context length|context[_ ]length[_ ]exceeded|too many tokens|"
    r"prompt is too long|input is too long|payload too large|reduce the length|"
    r"string_above_max_length|exceeds the (model's )?(maximum|context)",
    re.IGNORECASE,
)
_MISSING_KEY_TEXT = re.compile(r"didn't provide an api key|no api key|missing api key|api key is required|"
                               r"missing (authentication|authorization|bearer)", re.IGNORECASE)
_SCOPE_TEXT = re.compile(r"missing scopes?|insufficient permissions", re.IGNORECASE)
_ORG_TEXT = re.compile(r"organization header should match|mismatched_organization|"
                       r"not a member of (an )?organi[sz]ation|OpenAI-Project header should match", re.IGNORECASE)
_REGION_TEXT = re.compile(r"country, region, or territory|unsupported_country", re.IGNORECASE)
_OVERLOAD_TEXT = re.compile(r"overloaded|capacity|temporarily unavailable|try again later", re.IGNORECASE)
_QUOTA_TEXT = re.compile(r"exceeded your current quota|insufficient (credits|quota|balance)|"
                         r"billing|out of credits|credit balance|payment required", re.IGNORECASE)


def _first_sentence(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def _provider_hint(where: Where) -> str:
    return {
        "openai": "https://platform.openai.com/api-keys",
        "azure": "the Azure portal: your resource > Keys and Endpoint",
        "nim": "https://build.nvidia.com (an nvapi- key)",
        "openrouter": "https://openrouter.ai/settings/keys",
    }.get(where.provider or "", "the provider's console")


def classify_http(
    status: int,
    headers: Mapping[str, str] | None,
    body: Any,
    *,
    endpoint: str = "inference",
    where: Where | None = None,
    model: str | None = None,
) -> Diagnosis:
    """Classify one HTTP answer. `endpoint` is models, model or inference."""
    where = where or Where()
    headers = headers or {}
    content_type = _header(headers, "content-type")
    eb = parse_body(body, content_type)
    msg = eb.message
    code = (eb.code or "").lower()
    etype = (eb.type or "").lower()
    said = f": {_first_sentence(msg)}" if msg else ""
    what = {"models": "GET /models", "model": "GET /models/{model}", "inference": "the inference call"}.get(
        endpoint, endpoint
    )

    def d(category: Category, message: str, fix: str, **details: Any) -> Diagnosis:
        return Diagnosis(category, message, fix, status_code=status, details={"shape": eb.shape, **details})

    if 200 <= status < 300:
        if eb.shape in ("html", "text") or (endpoint != "inference" and eb.shape == "empty"):
            return d(
                Category.BAD_BASE_URL,
                f"{what} answered {status} with {'an HTML page' if eb.shape == 'html' else 'no JSON'}"
                f"{(' (' + eb.html_title + ')') if eb.html_title else ''}: this is not an OpenAI-compatible API",
                f"Point {where.base_url} at the API root, usually ending in /v1 "
                "(e.g. https://api.openai.com/v1 or http://HOST:8000/v1 for vLLM).",
            )
        return d(Category.OK, f"{what} answered {status}", "")

    if eb.shape == "html" and status >= 500:
        title = eb.html_title or f"HTTP {status}"
        return d(
            Category.SERVER_ERROR,
            f"{what} got an HTML gateway page ({title}): a proxy or load balancer answered, "
            "the model server behind it is down or restarting",
            "Check that the model server behind the gateway is running (for vLLM: its log and "
            "`curl BASE/models` on the host); retry once it is up. If it persists, report it to whoever runs the gateway.",
        )

    # ---- 401: authentication
    if status == 401:
        if _ORG_TEXT.search(msg) or code == "mismatched_organization":
            return d(
                Category.ORGANIZATION_MISMATCH,
                f"the key belongs to another organization than the one requested{said}",
                "Unset OPENAI_ORG_ID / OPENAI_PROJECT_ID in the environment NeMo Gym runs in (the SDK sends them "
                f"as headers), or set them to the key's organization and project; or use a key of that organization in {where.key}.",
            )
        if _SCOPE_TEXT.search(msg):
            return d(
                Category.PERMISSION_DENIED,
                f"the key is valid but lacks a permission{said}",
                "Give the key the scope it lacks: platform.openai.com > API keys > edit the restricted key "
                "(Model capabilities: Write, Models: Read), or use an unrestricted project key in " + where.key + ".",
            )
        if _MISSING_KEY_TEXT.search(msg):
            return d(
                Category.MISSING_API_KEY,
                f"the server received no API key{said}",
                f"Set {where.key} to your key (get one at {_provider_hint(where)}).",
            )
        if code == "account_deactivated" or "deactivated" in msg.lower():
            return d(
                Category.INVALID_API_KEY,
                f"the key belongs to a deactivated account{said}",
                f"Create a key in an active account/project and put it in {where.key}.",
            )
        azure_hint = (
            " Azure also answers this for a wrong regional endpoint: check " + where.base_url + "."
            if eb.shape == "azure" or where.provider == "azure"
            else ""
        )
        return d(
            Category.INVALID_API_KEY,
            f"the server rejected the API key (401){said}",
            f"Replace {where.key} with a valid key for this endpoint (get one at {_provider_hint(where)});"
            " check it was not revoked and belongs to this provider." + azure_hint,
        )

    # ---- 402: payment (OpenRouter and others)
    if status == 402:
        return d(
            Category.INSUFFICIENT_QUOTA,
            f"the account is out of credit (402){said}",
            "Add credits or raise the key's spending limit in the provider's billing page; "
            "NeMo Gym retries will not help.",
        )

    # ---- 403: permission
    if status == 403:
        if _REGION_TEXT.search(msg) or code == "unsupported_country_region_territory":
            return d(
                Category.PERMISSION_DENIED,
                f"the provider refuses requests from this country or region{said}",
                "Run from a supported region (a machine or egress proxy located there); the key and config are fine.",
            )
        if code == "model_not_found" or "does not have access to model" in msg.lower():
            return d(
                Category.PERMISSION_DENIED,
                f"the key's project has no access to the model{said}",
                f"Allow the model for this project (platform.openai.com > project settings > Limits / model access), "
                f"or use a model the project may call in {where.model}.",
            )
        if _SCOPE_TEXT.search(msg):
            return d(
                Category.PERMISSION_DENIED,
                f"the key lacks a permission{said}",
                f"Give the key the missing scope or use an unrestricted key in {where.key}.",
            )
        return d(
            Category.PERMISSION_DENIED,
            f"access denied (403) by {what}{said}",
            f"Check that the key in {where.key} may use this model and endpoint (project/model permissions, "
            "IP allow-lists, region); a gateway may also require VPN access.",
        )

    # ---- quota and rate limits (429 and friends)
    if status == 429 or etype == "insufficient_quota" or code in _QUOTA_CODES:
        if etype == "insufficient_quota" or code in _QUOTA_CODES or (_QUOTA_TEXT.search(msg) and "rate limit" not in msg.lower()):
            which = f" ({eb.code})" if eb.code else ""
            return d(
                Category.INSUFFICIENT_QUOTA,
                f"the account is out of quota or credit{which}{said}",
                "Add credit or raise the monthly budget (platform.openai.com > Settings > Billing / Limits), or use a "
                f"key of a project with credit in {where.key}. This is not transient: NeMo Gym retries every 429 and will "
                "retry this one forever.",
            )
        if status == 429 and re.search(r"request too large", msg, re.IGNORECASE):
            rl = parse_rate_limit(msg, headers)
            return d(
                Category.REQUEST_TOO_LARGE,
                f"one request is larger than the tokens-per-minute limit"
                f"{f' (limit {rl.limit}, requested {rl.requested})' if rl.limit and rl.requested else ''}"
                "; waiting will not help",
                "Shorten prompts or lower max_output_tokens / max_tokens in responses_create_params so one request fits "
                "the TPM limit, or raise the limit (higher usage tier).",
                rate_limit=rl.as_dict(),
            )
        rl = parse_rate_limit(msg, headers)
        n, basis = recommend_concurrency(rl)
        figures = []
        if rl.limit is not None:
            figures.append(f"limit {rl.limit}{(' ' + rl.unit) if rl.unit else ''}")
        elif rl.header_limit_requests is not None or rl.header_limit_tokens is not None:
            parts = []
            if rl.header_limit_requests is not None:
                parts.append(f"{rl.header_limit_requests} requests")
            if rl.header_limit_tokens is not None:
                parts.append(f"{rl.header_limit_tokens} tokens")
            figures.append("limit " + " / ".join(parts))
        if rl.used is not None:
            figures.append(f"used {rl.used}")
        if rl.requested is not None:
            figures.append(f"requested {rl.requested}")
        remaining = []
        if rl.header_remaining_requests is not None:
            remaining.append(f"{rl.header_remaining_requests} requests")
        if rl.header_remaining_tokens is not None:
            remaining.append(f"{rl.header_remaining_tokens} tokens")
        if remaining:
            figures.append("remaining " + " / ".join(remaining))
        reset = rl.retry_after_s
        if reset is None:
            reset = parse_duration(rl.header_reset_requests if rl.scope != "tokens" else rl.header_reset_tokens)
        if reset is not None:
            figures.append(f"resets in {_fmt_seconds(reset)}")
        scope = f" on {rl.scope}" if rl.scope else ""
        detail = f" ({', '.join(figures)})" if figures else ""
        return d(
            Category.RATE_LIMITED,
            f"rate limited{scope}{detail}{said}",
            f"Lower concurrency to about {n}: num_samples_in_parallel={n} for ng_collect_rollouts and "
            f"{where.concurrency} = {n} ({basis}). The key and model are fine; NeMo Gym retries 429, so a run slows "
            "down rather than fails. A higher usage tier raises the limit.",
            rate_limit=rl.as_dict(),
            recommended_concurrency=n,
        )

    if status == 413 or (status in (400, 422) and _TOO_LARGE_TEXT.search(msg)):
        return d(
            Category.REQUEST_TOO_LARGE,
            f"the request is larger than the server accepts ({status}){said}",
            "Shorten prompts or lower max_output_tokens / max_tokens; for vLLM raise --max-model-len if the model allows.",
        )

    # ---- model and URL
    model_text = _MODEL_NOT_FOUND_TEXT.search(msg)
    if status in (400, 404, 422) and (
        code in ("model_not_found", "deploymentnotfound")
        or (model_text is not None)
        or (status == 404 and eb.shape in ("vllm", "vllm_legacy") and eb.param == "model")
    ):
        if code == "deploymentnotfound" or where.provider == "azure":
            fix = (
                f"Set {where.model} to the name of an existing deployment (Azure portal > your resource > "
                "Model deployments); for azure_openai_model openai_model is the deployment name, not the model name."
            )
        elif where.provider == "local" or eb.shape in ("vllm", "vllm_legacy"):
            fix = (
                f"Set {where.model} to the name the server serves (GET {{base}}/models lists it; for vLLM the "
                "--served-model-name, default: the path or HF id given to `vllm serve`)."
            )
        else:
            fix = f"Set {where.model} to a model id this key can use (GET /models lists them)."
        return d(Category.MODEL_NOT_FOUND, f"the model{(' ' + repr(model)) if model else ''} was not found{said}", fix)

    if status in (404, 405):
        via = {
            "models": "GET /models",
            "model": "GET /models/{model}",
            "inference": "the inference endpoint",
        }.get(endpoint, endpoint)
        extra = ""
        if endpoint == "inference":
            extra = (
                " For openai_model and litellm_model the server must speak the Responses API (POST /responses): "
                "for a vLLM or other chat-only server use the vllm_model or inference_provider implementation."
            )
        return d(
            Category.BAD_BASE_URL,
            f"{via} does not exist at this base URL ({status}){said}: wrong path, or not an OpenAI-compatible API",
            f"Fix {where.base_url}: it must be the API root the SDK appends /models and /chat/completions to, usually "
            f"ending in /v1, without an endpoint suffix.{extra}",
        )

    if status in (408, 504):
        return d(
            Category.SERVER_ERROR,
            f"the server timed out answering ({status}){said}",
            "The server or a gateway gave up waiting: check the model server's load and log; retry later.",
        )

    if status >= 500:
        if status == 503 or code == "server_is_overloaded" or _OVERLOAD_TEXT.search(msg):
            return d(
                Category.SERVER_ERROR,
                f"the server is overloaded or unavailable ({status}){said}",
                "Nothing to change in the config: retry later, or lower concurrency if you run the server yourself.",
            )
        return d(
            Category.SERVER_ERROR,
            f"the server failed ({status}){said}",
            "The endpoint itself failed, not your config: retry; if it persists check the model server's log "
            "(for vLLM: the `vllm serve` output) or the provider's status page.",
        )

    if 300 <= status < 400:
        location = _header(headers, "location")
        return d(
            Category.BAD_BASE_URL,
            f"the server redirects ({status}{' to ' + location if location else ''}); the SDK does not follow it",
            f"Use the final URL in {where.base_url} (often https instead of http, or a trailing /v1).",
        )

    return d(
        Category.UNEXPECTED_RESPONSE,
        f"{what} was rejected ({status}){said}",
        f"Read the message above; check {where.model} and the server's documentation for the parameter it names.",
    )


def _fmt_seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.3g} s"
    return f"{seconds / 60:.1f} min"


# --------------------------------------------------------------------------- transport


TRANSPORT_KINDS = ("dns", "refused", "tls", "timeout", "reset", "bad_url", "bad_header", "proxy", "other")


def classify_transport(kind: str, detail: str = "", *, where: Where | None = None, host: str | None = None,
                       timeout_s: float | None = None) -> Diagnosis:
    """A failure before any HTTP answer. `kind` is one of TRANSPORT_KINDS."""
    where = where or Where()
    host_txt = f" {host}" if host else ""
    detail_txt = f" ({_first_sentence(detail, 200)})" if detail else ""
    if kind == "dns":
        return Diagnosis(
            Category.UNREACHABLE,
            f"DNS: the host name{host_txt} does not resolve{detail_txt}",
            f"Check the host in {where.base_url} for a typo; a cluster-internal name only resolves inside that network "
            "(VPN, same cluster). Try `getent hosts HOST`.",
            details={"kind": kind},
        )
    if kind == "refused":
        return Diagnosis(
            Category.UNREACHABLE,
            f"connection refused by{host_txt or ' the host'}: nothing listens on that port{detail_txt}",
            f"Start the model server (for vLLM: `vllm serve ... --port PORT`) or fix host/port in {where.base_url}; "
            "a server bound to 127.0.0.1 is not reachable from another machine or container.",
            details={"kind": kind},
        )
    if kind == "tls":
        low = detail.lower()
        if "wrong_version_number" in low or "wrong version number" in low or "record layer failure" in low:
            fix = f"The server speaks plain HTTP on that port: use http:// instead of https:// in {where.base_url}."
        elif "certificate" in low or "verify" in low:
            fix = (
                "The server's certificate is not trusted here: a self-signed or corporate-proxy certificate. Point "
                "SSL_CERT_FILE (and REQUESTS_CA_BUNDLE) at the CA bundle that signs it; do not disable verification."
            )
        else:
            fix = f"Check that {where.base_url} uses the right scheme and port, and the host's certificate is valid."
        return Diagnosis(Category.UNREACHABLE, f"TLS handshake with{host_txt or ' the host'} failed{detail_txt}", fix,
                         details={"kind": kind})
    if kind == "timeout":
        within = f" within {timeout_s:.3g} s" if timeout_s else ""
        return Diagnosis(
            Category.UNREACHABLE,
            f"timeout: no answer from{host_txt or ' the host'}{within}{detail_txt}",
            "The server accepted no connection or sent no answer in time: check it is up and not overloaded "
            "(vLLM still loading the model answers nothing), that a firewall does not drop packets, and the port in "
            f"{where.base_url}. Raise --timeout for a slow server.",
            details={"kind": kind},
        )
    if kind == "reset":
        return Diagnosis(
            Category.UNREACHABLE,
            f"connection closed by{host_txt or ' the host'} without an answer{detail_txt}",
            f"The server dropped the connection: it may be crashing, speak HTTPS where {where.base_url} says http:// "
            "(or another protocol), or sit behind a proxy that cuts the request. Check the server's log.",
            details={"kind": kind},
        )
    if kind == "proxy":
        return Diagnosis(
            Category.UNREACHABLE,
            f"the HTTP proxy refused or failed the request{detail_txt}",
            "Check HTTPS_PROXY / HTTP_PROXY, or add the host to NO_PROXY if it should be reached directly.",
            details={"kind": kind},
        )
    if kind == "bad_url":
        return Diagnosis(
            Category.BAD_BASE_URL,
            f"the base URL cannot be requested{detail_txt}",
            f"Fix {where.base_url}: it needs a scheme and host, e.g. https://api.openai.com/v1.",
            details={"kind": kind},
        )
    if kind == "bad_header":
        return Diagnosis(
            Category.INVALID_API_KEY,
            f"the key cannot be sent as an HTTP header (whitespace, newline or non-ASCII characters){detail_txt}",
            f"Remove the stray characters from {where.key} (often a trailing newline from `echo` or a copied space).",
            details={"kind": kind},
        )
    return Diagnosis(
        Category.UNREACHABLE,
        f"could not connect to{host_txt or ' the host'}{detail_txt}",
        f"Check that {where.base_url} is reachable from this machine (curl it).",
        details={"kind": kind},
    )


def transport_kind(exc: BaseException) -> tuple[str, str]:
    """Walk an exception chain (SDK -> httpx -> socket/ssl) to a transport kind and a detail."""
    import socket
    import ssl

    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(chain) < 12:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    names = [type(e).__name__ for e in chain]
    texts = [str(e) for e in chain if str(e)]
    joined = " | ".join(texts).lower()
    detail = next((t for t in reversed(texts) if t and t not in ("Connection error.", "Request timed out.")), "")

    if any(isinstance(e, socket.gaierror) for e in chain) or re.search(
        r"name or service not known|nodename nor servname|getaddrinfo|temporary failure in name resolution|"
        r"no address associated|name resolution|non-existent domain",
        joined,
    ):
        return "dns", detail
    if any(isinstance(e, ssl.SSLError) for e in chain) or re.search(r"\bssl\b|certificate|tls", joined):
        return "tls", detail
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in joined or "errno 111" in joined:
        return "refused", detail
    if any("Timeout" in n for n in names) or "timed out" in joined:
        return "timeout", detail
    if any("Proxy" in n for n in names):
        return "proxy", detail
    if any(n in ("UnsupportedProtocol", "InvalidURL") for n in names) or "missing an 'http://'" in joined:
        return "bad_url", detail
    if any(n == "LocalProtocolError" for n in names) or "illegal header" in joined or "header value" in joined:
        return "bad_header", "illegal header value"
    if any(isinstance(e, UnicodeEncodeError) for e in chain):
        return "bad_header", "non-ASCII character in a header"
    if (
        any(isinstance(e, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)) for e in chain)
        or any(n in ("RemoteProtocolError", "ReadError", "WriteError") for n in names)
        or "disconnected" in joined
        or "reset by peer" in joined
    ):
        return "reset", detail
    return "other", detail
