"""`doctor` on servers made by `gym-scaffold new`, against a real local server playing the provider."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from new_support import ChatOnlyUpstream, clean_env, make_gym_tree, run_cli

KEYS = {  # fake keys, each shaped like its provider's
    "nim": "nvapi-DoctorE2Eabcdefghijklmnopqrstuvwxyz0123456789",
    "openrouter": "sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd",
    "ollama": "ollama-local-key-0123",
    "azure": "0123456789abcdef0123456789abcdef",
    "azure-openai-model": "0123456789abcdef0123456789abcdef",
}
MODEL = "e2e-configured-model"

# case -> (`new` arguments, key header, api-version the upstream requires, URL path, 401 shape)
PROVIDERS = {
    "nim": (["openai-model", "--provider", "nim"], "Authorization", None, "/v1", "nim"),
    "openrouter": (["openai-model", "--provider", "openrouter"], "Authorization", None, "/api/v1", "openrouter"),
    "ollama": (["openai-model", "--provider", "ollama"], "Authorization", None, "/v1", "openai"),
    "azure": (["openai-model", "--provider", "azure"], "api-key", "2024-10-21", "/openai/deployments/dep", "azure"),
    "azure-openai-model": (["azure-openai-model"], "api-key", "2024-10-21", "/openai/deployments/dep", "azure"),
}


def assert_key_verdict(checked: subprocess.CompletedProcess[str], diagnosis: dict, key_is_right: bool) -> None:
    """doctor's verdict on the key the upstream was given: ok with the right one; with a wrong
    one, exit 1 and a fix that names the env.yaml entry to correct."""
    if key_is_right:
        assert checked.returncode == 0, checked.stdout
        assert diagnosis["category"] == "ok"
    else:
        assert checked.returncode == 1
        assert diagnosis["category"] == "invalid_api_key"
        assert "policy_api_key" in diagnosis["fix"]


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
@pytest.mark.parametrize("key_is_right", [True, False])
def test_doctor_on_a_generated_server(tmp_path: Path, provider: str, key_is_right: bool) -> None:
    command, header, api_version, path, shape = PROVIDERS[provider]
    key = KEYS[provider]
    with ChatOnlyUpstream(key, api_key_header=header, api_version=api_version, shape=shape) as upstream:
        gym = make_gym_tree(tmp_path / "Gym")
        used_key = key if key_is_right else key[:-6] + "fedcba"
        env = clean_env(GYM_SCAFFOLD_TEMPLATE_HOME=str(tmp_path / "home"), E2E_KEY=used_key)
        args = [
            "new", *command, "--no-input", "--name", "gen_model", "--model", MODEL,
            "--base-url", upstream.root + path, "--api-key-env", "E2E_KEY",
        ]  # fmt: skip
        done = run_cli(args, cwd=gym, env=env)
        assert done.returncode == 0, done.stderr
        config = "responses_api_models/gen_model/configs/gen_model.yaml"
        checked = run_cli(["doctor", "--config", config, "--format", "json"], cwd=gym, env=env)
        assert used_key not in checked.stdout + checked.stderr
        report = json.loads(checked.stdout)
        (diagnosis,) = report["diagnoses"]
        assert_key_verdict(checked, diagnosis, key_is_right)
        if key_is_right:
            posts = [seen for seen in upstream.seen if seen["body"] is not None]
            assert posts and posts[-1]["path"] == path + "/chat/completions"  # chat, not /responses
            if provider.startswith("azure"):
                assert posts[-1]["query"] == "api-version=2024-10-21"
                assert posts[-1]["headers"]["api-key"] == key


def test_doctor_names_a_missing_azure_api_version(tmp_path: Path) -> None:
    key = KEYS["azure"]
    with ChatOnlyUpstream(key, api_key_header="api-key", api_version="2024-10-21") as upstream:
        gym = make_gym_tree(tmp_path / "Gym")
        env = clean_env(GYM_SCAFFOLD_TEMPLATE_HOME=str(tmp_path / "home"), AZURE_OPENAI_API_KEY=key)
        url = upstream.root + "/openai/deployments/" + MODEL
        done = run_cli(["new", "azure-openai-model", "--no-input", "--base-url", url, "--model", MODEL], gym, env)
        assert done.returncode == 0, done.stderr
        config = gym / "responses_api_models" / "azure_deployment_model" / "configs" / "azure_deployment_model.yaml"
        text = config.read_text()
        config.write_text(text.replace('      default_query:\n        api-version: "2024-10-21"\n', ""))
        assert "api-version" not in config.read_text()
        checked = run_cli(["doctor", "--config", str(config.relative_to(gym)), "--format", "json"], gym, env)
        assert checked.returncode == 1, checked.stdout
        (diagnosis,) = json.loads(checked.stdout)["diagnoses"]
        assert "api-version" in diagnosis["message"]
        assert "default_query: {api-version: ...} under policy_model.responses_api_models.azure_deployment_model" in diagnosis["fix"]
        assert upstream.seen == []  # found without a request


@pytest.mark.parametrize("key_is_right", [True, False])
def test_doctor_on_a_vllm_model_server(tmp_path: Path, key_is_right: bool) -> None:
    key = "vllm-secret-0123456789"  # vLLM started with --api-key
    with ChatOnlyUpstream(key) as upstream:
        gym = make_gym_tree(tmp_path / "Gym")
        env = clean_env(
            GYM_SCAFFOLD_TEMPLATE_HOME=str(tmp_path / "home"), VLLM_API_KEY=key if key_is_right else key + "x"
        )
        done = run_cli(["new", "vllm-model", "--no-input", "--base-url", upstream.root + "/v1", "--model", MODEL],
                       gym, env)  # fmt: skip
        assert done.returncode == 0, done.stderr
        config = "responses_api_models/my_vllm_model/configs/my_vllm_model.yaml"
        checked = run_cli(["doctor", "--config", config, "--format", "json"], gym, env)
        (diagnosis,) = json.loads(checked.stdout)["diagnoses"]
        assert upstream.seen[0]["path"] == "/v1/models" and upstream.seen[0]["body"] is None
        assert_key_verdict(checked, diagnosis, key_is_right)
        if key_is_right:
            assert upstream.seen[-1]["path"] == "/v1/chat/completions"


def test_doctor_fix_names_the_prefixed_key(tmp_path: Path) -> None:
    key = KEYS["nim"]
    with ChatOnlyUpstream(key, shape="nim") as upstream:
        gym = make_gym_tree(tmp_path / "Gym")
        env = clean_env(GYM_SCAFFOLD_TEMPLATE_HOME=str(tmp_path / "home"), NVIDIA_API_KEY=key[:-6] + "fedcba")
        args = ["new", "openai-model", "--no-input", "--provider", "nim", "--env-prefix", "judge",
                "--instance", "judge_model", "--base-url", upstream.root + "/v1"]  # fmt: skip
        assert run_cli(args, gym, env).returncode == 0
        checked = run_cli(["doctor", "--config", "responses_api_models/nim_model/configs/nim_model.yaml",
                           "--format", "json"], gym, env)  # fmt: skip
        (diagnosis,) = json.loads(checked.stdout)["diagnoses"]
        assert diagnosis["category"] == "invalid_api_key"
        assert "judge_api_key in env.yaml" in diagnosis["fix"]
