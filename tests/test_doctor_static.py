"""Static checks (no network) and key scrubbing."""

from __future__ import annotations

import pytest
from doctor_support import KEY, assert_no_key, mask

from gym_scaffold.doctor.classify import Category, Where
from gym_scaffold.doctor.results import ServerResult, Status, Target
from gym_scaffold.doctor.static import provider_of_host, proxy_for, run_static
from gym_scaffold.secrets import Secret, scrub, scrub_all


def check(base_url="https://api.openai.com/v1", key: str | None = KEY, model="gpt-4o-mini", provider=None,
          implementation="openai_model", environ=None, unresolved=None):
    host = base_url.split("//", 1)[-1].split("/", 1)[0].split(":")[0] if isinstance(base_url, str) else None
    t = Target("policy_model", implementation, base_url, Secret(key) if key is not None else None, model,
               where=Where(key="policy_api_key in env.yaml:2", base_url="policy_base_url in env.yaml:1",
                           model="policy_model_name in env.yaml:3",
                           provider=provider or provider_of_host(host, implementation)),
               unresolved=unresolved or {})
    res = ServerResult(t)
    d = run_static(res, environ or {})
    return res, d


def test_good_values_pass():
    res, d = check()
    assert d is None
    assert {c.id: c.status for c in res.checks}["policy_model/key"] is Status.OK


@pytest.mark.parametrize("key", ["sk-proj-" + "a1B2c3D4" * 5, "sk-svcacct-" + "a1B2c3D4" * 5])
def test_project_and_service_account_keys_run_inference(key):
    res, d = check(key=key)
    assert d is None
    msg = next(c.message for c in res.checks if c.id.endswith("/key"))
    assert "project" in msg
    assert_no_key(msg, key)


def test_admin_key_cannot_run_inference():
    _res, d = check(key="sk-admin-" + "a1B2c3D4" * 5)
    assert d.category is Category.INVALID_API_KEY and "admin" in d.message


def test_unresolved_key_names_the_env_yaml_entry():
    _res, d = check(key="${policy_api_key}", unresolved={"api_key": "${policy_api_key}"})
    assert d.category is Category.MISSING_API_KEY
    assert "policy_api_key" in d.fix and "env.yaml" in d.fix


def test_oc_env_unresolved_names_the_variable():
    _res, d = check(key="${oc.env:OPENAI_API_KEY}", unresolved={"api_key": "${oc.env:OPENAI_API_KEY}"})
    assert "export OPENAI_API_KEY".lower() in d.fix.lower()


def test_key_checked_before_url_and_model():
    res, d = check(key="???", base_url="???", model="???",
                   unresolved={"api_key": "???", "base_url": "???", "model": "???"})
    assert d.category is Category.MISSING_API_KEY
    failures = [c.id for c in res.checks if c.status is Status.FAILURE]
    assert failures == ["policy_model/key", "policy_model/base_url", "policy_model/model"]


@pytest.mark.parametrize("url,status", [
    ("https://api.openai.com/v1", Status.OK),
    ("http://localhost:8000/v1", Status.OK),
    ("http://10.0.0.5:8000", Status.WARNING),  # no /v1 and key in clear
    ("https://api.openai.com/v1?x=1", Status.WARNING),
])
def test_url_shapes(url, status):
    res, d = check(base_url=url)
    assert d is None
    assert any(c.id.endswith("/base_url") and c.status is status for c in res.checks)


def test_org_env_warns():
    res, _ = check(environ={"OPENAI_ORG_ID": "org-123"})
    assert any(c.id.endswith("/environment") and c.status is Status.WARNING for c in res.checks)


@pytest.mark.parametrize("environ,expect", [
    ({"HTTPS_PROXY": "http://proxy:3128"}, ("HTTPS_PROXY", False)),
    ({"https_proxy": "http://u:p@proxy:3128", "NO_PROXY": "openai.com"}, ("https_proxy", True)),
    ({"ALL_PROXY": "socks5://p:1080", "no_proxy": "*"}, ("ALL_PROXY", True)),
    ({"HTTP_PROXY": "http://proxy:3128"}, (None, False)),  # https URL: HTTP_PROXY does not apply
])
def test_proxy_for(environ, expect):
    name, url, bypass = proxy_for("https://api.openai.com/v1", environ)
    assert (name, bypass) == expect
    if url:
        assert "u:p" not in url


@pytest.mark.parametrize("host,provider", [
    ("api.openai.com", "openai"), ("myres.openai.azure.com", "azure"), ("integrate.api.nvidia.com", "nim"),
    ("openrouter.ai", "openrouter"), ("127.0.0.1", "local"), ("vllm-0", "local"), ("api.together.xyz", None),
])
def test_provider_of_host(host, provider):
    assert provider_of_host(host) == provider


def test_scrub_all_masked_and_fragments():
    text = f"Incorrect API key provided: {mask(KEY)}. Also {KEY[5:30]} and {KEY}."
    out = scrub_all(text, [KEY])
    assert_no_key(out)
    assert out.count("Zq9X") <= 2


def test_scrub_unchanged_for_others():
    # scrub keeps its behaviour; scrub_all adds to it
    assert scrub("token sk-proj-abcdefghijklmnop1234 end", []) == "token ...1234 end"
    assert scrub_all("see **bold** text", []) == "see **bold** text"
