"""`gym-scaffold doctor` against a real HTTP server on 127.0.0.1 playing real error answers.

No mock of the openai SDK: the command runs for real (in-process through click, or as a
subprocess where timing, stderr or a fresh interpreter matter) and talks HTTP to
`doctor_support.FakeEndpoint`.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from doctor_support import (
    KEY,
    KEY_ENV,
    MODEL,
    REPO,
    SCENARIOS,
    FakeEndpoint,
    Reply,
    assert_no_key,
    clean_env,
    run_cli,
    scenario,
)

from gym_scaffold.cli import cli

EXPECTED = {
    "invalid_api_key": "invalid_api_key",
    "model_not_found": "model_not_found",
    "missing_api_key": "missing_api_key",
    "missing_scope": "permission_denied",
    "account_deactivated": "invalid_api_key",
    "org_mismatch": "organization_mismatch",
    "region": "permission_denied",
    "project_no_model_access": "permission_denied",
    "insufficient_quota": "insufficient_quota",
    "credit_balance_exhausted": "insufficient_quota",
    "rate_limit_rpm": "rate_limited",
    "rate_limit_tpm": "rate_limited",
    "request_too_large_tpm": "request_too_large",
    "slow_down": "rate_limited",
    "server_error": "server_error",
    "overloaded": "server_error",
    "html_502": "server_error",
}

# which implementation a provider's scenarios run under
IMPLEMENTATION = {
    "openai": "openai_model",
    "vllm": "vllm_model",
    "vllm_legacy": "vllm_model",
    "azure": "azure_openai_model",
    "nim": "inference_provider",
    "openrouter": "inference_provider",
}


AZURE_KEY = "3f9c2b7a1d8e4f60a5b9c3d2e1f0a7b6"  # Azure keys: 32 hex characters, no prefix


@pytest.fixture
def endpoint():
    with FakeEndpoint() as ep:
        yield ep


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def doctor(*args: str, env: dict[str, str | None] | None = None, stdin: str | None = None):
    """Run the real command in-process; returns (exit code, stdout, stderr)."""
    base: dict[str, str | None] = {KEY_ENV: KEY, "NO_PROXY": "127.0.0.1,localhost"}
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "HTTP_PROXY",
                 "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        base[name] = None
    base.update(env or {})
    runner = CliRunner()
    result = runner.invoke(cli, ["doctor", *args], env=base, input=stdin, standalone_mode=False,
                           catch_exceptions=False)
    code = result.return_value if isinstance(result.return_value, int) else result.exit_code
    return code, result.stdout, result.stderr


def doctor_json(*args: str, **kw):
    code, out, err = doctor(*args, "--format", "json", **kw)
    assert_no_key(out + err)
    return code, json.loads(out)


def write_config(dirpath: Path, impl: str, url: str | list[str], model: str = MODEL, extra: str = "",
                 name: str = "policy_model") -> Path:
    fields = {
        "openai_model": ("openai_base_url", "openai_api_key", "openai_model"),
        "litellm_model": ("openai_base_url", "openai_api_key", "openai_model"),
        "azure_openai_model": ("openai_base_url", "openai_api_key", "openai_model"),
        "vllm_model": ("base_url", "api_key", "model"),
        "inference_provider": ("base_url", "api_key", "model"),
    }[impl]
    url_yaml = json.dumps(url)
    text = (
        f"{name}:\n  responses_api_models:\n    {impl}:\n      entrypoint: app.py\n"
        f"      {fields[0]}: {url_yaml}\n      {fields[1]}: ${{policy_api_key}}\n      {fields[2]}: {model}\n"
    )
    if impl == "azure_openai_model":
        text += "      default_query:\n        api-version: 2024-10-21\n      num_concurrent_requests: 8\n"
    text += extra
    path = dirpath / f"{name}.yaml"
    path.write_text(text)
    return path


def _base_for(impl: str, ep: FakeEndpoint) -> str:
    # Azure's endpoint is the resource root; the SDK adds /openai/deployments/<name>/...
    return f"http://127.0.0.1:{ep.port}" if impl == "azure_openai_model" else ep.url


def _ids(s: dict) -> str:
    return f"{s['provider']}-{s['scenario']}"


# ----------------------------------------------------------------------------- scenarios


@pytest.mark.parametrize("scn", SCENARIOS, ids=_ids)
def test_scenario_from_config(scn, endpoint, workdir):
    impl = IMPLEMENTATION[scn["provider"]]
    endpoint.play(scn)
    cfg = write_config(workdir, impl, _base_for(impl, endpoint))
    key = AZURE_KEY if impl == "azure_openai_model" else KEY
    code, out, err = doctor("--config", str(cfg), "--api-key-env", KEY_ENV, "--format", "json", env={KEY_ENV: key})
    assert_no_key(out + err, key)
    report = json.loads(out)
    assert code == 1
    assert len(report["diagnoses"]) == 1
    d = report["diagnoses"][0]
    assert d["server"] == "policy_model"
    assert d["category"] == EXPECTED[scn["scenario"]], d
    assert d["status_code"] == scn["status"]
    assert d["fix"]
    # the key reached the server, in the header the provider expects
    assert endpoint.requests and all(r["key"] == key for r in endpoint.requests)
    if impl == "azure_openai_model":
        assert all("authorization" not in {k.lower() for k in r["headers"]} for r in endpoint.requests)
    # the first failing endpoint is the one the scenario names, and nothing after it is called
    posts = [r for r in endpoint.requests if r["method"] == "POST"]
    if scn["endpoints"] == ["inference"]:
        assert len(posts) == 1, "exactly one inference request (max_retries=0)"
        want = "/responses" if impl == "openai_model" else "/chat/completions"
        assert posts[0]["path"].split("?")[0].endswith(want)
    elif "models" in scn["endpoints"]:
        assert not posts and len(endpoint.requests) == 1


@pytest.mark.parametrize("scn", [s for s in SCENARIOS if s["provider"] == "openai"], ids=_ids)
def test_openai_scenario_with_flags(scn, endpoint, workdir):
    endpoint.play(scn)
    code, out, err = doctor("--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV)
    assert_no_key(out + err)
    assert code == 1
    assert f"=> endpoint: {EXPECTED[scn['scenario']]}" in out
    assert "fix:" in out


def test_rate_limit_text_reports_figures_and_concurrency(endpoint, workdir):
    endpoint.play(scenario("openai", "rate_limit_rpm"))
    cfg = write_config(workdir, "openai_model", endpoint.url)
    code, out, _ = doctor("--config", str(cfg), "--api-key-env", KEY_ENV)
    assert code == 1
    assert "limit 3 RPM" in out and "used 3" in out and "resets in 20 s" in out
    assert "num_samples_in_parallel=1" in out
    assert "max_concurrent_requests under policy_model.responses_api_models.openai_model" in out


def test_azure_rate_limit_names_num_concurrent_requests(endpoint, workdir):
    endpoint.play(scenario("azure", "rate_limit_rpm"))
    cfg = write_config(workdir, "azure_openai_model", _base_for("azure_openai_model", endpoint))
    _code, report = doctor_json("--config", str(cfg), "--api-key-env", KEY_ENV, env={KEY_ENV: AZURE_KEY})
    d = report["diagnoses"][0]
    assert d["category"] == "rate_limited"
    assert "num_concurrent_requests" in d["fix"]
    post = next(r for r in endpoint.requests if r["method"] == "POST")
    assert f"/openai/deployments/{MODEL}/chat/completions" in post["path"]
    assert "api-version=2024-10-21" in post["path"]


def test_retry_after_90_is_not_waited_for(endpoint, workdir):
    s = dict(scenario("openai", "rate_limit_rpm"))
    endpoint.set("inference", Reply(429, {**s["headers"], "retry-after": "90", "retry-after-ms": "90000"}, s["body"]))
    started = time.monotonic()
    _code, report = doctor_json("--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV,
                               "--timeout", "5")
    assert time.monotonic() - started < 5
    assert report["diagnoses"][0]["category"] == "rate_limited"
    assert len([r for r in endpoint.requests if r["method"] == "POST"]) == 1


def test_ok_exit_0(endpoint, workdir):
    cfg = write_config(workdir, "openai_model", endpoint.url)
    code, report = doctor_json("--config", str(cfg), "--api-key-env", KEY_ENV)
    assert code == 0 and report["ok"] is True
    assert [d["category"] for d in report["diagnoses"]] == ["ok"]
    post = next(r for r in endpoint.requests if r["method"] == "POST")
    assert post["path"] == "/v1/responses"
    assert post["body"]["max_output_tokens"] == 16  # the smallest budget the Responses API accepts


def test_chat_inference_uses_one_token(endpoint, workdir):
    cfg = write_config(workdir, "vllm_model", endpoint.url)
    code, _ = doctor_json("--config", str(cfg), "--api-key-env", KEY_ENV)
    assert code == 0
    post = next(r for r in endpoint.requests if r["method"] == "POST")
    assert post["path"] == "/v1/chat/completions" and post["body"]["max_tokens"] == 1


def test_max_tokens_rejected_retries_with_max_completion_tokens(endpoint, workdir):
    endpoint.set("inference", Reply(400, {}, {"error": {
        "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                   "'max_completion_tokens' instead.", "type": "invalid_request_error", "param": "max_tokens",
        "code": "unsupported_parameter"}}))
    _code, report = doctor_json("--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV)
    posts = [r["body"] for r in endpoint.requests if r["method"] == "POST"]
    assert posts[0].get("max_tokens") == 1 and posts[1].get("max_completion_tokens") == 1
    assert report["diagnoses"][0]["category"] == "unexpected_response"  # the server rejects both here


def test_no_inference_sends_no_post(endpoint, workdir):
    endpoint.play(scenario("openai", "insufficient_quota"))
    code, report = doctor_json("--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV,
                               "--no-inference")
    assert code == 0
    assert not [r for r in endpoint.requests if r["method"] == "POST"]
    inference = next(c for c in report["checks"] if c["id"] == "endpoint/inference")
    assert inference["status"] == "skipped"


def test_vllm_base_url_list_gets_one_diagnosis_per_url(endpoint, workdir):
    closed = _closed_port()
    cfg = write_config(workdir, "vllm_model", [endpoint.url, f"http://127.0.0.1:{closed}/v1"])
    code, report = doctor_json("--config", str(cfg), "--api-key-env", KEY_ENV)
    assert code == 1
    got = {d["server"]: d["category"] for d in report["diagnoses"]}
    assert got == {"policy_model[0]": "ok", "policy_model[1]": "unreachable"}


def test_server_selects_one_instance(endpoint, workdir):
    write_config(workdir, "openai_model", endpoint.url, name="policy_model")
    write_config(workdir, "vllm_model", endpoint.url, name="judge_model")
    code, report = doctor_json("--config", "policy_model.yaml", "--config", "judge_model.yaml",
                               "--server", "judge_model", "--api-key-env", KEY_ENV)
    assert code == 0
    assert [d["server"] for d in report["diagnoses"]] == ["judge_model"]


def test_every_model_server_of_the_config_is_checked(endpoint, workdir):
    write_config(workdir, "openai_model", endpoint.url, name="policy_model")
    write_config(workdir, "vllm_model", endpoint.url, name="judge_model")
    _code, report = doctor_json("--config", "policy_model.yaml", "--config", "judge_model.yaml",
                               "--api-key-env", KEY_ENV)
    assert sorted(d["server"] for d in report["diagnoses"]) == ["judge_model", "policy_model"]


# ----------------------------------------------------------------------------- misbehaving servers


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_refused(workdir):
    code, report = doctor_json("--base-url", f"http://127.0.0.1:{_closed_port()}/v1", "--model", MODEL,
                               "--api-key-env", KEY_ENV)
    d = report["diagnoses"][0]
    assert code == 1 and d["category"] == "unreachable" and "refused" in d["message"]


def test_dns(workdir):
    _code, report = doctor_json("--base-url", "http://no-such-host.invalid/v1", "--model", MODEL,
                               "--api-key-env", KEY_ENV, "--timeout", "8")
    d = report["diagnoses"][0]
    assert d["category"] == "unreachable" and ("DNS" in d["message"] or "timeout" in d["message"])


def test_tls_against_plain_http(endpoint, workdir):
    url = endpoint.url.replace("http://", "https://")
    _code, report = doctor_json("--base-url", url, "--model", MODEL, "--api-key-env", KEY_ENV)
    d = report["diagnoses"][0]
    assert d["category"] == "unreachable" and "TLS" in d["message"]
    assert "http://" in d["fix"]


@pytest.mark.parametrize("where", ["models", "inference"])
def test_hang_is_bounded_by_timeout(endpoint, workdir, where):
    endpoint.set(where, Reply(behaviour="hang"))
    started = time.monotonic()
    code, report = doctor_json("--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV,
                               "--timeout", "2")
    assert time.monotonic() - started < 3
    d = report["diagnoses"][0]
    assert code == 1 and d["category"] == "unreachable" and "timeout" in d["message"]
    assert "accepted the connection" in d["message"]


def test_slow_trickle_is_bounded_by_timeout(endpoint, workdir):
    endpoint.set("models", Reply(200, {}, {"object": "list", "data": [{"id": MODEL}] * 20}, behaviour="slow"))
    started = time.monotonic()
    _code, report = doctor_json("--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV,
                               "--timeout", "2")
    assert time.monotonic() - started < 3
    assert report["diagnoses"][0]["category"] == "unreachable"


def test_slow_but_within_budget_is_ok(endpoint, workdir):
    endpoint.set("models", Reply(delay=0.5))
    code, _report = doctor_json("--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV)
    assert code == 0


@pytest.mark.parametrize("where", ["models", "inference"])
def test_connection_reset(endpoint, workdir, where):
    endpoint.set(where, Reply(behaviour="reset"))
    code, report = doctor_json("--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV)
    d = report["diagnoses"][0]
    assert code == 1 and d["category"] == "unreachable" and "closed" in d["message"]


def test_invalid_json_models(endpoint, workdir):
    endpoint.set("models", Reply(200, {}, "{not json", content_type="application/json"))
    _code, report = doctor_json("--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV)
    assert report["diagnoses"][0]["category"] == "bad_base_url"


def test_invalid_json_inference(endpoint, workdir):
    endpoint.set("inference", Reply(200, {}, "OK", content_type="application/json"))
    _code, report = doctor_json("--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV)
    assert report["diagnoses"][0]["category"] == "bad_base_url"


def test_html_502_on_models(endpoint, workdir):
    endpoint.set("models", Reply(502, {}, scenario("openai", "html_502")["body"]))
    _code, report = doctor_json("--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV)
    d = report["diagnoses"][0]
    assert d["category"] == "server_error" and "502 Bad Gateway" in d["message"]


def test_base_url_without_v1(endpoint, workdir):
    endpoint.root = "/v1"
    _code, report = doctor_json("--base-url", f"http://127.0.0.1:{endpoint.port}", "--model", MODEL,
                               "--api-key-env", KEY_ENV)
    d = report["diagnoses"][0]
    assert d["category"] == "bad_base_url" and "/v1" in d["fix"]
    warn = [c for c in report["checks"] if c["id"] == "endpoint/base_url"]
    assert warn and warn[0]["status"] == "warning"


def test_model_not_listed_and_no_model_route(workdir):
    with FakeEndpoint(served=["meta/llama-3.1-8b-instruct", "Qwen/Qwen3-8B"]) as ep:
        ep.set("model", Reply(404, {}, {"detail": "Not Found"}))  # vLLM has no GET /models/{id}
        _code, report = doctor_json("--base-url", ep.url, "--model", "Qwen3-8B", "--api-key-env", KEY_ENV)
        d = report["diagnoses"][0]
        assert d["category"] == "model_not_found"
        assert "Qwen/Qwen3-8B" in d["fix"]
        assert not [r for r in ep.requests if r["method"] == "POST"]


def test_openai_model_against_chat_only_server(endpoint, workdir):
    endpoint.set("inference", Reply(404, {}, {"detail": "Not Found"}))
    cfg = write_config(workdir, "openai_model", endpoint.url)
    _code, report = doctor_json("--config", str(cfg), "--api-key-env", KEY_ENV)
    d = report["diagnoses"][0]
    assert d["category"] == "bad_base_url" and "Responses API" in d["fix"]


# ----------------------------------------------------------------------------- keys


@pytest.mark.parametrize("value", ["???", "??", "", "your-api-key", "<api_key>", "sk-...", "${oc.env:NOPE_KEY}"])
def test_placeholder_key_sends_nothing(endpoint, workdir, value):
    (workdir / "env.yaml").write_text(
        f"policy_base_url: {endpoint.url}\npolicy_api_key: {json.dumps(value)}\npolicy_model_name: {MODEL}\n")
    code, report = doctor_json()
    assert code == 1
    assert [d["category"] for d in report["diagnoses"]] == ["missing_api_key"]
    assert endpoint.requests == []
    assert "env.yaml" in report["diagnoses"][0]["fix"] or "NOPE_KEY" in report["diagnoses"][0]["fix"]


def test_missing_env_yaml_key_is_missing_api_key(endpoint, workdir):
    (workdir / "env.yaml").write_text(f"policy_base_url: {endpoint.url}\npolicy_model_name: {MODEL}\n")
    cfg = write_config(workdir, "openai_model", endpoint.url)
    _code, report = doctor_json("--config", str(cfg))
    d = report["diagnoses"][0]
    assert d["category"] == "missing_api_key" and "policy_api_key" in d["fix"]
    assert endpoint.requests == []


@pytest.mark.parametrize(
    "key,category",
    [
        (KEY + "\n", "invalid_api_key"),
        (" " + KEY, "invalid_api_key"),
        ('"' + KEY + '"', "invalid_api_key"),
        ("Bearer " + KEY, "invalid_api_key"),
        (KEY[:20] + "\u2013" + KEY[21:], "invalid_api_key"),
        ("sk-admin-" + KEY[8:], "invalid_api_key"),
    ],
    ids=["newline", "space", "quotes", "bearer", "non-ascii", "admin"],
)
def test_key_hygiene(endpoint, workdir, key, category):
    _code, out, err = doctor("--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV,
                            "--format", "json", env={KEY_ENV: key})
    assert_no_key(out + err, key.strip().strip('"'))
    report = json.loads(out)
    assert [d["category"] for d in report["diagnoses"]] == [category]
    assert endpoint.requests == []


def test_key_of_another_provider(workdir):
    _code, report = doctor_json("--base-url", "https://api.openai.com/v1", "--model", MODEL,
                               "--api-key-env", KEY_ENV, env={KEY_ENV: "nvapi-" + "A1b2C3d4" * 6})
    d = report["diagnoses"][0]
    assert d["category"] == "invalid_api_key" and "NVIDIA" in d["message"]


def test_dummy_key_fine_for_local_vllm(endpoint, workdir):
    code, _report = doctor_json("--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV,
                               env={KEY_ENV: "EMPTY"})
    assert code == 0


def test_dummy_key_rejected_for_openai(workdir):
    _code, report = doctor_json("--base-url", "https://api.openai.com/v1", "--model", MODEL,
                               "--api-key-env", KEY_ENV, env={KEY_ENV: "EMPTY"})
    assert report["diagnoses"][0]["category"] == "missing_api_key"


def test_short_key_echoed_whole_is_scrubbed(endpoint, workdir):
    short = "abc12345xy"  # under 13 characters: OpenAI echoes it whole
    s = scenario("openai", "invalid_api_key")
    body = json.loads(json.dumps(s["body"]).replace("sk-proj-****************************1234", short))
    endpoint.set("models", Reply(401, {}, body))
    code, out, err = doctor("--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV,
                            env={KEY_ENV: short})
    assert code == 1 and "invalid_api_key" in out
    assert short not in out + err
    assert_no_key(out + err, short)


def test_key_in_env_yaml_never_printed(endpoint, workdir):
    (workdir / "env.yaml").write_text(
        f"policy_base_url: {endpoint.url}\npolicy_api_key: {KEY}\npolicy_model_name: {MODEL}\n")
    endpoint.play(scenario("openai", "invalid_api_key"))
    for fmt in ("text", "json"):
        code, out, err = doctor("--format", fmt, env={KEY_ENV: None})
        assert code == 1
        assert_no_key(out + err)
    assert "...Zq9X" in out  # at most the last four characters


def test_plain_http_to_remote_host_warns(workdir):
    _code, report = doctor_json("--base-url", "http://203.0.113.1:1/v1", "--model", MODEL,
                               "--api-key-env", KEY_ENV, "--timeout", "1")
    warn = [c for c in report["checks"] if c["id"] == "endpoint/base_url" and c["status"] == "warning"]
    assert any("unencrypted" in c["message"] for c in warn)


def test_proxy_in_effect_is_reported(endpoint, workdir):
    _code, report = doctor_json("--base-url", "https://api.example.com/v1", "--model", MODEL,
                               "--api-key-env", KEY_ENV, "--timeout", "1", "--no-inference",
                               env={"HTTPS_PROXY": f"http://user:pw@127.0.0.1:{_closed_port()}", "NO_PROXY": None})
    proxy = [c for c in report["checks"] if c["id"] == "endpoint/proxy"]
    assert proxy and proxy[0]["status"] == "warning" and "pw" not in proxy[0]["message"]


@pytest.mark.parametrize("url,fragment", [
    ("api.openai.com/v1", "scheme"),
    ("https://api.openai.com/v1/chat/completions", "/chat/completions"),
    ("???", "placeholder"),
    ("ftp://example.com/v1", "scheme"),
])
def test_bad_base_url_static(workdir, url, fragment):
    _code, report = doctor_json("--base-url", url, "--model", MODEL, "--api-key-env", KEY_ENV)
    d = report["diagnoses"][0]
    assert d["category"] == "bad_base_url" and fragment in d["message"]


# ----------------------------------------------------------------------------- output, usage


def test_json_shape(endpoint, workdir):
    endpoint.play(scenario("openai", "invalid_api_key"))
    _code, report = doctor_json("--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV)
    assert set(report) == {"ok", "checks", "diagnoses"}
    for c in report["checks"]:
        assert set(c) == {"id", "status", "message", "hint"}
        assert c["status"] in ("ok", "warning", "failure", "skipped")
    for d in report["diagnoses"]:
        assert set(d) == {"server", "category", "status_code", "message", "fix"}


def test_text_output_one_line_per_check_and_summary(endpoint, workdir):
    code, out, _ = doctor("--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV)
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[-1].startswith("summary: 1 server(s) checked, all ok")
    for step in ("key", "base_url", "network", "auth", "model", "inference"):
        assert any(line.split()[1:2] == [step] for line in lines if line.startswith("  ok")), step


@pytest.mark.parametrize("args", [
    ["--server", "nope", "--config", "policy_model.yaml"],
    ["--log", "does-not-exist.log"],
    [],
    ["--timeout", "0", "--base-url", "http://127.0.0.1:1/v1", "--model", "m"],
    ["--api-key-env", "sk-proj-abc", "--base-url", "http://127.0.0.1:1/v1", "--model", "m"],
    ["--env-file", "missing.yaml"],
])
def test_usage_errors_exit_2(endpoint, workdir, args):
    write_config(workdir, "openai_model", endpoint.url)
    code, _out, err = doctor(*args)
    assert code == 2 and err.strip() and "Traceback" not in err


def test_usage_error_via_subprocess(workdir):
    r = run_cli(["doctor", "--format", "yaml"], cwd=workdir, env=clean_env())
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_subprocess_401_and_stderr_clean(endpoint, workdir):
    endpoint.play(scenario("openai", "invalid_api_key"))
    r = run_cli(["doctor", "--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV],
                cwd=workdir, env=clean_env(**{KEY_ENV: KEY}))
    assert r.returncode == 1
    assert "invalid_api_key" in r.stdout and r.stderr == ""
    assert_no_key(r.stdout + r.stderr)


def test_subprocess_hang_bounded(endpoint, workdir):
    endpoint.set("models", Reply(behaviour="hang"))
    started = time.monotonic()
    r = run_cli(["doctor", "--base-url", endpoint.url, "--model", MODEL, "--api-key-env", KEY_ENV,
                 "--timeout", "2"], cwd=workdir, env=clean_env(**{KEY_ENV: KEY}))
    assert time.monotonic() - started < 3 + 0.5  # --timeout + 1 s, with room for interpreter start
    assert r.returncode == 1 and "unreachable" in r.stdout and "Traceback" not in r.stderr


def test_openai_not_imported_by_help_or_module_import():
    code = (
        "import sys, importlib\n"
        "import gym_scaffold.commands.doctor\n"
        "from gym_scaffold.cli import cli\n"
        "assert 'openai' not in sys.modules, 'openai imported'\n"
        "assert 'pydantic' not in sys.modules, 'pydantic imported'\n"
    )
    import subprocess

    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    r = run_cli(["--help"], cwd=REPO)
    assert r.returncode == 0 and "doctor" in r.stdout


def test_fix_lines_wrap_to_the_terminal_and_stay_whole_in_a_pipe(tmp_path):
    """In a terminal a long fix wraps under its first word; piped, each fix is one line."""
    import os
    import subprocess

    log = tmp_path / "failures.log"
    log.write_text('HTTP 429 {"error": {"message": "Rate limit reached for gpt-4o on requests per min (RPM): '
                   'Limit 500, Used 500, Requested 1.", "type": "requests", "code": "rate_limit_exceeded"}}\n')
    args = [sys.executable, "-m", "gym_scaffold", "doctor", "--log", str(log)]
    env = {**clean_env(), "COLUMNS": "60"}
    piped = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)
    fix = [line for line in piped.stdout.splitlines() if "fix:" in line]
    assert fix and max(map(len, fix)) > 60  # one long line each
    controller, terminal = os.openpty()
    try:
        done = subprocess.run(args, stdout=terminal, stderr=subprocess.DEVNULL, env=env, timeout=60)
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal's other end is closed: all is read
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(controller)
    shown = b"".join(chunks).decode().replace("\r\n", "\n")
    assert done.returncode == piped.returncode
    assert shown.split() == piped.stdout.split()  # the same words
    lines = shown.splitlines()
    start = next(i for i, line in enumerate(lines) if "fix:" in line)
    indent = " " * (lines[start].index("fix:") + 5)
    wrapped = [lines[start], *(line for line in lines[start + 1 :] if line.startswith(indent))]
    assert len(wrapped) > 1 and max(map(len, wrapped)) <= 60
    assert " ".join(wrapped).split() == fix[0].split()
