"""What an endpoint's answer means, and what to change.

Input is what came over the wire: a status code, headers and a body (any of the shapes
OpenAI, vLLM, Azure OpenAI, NVIDIA NIM, OpenRouter or a gateway page use, read by
`bodies.py`). Output is one `Diagnosis`: a stable category, a message and a concrete fix
that names the setting to change. Each status family has one classifier below
(`FAMILIES`); failures before any answer are `transport.py`'s. Classification reads
fields, never an SDK's exception text (it differs between SDK versions).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gym_scaffold.doctor.bodies import (
    ErrorBody,
    first_sentence,
    header,
    parse_body,
    parse_duration,
    parse_rate_limit,
    recommend_concurrency,
)


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


# --------------------------------------------------------------------------- HTTP answers

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


def _provider_hint(where: Where) -> str:
    return {
        "openai": "https://platform.openai.com/api-keys",
        "azure": "the Azure portal: your resource > Keys and Endpoint",
        "nim": "https://build.nvidia.com (an nvapi- key)",
        "openrouter": "https://openrouter.ai/settings/keys",
    }.get(where.provider or "", "the provider's console")


@dataclass
class Answer:
    """One HTTP answer, read once, with what each status family's classifier needs."""

    status: int
    headers: Mapping[str, str]
    body: ErrorBody
    endpoint: str  # models, model or inference
    where: Where
    model: str | None

    @property
    def msg(self) -> str:
        return self.body.message

    @property
    def code(self) -> str:
        return (self.body.code or "").lower()

    @property
    def etype(self) -> str:
        return (self.body.type or "").lower()

    @property
    def said(self) -> str:
        """The server's own message, to quote after ours."""
        return f": {first_sentence(self.msg)}" if self.msg else ""

    @property
    def what(self) -> str:
        names = {"models": "GET /models", "model": "GET /models/{model}", "inference": "the inference call"}
        return names.get(self.endpoint, self.endpoint)

    def d(self, category: Category, message: str, fix: str, **details: Any) -> Diagnosis:
        return Diagnosis(category, message, fix, status_code=self.status, details={"shape": self.body.shape, **details})


def classify_http(
    status: int,
    headers: Mapping[str, str] | None,
    body: Any,
    *,
    endpoint: str = "inference",
    where: Where | None = None,
    model: str | None = None,
) -> Diagnosis:
    """Classify one HTTP answer. `endpoint` is models, model or inference. Each status
    family has its classifier, asked in order; the first that knows the answer wins."""
    headers = headers or {}
    answer = Answer(status, headers, parse_body(body, header(headers, "content-type")), endpoint, where or Where(), model)
    for family in FAMILIES:
        diagnosis = family(answer)
        if diagnosis is not None:
            return diagnosis
    return answer.d(
        Category.UNEXPECTED_RESPONSE,
        f"{answer.what} was rejected ({status}){answer.said}",
        f"Read the message above; check {answer.where.model} and the server's documentation for the parameter it names.",
    )


def _success(a: Answer) -> Diagnosis | None:
    """2xx: an answer, unless it is not the API at all."""
    status, eb, what, where, endpoint = a.status, a.body, a.what, a.where, a.endpoint
    if 200 <= status < 300:
        if eb.shape in ("html", "text") or (endpoint != "inference" and eb.shape == "empty"):
            return a.d(
                Category.BAD_BASE_URL,
                f"{what} answered {status} with {'an HTML page' if eb.shape == 'html' else 'no JSON'}"
                f"{(' (' + eb.html_title + ')') if eb.html_title else ''}: this is not an OpenAI-compatible API",
                f"Point {where.base_url} at the API root, usually ending in /v1 "
                "(e.g. https://api.openai.com/v1 or http://HOST:8000/v1 for vLLM).",
            )
        return a.d(Category.OK, f"{what} answered {status}", "")
    return None


def _gateway_page(a: Answer) -> Diagnosis | None:
    """5xx with an HTML page: a proxy answered for a server that is down."""
    status, eb, what = a.status, a.body, a.what
    if eb.shape == "html" and status >= 500:
        title = eb.html_title or f"HTTP {status}"
        return a.d(
            Category.SERVER_ERROR,
            f"{what} got an HTML gateway page ({title}): a proxy or load balancer answered, "
            "the model server behind it is down or restarting",
            "Check that the model server behind the gateway is running (for vLLM: its log and "
            "`curl BASE/models` on the host); retry once it is up. If it persists, report it to whoever runs the gateway.",
        )
    return None


