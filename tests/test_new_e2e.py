"""End to end: a generated server under the real nemo-gym package (Python 3.12), no mocks.

Builds (once, then reuses) a virtual environment with nemo-gym from PyPI; see
new_support.ensure_nemo_gym_venv for where it is cached.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
from new_support import (
    ChatOnlyUpstream,
    Upstream,
    clean_env,
    ensure_nemo_gym_venv,
    find_python312,
    make_gym_tree,
    run_cli,
)

pytestmark = pytest.mark.slow

KEY = "sk-proj-E2Eabcdefghijklmnopqrstuvwxyz012345"  # a fake key
MODEL = "e2e-configured-model"
NAME = "e2e_model"

# Runs inside the nemo-gym environment, from the checkout root, with no arguments of its own
# (NeMo Gym reads sys.argv). Builds `server` from the generated config merged with the
# generated env.yaml, as ng_run would; each driver below drives it through FastAPI's TestClient
# and prints its findings as one line of JSON.
SERVER_SETUP = textwrap.dedent(
    """
    import json
    import sys

    from fastapi.testclient import TestClient
    from omegaconf import OmegaConf

    from nemo_gym.config_types import BaseServerConfig
    from nemo_gym.server_utils import ServerClient
    from responses_api_models.{name}.app import {cls}Server, {cls}ServerConfig

    merged = OmegaConf.merge(
        OmegaConf.load("responses_api_models/{name}/configs/{name}.yaml"), OmegaConf.load("env.yaml")
    )
    block = OmegaConf.to_container(merged, resolve=True)["policy_model"]["responses_api_models"]["{name}"]
    config = {cls}ServerConfig(host="127.0.0.1", port=8099, name="policy_model", **block)
    client = ServerClient(
        head_server_config=BaseServerConfig(host="127.0.0.1", port=11000),
        global_config_dict=OmegaConf.create({{}}),
    )
    server = {cls}Server(config=config, server_client=client)
    """
)

DRIVER = SERVER_SETUP + textwrap.dedent(
    """
    with TestClient(server.setup_webserver()) as http:
        first = http.post("/v1/responses", json={{"input": "hello", "model": "caller-model"}})
        second = http.post("/v1/responses", json={{"input": "again"}})
    json.dump(
        {{"status": [first.status_code, second.status_code], "body": first.json()}}, sys.stdout
    )
    """
)


def assert_generated_tests_pass(nemo_gym_python: Path, gym: Path) -> None:
    """The tests generated for server NAME pass under nemo-gym's Python, from the checkout root."""
    tests = subprocess.run(
        [str(nemo_gym_python), "-m", "pytest", "-q", "-p", "no:cacheprovider", f"responses_api_models/{NAME}"],
        cwd=gym,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert tests.returncode == 0, tests.stdout[-6000:] + tests.stderr[-3000:]
    assert " passed" in tests.stdout and "failed" not in tests.stdout


def drive(nemo_gym_python: Path, gym: Path, driver_script: str) -> dict:
    """Run a driver (SERVER_SETUP + its requests) for the generated server NAME; what it printed."""
    driver = gym.parent / "drive.py"
    driver.write_text(driver_script.format(name=NAME, cls="E2eModel"))
    run = subprocess.run(
        [str(nemo_gym_python), str(driver)],
        cwd=gym,
        env=clean_env(PYTHONPATH=str(gym)),  # NeMo Gym runs servers with the checkout importable
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-6000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def nemo_gym_python() -> Path:
    python312 = find_python312()
    if python312 is None:
        pytest.skip(
            "no Python 3.12 found (python3.12 on PATH or ~/.pyenv/versions/3.12*): nemo-gym needs it"
        )
    try:
        venv = ensure_nemo_gym_venv(python312)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"could not build the nemo-gym environment (offline?): {exc}")
    return venv / "bin" / "python"


@pytest.fixture
def upstream():
    with Upstream(answer="hello from the upstream") as server:
        yield server


def test_generated_server_under_nemo_gym(
    tmp_path: Path, nemo_gym_python: Path, upstream: Upstream
) -> None:
    gym = make_gym_tree(tmp_path / "Gym")
    env = clean_env(GYM_SCAFFOLD_TEMPLATE_HOME=str(tmp_path / "home"), E2E_KEY=KEY)
    args = [
        "new", "openai-model", "--no-input", "--name", NAME, "--model", MODEL,
        "--base-url", upstream.base_url, "--max-concurrent-requests", "2", "--api-key-env", "E2E_KEY",
    ]  # fmt: skip
    done = run_cli(args, cwd=gym, env=env)
    assert done.returncode == 0, done.stderr
    assert KEY not in done.stdout + done.stderr

    # The generated tests, under NeMo Gym's pytest settings (asyncio_mode=auto, strict markers).
    assert_generated_tests_pass(nemo_gym_python, gym)

    # The generated server, configured from the generated config and env.yaml, against a real
    # OpenAI-compatible server on 127.0.0.1.
    result = drive(nemo_gym_python, gym, DRIVER)
    assert result["status"] == [200, 200]
    assert result["body"]["output"][0]["content"][0]["text"] == "hello from the upstream"

    assert len(upstream.seen) == 2
    first = upstream.seen[0]
    assert first["path"] == "/v1/responses"
    assert first["body"]["model"] == MODEL
    assert first["body"]["input"] == "hello"
    assert first["authorization"] == f"Bearer {KEY}"


# A tool call through the generated server: the agent's first request offers a tool, the model
# calls it, the agent sends the call and its output back with the call id.
TOOL_DRIVER = SERVER_SETUP + textwrap.dedent(
    """
    from nemo_gym.openai_utils import NeMoGymResponse

    tool = {{
        "type": "function", "name": "get_weather", "description": "Weather in a city", "strict": True,
        "parameters": {{"type": "object", "properties": {{"city": {{"type": "string"}}}}, "required": ["city"]}},
    }}
    with TestClient(server.setup_webserver()) as http:
        asked = [{{"role": "user", "content": "Weather in Paris?"}}]
        first = http.post("/v1/responses", json={{"input": asked, "tools": [tool], "instructions": "Use tools."}})
        call = [item for item in first.json()["output"] if item["type"] == "function_call"][0]
        history = asked + [
            {{"type": "function_call", "call_id": call["call_id"], "name": call["name"], "arguments": call["arguments"]}},
            {{"type": "function_call_output", "call_id": call["call_id"], "output": "18 C, sunny"}},
        ]
        second = http.post("/v1/responses", json={{"input": history, "tools": [tool]}})
    for reply in (first, second):
        NeMoGymResponse.model_validate(reply.json())  # a valid Responses object, as agents read it
    json.dump({{"status": [first.status_code, second.status_code], "call": call, "final": second.json()}}, sys.stdout)
    """
)

# case -> (`new` arguments, key header, api-version the upstream requires, URL path)
CHAT_PROVIDERS = {
    "nim": (["openai-model", "--provider", "nim"], "Authorization", None, "/v1"),
    "openrouter": (
        ["openai-model", "--provider", "openrouter", "--openrouter-title", "gym-e2e"], "Authorization", None, "/api/v1"
    ),
    "vllm": (["openai-model", "--provider", "vllm"], "Authorization", None, "/v1"),
    "ollama": (["openai-model", "--provider", "ollama"], "Authorization", None, "/v1"),
    "custom": (["openai-model", "--provider", "custom"], "Authorization", None, "/v1"),
    "azure": (["openai-model", "--provider", "azure"], "api-key", "2024-10-21", "/openai/deployments/e2e-configured-model"),
    "azure-openai-model": (["azure-openai-model"], "api-key", "2024-10-21", "/openai/deployments/e2e-configured-model"),
}


@pytest.mark.parametrize("provider", sorted(CHAT_PROVIDERS))
def test_chat_completions_provider_under_nemo_gym(tmp_path: Path, nemo_gym_python: Path, provider: str) -> None:
    extra, header, api_version, path = CHAT_PROVIDERS[provider]
    with ChatOnlyUpstream(KEY, api_key_header=header, api_version=api_version) as upstream:
        gym = make_gym_tree(tmp_path / "Gym")
        env = clean_env(GYM_SCAFFOLD_TEMPLATE_HOME=str(tmp_path / "home"), E2E_KEY=KEY)
        args = [
            "new", *extra, "--no-input", "--name", NAME, "--model", MODEL,
            "--base-url", upstream.root + path, "--api-key-env", "E2E_KEY",
        ]  # fmt: skip
        done = run_cli(args, cwd=gym, env=env)
        assert done.returncode == 0, done.stderr
        assert f"Validated responses_api_models/{NAME}/configs/{NAME}.yaml: no problems" in done.stdout

        result = drive(nemo_gym_python, gym, TOOL_DRIVER)
        assert result["status"] == [200, 200]
        assert result["call"]["call_id"] == "call_e2e_42" and result["call"]["name"] == "get_weather"
        assert result["final"]["output"][-1]["content"][0]["text"] == "it is 18 C, sunny"
        assert result["final"]["usage"]["total_tokens"] == 25

        assert [seen["path"] for seen in upstream.seen] == [path + "/chat/completions"] * 2
        first, second = upstream.seen
        assert first["body"]["model"] == MODEL
        assert first["body"]["messages"][0] == {"role": "system", "content": "Use tools."}
        tool_message = second["body"]["messages"][-1]
        assert tool_message == {"role": "tool", "content": "18 C, sunny", "tool_call_id": "call_e2e_42"}
        assert second["body"]["messages"][-2]["tool_calls"][0]["id"] == "call_e2e_42"
        if provider.startswith("azure"):
            assert first["headers"]["api-key"] == KEY and "Authorization" not in first["headers"]
            assert first["query"] == "api-version=2024-10-21"
        if provider == "openrouter":
            assert first["headers"]["X-Title"] == "gym-e2e"


@pytest.mark.parametrize("template", ["azure-openai-model", "vllm-model"])
def test_generated_tests_of_every_template_pass_under_nemo_gym(
    tmp_path: Path, nemo_gym_python: Path, template: str
) -> None:
    gym = make_gym_tree(tmp_path / "Gym")
    env = clean_env(GYM_SCAFFOLD_TEMPLATE_HOME=str(tmp_path / "home"))
    args = ["new", template, "--no-input", "--name", NAME, "--model", MODEL]
    if template == "azure-openai-model":
        args += ["--base-url", "https://res.openai.azure.com/openai/deployments/dep"]
    done = run_cli(args, cwd=gym, env=env)
    assert done.returncode == 0, done.stderr
    assert_generated_tests_pass(nemo_gym_python, gym)
