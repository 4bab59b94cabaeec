"""Classification of real error answers (openai-errors.json), without network."""

from __future__ import annotations

import socket
import ssl

import pytest
from doctor_support import SCENARIOS

from gym_scaffold.doctor.bodies import (
    parse_body,
    parse_duration,
    parse_rate_limit,
    recommend_concurrency,
)
from gym_scaffold.doctor.classify import Category, Where, classify_http
from gym_scaffold.doctor.transport import classify_transport, transport_kind

EXPECTED = {
    "invalid_api_key": Category.INVALID_API_KEY,
    "model_not_found": Category.MODEL_NOT_FOUND,
    "missing_api_key": Category.MISSING_API_KEY,
    "missing_scope": Category.PERMISSION_DENIED,
    "account_deactivated": Category.INVALID_API_KEY,
    "org_mismatch": Category.ORGANIZATION_MISMATCH,
    "region": Category.PERMISSION_DENIED,
    "project_no_model_access": Category.PERMISSION_DENIED,
    "insufficient_quota": Category.INSUFFICIENT_QUOTA,
    "credit_balance_exhausted": Category.INSUFFICIENT_QUOTA,
    "rate_limit_rpm": Category.RATE_LIMITED,
    "rate_limit_tpm": Category.RATE_LIMITED,
    "request_too_large_tpm": Category.REQUEST_TOO_LARGE,
    "slow_down": Category.RATE_LIMITED,
    "server_error": Category.SERVER_ERROR,
    "overloaded": Category.SERVER_ERROR,
    "html_502": Category.SERVER_ERROR,
}


def _ids(s: dict) -> str:
    return f"{s['provider']}-{s['scenario']}"


def test_every_scenario_has_an_expectation():
    assert {s["scenario"] for s in SCENARIOS} <= set(EXPECTED)


@pytest.mark.parametrize("scn", SCENARIOS, ids=_ids)
@pytest.mark.parametrize("as_text", [True, False], ids=["raw-text", "decoded"])
def test_scenario_category(scn, as_text):
    import json

    body = scn["body"]
    if as_text and not isinstance(body, str):
        body = json.dumps(body)
    endpoint = scn["endpoints"][0]
    d = classify_http(scn["status"], scn["headers"], body, endpoint=endpoint, where=Where(key="env.yaml: policy_api_key"))
    assert d.category is EXPECTED[scn["scenario"]], d.message
    assert d.status_code == scn["status"]
    assert d.message and d.fix


def test_fix_names_the_setting():
    scn = next(s for s in SCENARIOS if s["provider"] == "openai" and s["scenario"] == "invalid_api_key")
    d = classify_http(401, {}, scn["body"], where=Where(key="policy_api_key in env.yaml:2"))
    assert "policy_api_key in env.yaml:2" in d.fix


@pytest.mark.parametrize(
    "shape,body",
    [
        ("openai", {"error": {"message": "m", "type": "t", "param": None, "code": "c"}}),
        ("vllm", {"error": "Unauthorized"}),
        ("vllm", {"error": {"message": "m", "type": "NotFoundError", "param": "model", "code": 404}}),
        ("vllm_legacy", {"object": "error", "message": "m", "type": "NotFoundError", "param": None, "code": 404}),
        ("azure", {"error": {"code": "DeploymentNotFound", "message": "m"}}),
        ("nim", {"status": 401, "title": "Unauthorized", "detail": "Authentication failed"}),
        ("openrouter", {"error": {"message": "m", "code": 401}}),
        ("fastapi", {"detail": "Not Found"}),
        ("html", "<html><head><title>502 Bad Gateway</title></head></html>"),
        ("text", "upstream connect error"),
        ("empty", ""),
    ],
)
def test_body_shapes(shape, body):
    assert parse_body(body).shape == shape


def test_rate_limit_rpm_reports_limit_used_reset_and_concurrency():
    scn = next(s for s in SCENARIOS if s["provider"] == "openai" and s["scenario"] == "rate_limit_rpm")
    d = classify_http(429, scn["headers"], scn["body"], where=Where(concurrency="max_concurrent_requests under x"))
    assert d.category is Category.RATE_LIMITED
    assert "limit 3 RPM" in d.message and "used 3" in d.message and "resets in 20 s" in d.message
    assert "num_samples_in_parallel=1" in d.fix and "max_concurrent_requests under x = 1" in d.fix
    assert d.details["recommended_concurrency"] == 1


def test_rate_limit_tpm_recommends_from_tokens_per_request():
    scn = next(s for s in SCENARIOS if s["provider"] == "openai" and s["scenario"] == "rate_limit_tpm")
    d = classify_http(429, scn["headers"], scn["body"])
    # 30000 TPM / 385 tokens per request = ~78 requests/min, but the headers say 60 requests/min:
    # the tighter one wins, at 10 s per request 10 in parallel
    assert d.details["recommended_concurrency"] == 10
    assert "limit 30000 TPM" in d.message and "used 29937" in d.message and "644 ms" in d.message


