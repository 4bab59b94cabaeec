"""`doctor --log`: the same diagnoses from text a user already has, with no network.

The texts are built the way the openai SDK and NeMo Gym build them from the real bodies of
openai-errors.json: SDK 1.x `Error code: 429 - {'error': {...}}` (a Python dict repr), later
`Error code: 429 - <message>`, NeMo Gym's `Hit an exception in X calling an inner server: b'...'`
(nested and JSON-escaped), its upstream failure log, and failures JSONL records.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from doctor_support import KEY, SCENARIOS, assert_no_key, clean_env, mask, run_cli, scenario
from test_doctor_cli import EXPECTED, doctor

from gym_scaffold.doctor.logscan import scan


def _ids(s: dict) -> str:
    return f"{s['provider']}-{s['scenario']}"


def sdk1_line(scn: dict) -> str:
    cls = {401: "AuthenticationError", 403: "PermissionDeniedError", 404: "NotFoundError", 429: "RateLimitError",
           400: "BadRequestError"}.get(scn["status"], "InternalServerError" if scn["status"] >= 500 else "APIStatusError")
    return f"openai.{cls}: Error code: {scn['status']} - {scn['body']!r}"


def nemo_wrapped(body: object, server: str = "policy_model") -> str:
    content = (json.dumps(body) if not isinstance(body, str) else body).encode()
    return f"Hit an exception in {server} calling an inner server: {content!r}"


@pytest.mark.parametrize("scn", SCENARIOS, ids=_ids)
def test_sdk_1x_message(scn):
    findings = scan("2026-08-22 10:00:01 ERROR rollout failed\n" + sdk1_line(scn) + "\n")
    assert [f.diagnosis.category.value for f in findings] == [EXPECTED[scn["scenario"]]]
    assert findings[0].diagnosis.status_code == scn["status"]


@pytest.mark.parametrize("scn", [s for s in SCENARIOS if isinstance(s["body"], dict) and "error" in s["body"]
                                 and isinstance(s["body"]["error"], dict)], ids=_ids)
def test_sdk_message_only(scn):
    # later SDKs print only the message after the status
    line = f"Error code: {scn['status']} - {scn['body']['error']['message']}"
    findings = scan(line)
    assert len(findings) == 1
    got = findings[0].diagnosis.category.value
    # without code/type, a 429's three meanings are told apart by the message alone
    assert got == EXPECTED[scn["scenario"]] or scn["scenario"] in ("org_mismatch", "project_no_model_access",
                                                                   "region", "account_deactivated")


@pytest.mark.parametrize("scn", [s for s in SCENARIOS if not isinstance(s["body"], str)], ids=_ids)
def test_nemo_gym_wrapped(scn):
    findings = scan(nemo_wrapped(scn["body"]))
    assert len(findings) == 1
    f = findings[0]
    assert f.source == "policy_model"
    want = EXPECTED[scn["scenario"]]
    # the wrapper drops the status: a few bodies only say which family they are
    assert f.diagnosis.category.value == want or (scn["provider"], scn["scenario"]) in {
        ("openai", "missing_api_key"), ("openrouter", "model_not_found"), ("openai", "server_error"),
    }


def test_nemo_gym_nested_and_json_escaped():
    inner = nemo_wrapped(scenario("openai", "insufficient_quota")["body"])
    outer = f"Hit an exception in simple_agent calling an inner server: {json.dumps(inner).encode()!r}"
    findings = scan(outer)
    assert [f.diagnosis.category.value for f in findings] == ["insufficient_quota"]
    assert findings[0].source == "policy_model"
    # the same, as a client sees NeMo Gym's JSON response body
    findings = scan(json.dumps(inner))
    assert [f.diagnosis.category.value for f in findings] == ["insufficient_quota"]


def test_upstream_failure_log_with_status():
    scn = scenario("openai", "server_error")
    text = (
        "🚨 [upstream_request_failed] server=policy_model method=POST url=https://api.openai.com/v1/responses "
        "status=500\n"
        f"Response content: {json.dumps(scn['body'])}\n"
    )
    findings = scan(text)
    assert [(f.source, f.diagnosis.category.value, f.diagnosis.status_code) for f in findings] == [
        ("policy_model", "server_error", 500)
    ]


def test_failures_jsonl():
    records = [
        {"task_id": 1, "error": nemo_wrapped(scenario("openai", "rate_limit_tpm")["body"])},
        {"task_id": 2, "status_code": 401, "response": scenario("vllm", "invalid_api_key")["body"]},
        {"task_id": 3, "error": {"error": {"code": "DeploymentNotFound", "message": "The API deployment for this "
                                           "resource does not exist."}}},
        {"task_id": 4, "ok": True},
    ]
    text = "\n".join(json.dumps(r) for r in records)
    got = [f.diagnosis.category.value for f in scan(text)]
    assert got == ["rate_limited", "invalid_api_key", "model_not_found"]


def test_repeated_errors_are_counted_once():
    line = sdk1_line(scenario("openai", "insufficient_quota"))
    findings = scan("\n".join([line] * 50))
    assert len(findings) == 1 and findings[0].count == 50


@pytest.mark.parametrize("text,kind", [
    (("aiohttp.client_exceptions.ClientConnectorError: Cannot connect to host 127.0.0.1:8000 ssl:default "
     "[Connect call failed ('127.0.0.1', 8000)]"), "refused"),
    ("Cannot connect to host vllm-0:8000 ssl:default [Temporary failure in name resolution]", "dns"),
    ("aiohttp.client_exceptions.ServerDisconnectedError: Server disconnected", "reset"),
    ("openai.APITimeoutError: Request timed out.", "timeout"),
    ("ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", "tls"),
])
def test_transport_lines(text, kind):
    findings = scan(text)
    assert len(findings) == 1
    assert findings[0].diagnosis.category.value == "unreachable"
    assert findings[0].diagnosis.details["kind"] == kind


def test_no_errors_is_ok():
    assert scan("INFO all good\nrollouts: 128/128\n") == []


def test_garbage_never_crashes():
    texts = ["{", "Error code: 429 - {'error': ", "Hit an exception in x calling an inner server: b'",
             "Hit an exception in x calling an inner server: b'{\"error\": [}'", "\x00\xff" * 100,
             "{" * 5000, "Error code: 999 - ???", json.dumps({"error": None})]
    for t in texts:
        scan(t)


# ----------------------------------------------------------------------------- through the CLI


def test_log_file_cli_json(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "run.log"
    invalid = json.loads(json.dumps(scenario("openai", "invalid_api_key")["body"]).replace(
        "sk-proj-****************************1234", mask(KEY)))
    log.write_text("\n".join([
        "starting servers",
        nemo_wrapped(invalid),
        sdk1_line(scenario("openai", "rate_limit_rpm")),
        f"echo of a leaked key {KEY} in a log",
    ]))
    code, out, err = doctor("--log", str(log), "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert [d["category"] for d in report["diagnoses"]] == ["invalid_api_key", "rate_limited"]
    assert report["diagnoses"][0]["server"] == "policy_model"
    assert_no_key(out + err)


def test_log_stdin_subprocess(tmp_path: Path):
    text = sdk1_line(scenario("openai", "insufficient_quota")) + "\n"
    r = run_cli(["doctor", "--log", "-"], cwd=tmp_path, env=clean_env(), stdin=text)
    assert r.returncode == 1, r.stderr
    assert "insufficient_quota" in r.stdout and "fix:" in r.stdout


def test_log_without_errors_exits_0(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ok.log").write_text("INFO fine\n")
    code, out, _ = doctor("--log", "ok.log")
    assert code == 0 and "no model-server error" in out


def test_log_scrubs_env_yaml_key(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    short = "localkey99"  # not key-shaped: only known because env.yaml holds it
    (tmp_path / "env.yaml").write_text(f"policy_api_key: {short}\n")
    body = {"error": {"message": f"Incorrect API key provided: {short}.", "type": "invalid_request_error",
                      "code": "invalid_api_key"}}
    (tmp_path / "x.log").write_text(f"Error code: 401 - {body!r}\n")
    code, out, err = doctor("--log", "x.log")
    assert code == 1 and "invalid_api_key" in out and short not in out + err


def test_log_keeps_text_that_only_shares_env_yaml_values(tmp_path: Path):
    """Only keys are scrubbed: env.yaml's base URL must not mangle the provider's help URL."""
    (tmp_path / "env.yaml").write_text(
        f"policy_base_url: https://api.openai.com/v1\npolicy_api_key: {KEY}\npolicy_model_name: gpt-4o-mini\n"
    )
    text = sdk1_line(scenario("openai", "invalid_api_key")) + "\n"
    r = run_cli(["doctor", "--log", "-"], cwd=tmp_path, env=clean_env(), stdin=text)
    assert r.returncode == 1, r.stderr
    assert "https://platform.openai.com/account/api-keys" in r.stdout
    assert_no_key(r.stdout + r.stderr)