def _unauthorized(a: Answer) -> Diagnosis | None:
    """401: the key (or the organization it belongs to)."""
    status, eb, msg, code, said, where = a.status, a.body, a.msg, a.code, a.said, a.where
    if status == 401:
        if _ORG_TEXT.search(msg) or code == "mismatched_organization":
            return a.d(
                Category.ORGANIZATION_MISMATCH,
                f"the key belongs to another organization than the one requested{said}",
                "Unset OPENAI_ORG_ID / OPENAI_PROJECT_ID in the environment NeMo Gym runs in (the SDK sends them "
                f"as headers), or set them to the key's organization and project; or use a key of that organization in {where.key}.",
            )
        if _SCOPE_TEXT.search(msg):
            return a.d(
                Category.PERMISSION_DENIED,
                f"the key is valid but lacks a permission{said}",
                "Give the key the scope it lacks: platform.openai.com > API keys > edit the restricted key "
                "(Model capabilities: Write, Models: Read), or use an unrestricted project key in " + where.key + ".",
            )
        if _MISSING_KEY_TEXT.search(msg):
            return a.d(
                Category.MISSING_API_KEY,
                f"the server received no API key{said}",
                f"Set {where.key} to your key (get one at {_provider_hint(where)}).",
            )
        if code == "account_deactivated" or "deactivated" in msg.lower():
            return a.d(
                Category.INVALID_API_KEY,
                f"the key belongs to a deactivated account{said}",
                f"Create a key in an active account/project and put it in {where.key}.",
            )
        azure_hint = (
            " Azure also answers this for a wrong regional endpoint: check " + where.base_url + "."
            if eb.shape == "azure" or where.provider == "azure"
            else ""
        )
        return a.d(
            Category.INVALID_API_KEY,
            f"the server rejected the API key (401){said}",
            f"Replace {where.key} with a valid key for this endpoint (get one at {_provider_hint(where)});"
            " check it was not revoked and belongs to this provider." + azure_hint,
        )
    return None


def _payment_required(a: Answer) -> Diagnosis | None:
    """402: out of credit (OpenRouter and others)."""
    status, said = a.status, a.said
    if status == 402:
        return a.d(
            Category.INSUFFICIENT_QUOTA,
            f"the account is out of credit (402){said}",
            "Add credits or raise the key's spending limit in the provider's billing page; "
            "NeMo Gym retries will not help.",
        )
    return None


def _forbidden(a: Answer) -> Diagnosis | None:
    """403: the key may not do this."""
    status, msg, code, said, what, where = a.status, a.msg, a.code, a.said, a.what, a.where
    if status == 403:
        if _REGION_TEXT.search(msg) or code == "unsupported_country_region_territory":
            return a.d(
                Category.PERMISSION_DENIED,
                f"the provider refuses requests from this country or region{said}",
                "Run from a supported region (a machine or egress proxy located there); the key and config are fine.",
            )
        if code == "model_not_found" or "does not have access to model" in msg.lower():
            return a.d(
                Category.PERMISSION_DENIED,
                f"the key's project has no access to the model{said}",
                f"Allow the model for this project (platform.openai.com > project settings > Limits / model access), "
                f"or use a model the project may call in {where.model}.",
            )
        if _SCOPE_TEXT.search(msg):
            return a.d(
                Category.PERMISSION_DENIED,
                f"the key lacks a permission{said}",
                f"Give the key the missing scope or use an unrestricted key in {where.key}.",
            )
        return a.d(
            Category.PERMISSION_DENIED,
            f"access denied (403) by {what}{said}",
            f"Check that the key in {where.key} may use this model and endpoint (project/model permissions, "
            "IP allow-lists, region); a gateway may also require VPN access.",
        )
    return None