def test_rate_limit_from_headers_only():
    headers = {"x-ratelimit-limit-requests": "600", "x-ratelimit-remaining-requests": "0",
               "x-ratelimit-reset-requests": "4m12.172s"}
    d = classify_http(429, headers, {"error": {"message": "Too many requests", "code": "rate_limit_exceeded"}})
    assert d.category is Category.RATE_LIMITED
    assert "600 requests" in d.message and "4.2 min" in d.message
    assert d.details["recommended_concurrency"] == 100


def test_azure_rate_limit_uses_retry_after():
    scn = next(s for s in SCENARIOS if s["provider"] == "azure" and s["scenario"] == "rate_limit_rpm")
    rl = parse_rate_limit(scn["body"]["error"]["message"], scn["headers"])
    assert rl.retry_after_s == 1 and rl.scope == "requests"


def test_azure_negative_headers_ignored():
    rl = parse_rate_limit("", {"x-ratelimit-remaining-requests": "-1", "x-ratelimit-limit-tokens": "0"})
    assert rl.header_remaining_requests is None
    n, _ = recommend_concurrency(rl)
    assert n == 1


@pytest.mark.parametrize("text,seconds", [("20s", 20), ("6m0s", 360), ("644ms", 0.644), ("4m12.172s", 252.172),
                                          ("1h2m", 3720), ("1", 1), ("", None), ("soon", None), ("-1", None)])
def test_durations(text, seconds):
    got = parse_duration(text)
    assert got == pytest.approx(seconds) if seconds is not None else got is None


def test_quota_checked_before_rate_limit_code():
    # older bodies: code null, type insufficient_quota
    d = classify_http(429, {}, {"error": {"message": "You exceeded your current quota", "type": "insufficient_quota",
                                          "code": None}})
    assert d.category is Category.INSUFFICIENT_QUOTA
    assert "forever" in d.fix


@pytest.mark.parametrize(
    "status,body,endpoint,category",
    [
        (404, {"detail": "Not Found"}, "models", Category.BAD_BASE_URL),
        (404, "<html><title>404 Not Found</title></html>", "inference", Category.BAD_BASE_URL),
        (200, "<!DOCTYPE html><html><title>Welcome</title></html>", "models", Category.BAD_BASE_URL),
        (200, "not json", "models", Category.BAD_BASE_URL),
        (502, "<html><head><title>502 Bad Gateway</title></head></html>", "inference", Category.SERVER_ERROR),
        (503, "", "inference", Category.SERVER_ERROR),
        (504, "", "models", Category.SERVER_ERROR),
        (413, "", "inference", Category.REQUEST_TOO_LARGE),
        (400, {"error": {"message": "This model's maximum context length is 8192 tokens", "code": "context_length_exceeded"}},
         "inference", Category.REQUEST_TOO_LARGE),
        (400, {"error": {"message": "Unsupported parameter: 'foo'", "type": "invalid_request_error"}}, "inference",
         Category.UNEXPECTED_RESPONSE),
        (307, "", "models", Category.BAD_BASE_URL),
        (402, {"error": {"message": "Payment required"}}, "inference", Category.INSUFFICIENT_QUOTA),
        (401, {"detail": "Missing bearer authentication"}, "models", Category.MISSING_API_KEY),
    ],
)
def test_other_answers(status, body, endpoint, category):
    assert classify_http(status, {}, body, endpoint=endpoint).category is category


def test_inference_404_explains_responses_api():
    d = classify_http(404, {}, {"detail": "Not Found"}, endpoint="inference")
    assert "Responses API" in d.fix


def _chain(outer: BaseException, inner: BaseException) -> BaseException:
    outer.__cause__ = inner
    return outer


@pytest.mark.parametrize(
    "exc,kind",
    [
        (_chain(RuntimeError("Connection error."), socket.gaierror(-2, "Name or service not known")), "dns"),
        (_chain(RuntimeError("Connection error."), ConnectionRefusedError(111, "Connection refused")), "refused"),
        (_chain(RuntimeError("Connection error."), ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")), "tls"),
        (_chain(RuntimeError("Connection error."), ConnectionResetError(104, "Connection reset by peer")), "reset"),
        (TimeoutError("timed out"), "timeout"),
        (ValueError("something else"), "other"),
    ],
)
def test_transport_kinds(exc, kind):
    assert transport_kind(exc)[0] == kind


@pytest.mark.parametrize("kind", ["dns", "refused", "tls", "timeout", "reset", "proxy", "other"])
def test_transport_is_unreachable_with_kind(kind):
    d = classify_transport(kind, "detail", host="example.invalid")
    assert d.category is Category.UNREACHABLE
    assert d.details["kind"] == kind and d.fix


def test_tls_wrong_version_says_use_http():
    d = classify_transport("tls", "[SSL: WRONG_VERSION_NUMBER] wrong version number", where=Where(base_url="B"))
    assert "use http://" in d.fix and "B" in d.fix