def _quota_or_rate_limit(a: Answer) -> Diagnosis | None:
    """429 and the quota codes other statuses carry."""
    status, headers, eb, msg, code, etype, said, where = a.status, a.headers, a.body, a.msg, a.code, a.etype, a.said, a.where
    if status == 429 or etype == "insufficient_quota" or code in _QUOTA_CODES:
        if etype == "insufficient_quota" or code in _QUOTA_CODES or (_QUOTA_TEXT.search(msg) and "rate limit" not in msg.lower()):
            which = f" ({eb.code})" if eb.code else ""
            return a.d(
                Category.INSUFFICIENT_QUOTA,
                f"the account is out of quota or credit{which}{said}",
                "Add credit or raise the monthly budget (platform.openai.com > Settings > Billing / Limits), or use a "
                f"key of a project with credit in {where.key}. This is not transient: NeMo Gym retries every 429 and will "
                "retry this one forever.",
            )
        if status == 429 and re.search(r"request too large", msg, re.IGNORECASE):
            rl = parse_rate_limit(msg, headers)
            return a.d(
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
        return a.d(
            Category.RATE_LIMITED,
            f"rate limited{scope}{detail}{said}",
            f"Lower concurrency to about {n}: num_samples_in_parallel={n} for ng_collect_rollouts and "
            f"{where.concurrency} = {n} ({basis}). The key and model are fine; NeMo Gym retries 429, so a run slows "
            "down rather than fails. A higher usage tier raises the limit.",
            rate_limit=rl.as_dict(),
            recommended_concurrency=n,
        )
    return None


def _too_large(a: Answer) -> Diagnosis | None:
    """413, or a 400/422 that says the request is too large."""
    status, msg, said = a.status, a.msg, a.said
    if status == 413 or (status in (400, 422) and _TOO_LARGE_TEXT.search(msg)):
        return a.d(
            Category.REQUEST_TOO_LARGE,
            f"the request is larger than the server accepts ({status}){said}",
            "Shorten prompts or lower max_output_tokens / max_tokens; for vLLM raise --max-model-len if the model allows.",
        )
    return None


def _model_or_url(a: Answer) -> Diagnosis | None:
    """400/404/405/422: the model name or the base URL."""
    status, eb, msg, code, said, where, endpoint, model = a.status, a.body, a.msg, a.code, a.said, a.where, a.endpoint, a.model
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
        return a.d(Category.MODEL_NOT_FOUND, f"the model{(' ' + repr(model)) if model else ''} was not found{said}", fix)

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
        return a.d(
            Category.BAD_BASE_URL,
            f"{via} does not exist at this base URL ({status}){said}: wrong path, or not an OpenAI-compatible API",
            f"Fix {where.base_url}: it must be the API root the SDK appends /models and /chat/completions to, usually "
            f"ending in /v1, without an endpoint suffix.{extra}",
        )
    return None


def _server_side(a: Answer) -> Diagnosis | None:
    """408/504 timeouts and every other 5xx."""
    status, msg, code, said = a.status, a.msg, a.code, a.said
    if status in (408, 504):
        return a.d(
            Category.SERVER_ERROR,
            f"the server timed out answering ({status}){said}",
            "The server or a gateway gave up waiting: check the model server's load and log; retry later.",
        )

    if status >= 500:
        if status == 503 or code == "server_is_overloaded" or _OVERLOAD_TEXT.search(msg):
            return a.d(
                Category.SERVER_ERROR,
                f"the server is overloaded or unavailable ({status}){said}",
                "Nothing to change in the config: retry later, or lower concurrency if you run the server yourself.",
            )
        return a.d(
            Category.SERVER_ERROR,
            f"the server failed ({status}){said}",
            "The endpoint itself failed, not your config: retry; if it persists check the model server's log "
            "(for vLLM: the `vllm serve` output) or the provider's status page.",
        )
    return None


def _redirect(a: Answer) -> Diagnosis | None:
    """3xx: the SDK follows no redirect."""
    status, headers, where = a.status, a.headers, a.where
    if 300 <= status < 400:
        location = header(headers, "location")
        return a.d(
            Category.BAD_BASE_URL,
            f"the server redirects ({status}{' to ' + location if location else ''}); the SDK does not follow it",
            f"Use the final URL in {where.base_url} (often https instead of http, or a trailing /v1).",
        )
    return None


FAMILIES: tuple[Callable[[Answer], Diagnosis | None], ...] = (
    _success,
    _gateway_page,
    _unauthorized,
    _payment_required,
    _forbidden,
    _quota_or_rate_limit,
    _too_large,
    _model_or_url,
    _server_side,
    _redirect,
)


def _fmt_seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.3g} s"
    return f"{seconds / 60:.1f} min"
