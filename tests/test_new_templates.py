"""`gym-scaffold new azure-openai-model` and `new vllm-model`: what they write and refuse."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from corpus_support import CORPUS, needs_corpus
from new_support import load_yaml, run_cli, snapshot

CORPUS_VLLM = CORPUS / "responses_api_models" / "vllm_model"  # NeMo Gym's own vllm_model server
KEY = "0123456789abcdef0123456789abcdef"  # a fake Azure key


def files_of(server: Path) -> set[str]:
    return {p.relative_to(server).as_posix() for p in server.rglob("*") if p.is_file()}


def test_azure_deployment(gym: Path, env: dict[str, str]) -> None:
    url = "https://my-resource.openai.azure.com/openai/deployments/gpt-4o-prod"
    done = run_cli(
        ["new", "azure-openai-model", "--no-input", "--base-url", url, "--model", "gpt-4o-prod"],
        cwd=gym,
        env=env | {"AZURE_OPENAI_API_KEY": KEY},
    )
    assert done.returncode == 0, done.stderr
    assert "no problems" in done.stdout
    assert KEY not in done.stdout + done.stderr
    server = gym / "responses_api_models" / "azure_deployment_model"
    assert files_of(server) == {
        "__init__.py", "app.py", "README.md", "requirements.txt", "configs/azure_deployment_model.yaml",
        "tests/__init__.py", "tests/test_app.py", ".copier-answers.yml",
    }  # fmt: skip
    block = load_yaml(server / "configs" / "azure_deployment_model.yaml")["policy_model"]["responses_api_models"][
        "azure_deployment_model"
    ]
    assert block["api_key_header"] == "api-key"
    assert block["default_query"] == {"api-version": "2024-10-21"}
    assert block["upstream_api"] == "chat_completions"
    assert load_yaml(gym / "env.yaml") == {
        "policy_base_url": url,
        "policy_api_key": KEY,
        "policy_model_name": "gpt-4o-prod",
    }
    answers = load_yaml(server / ".copier-answers.yml")
    assert answers["template"] == "azure-openai-model" and "provider" not in answers
    # The app and its tests are the shared ones, not a copy.
    assert "def chat_completion_to_response" in (server / "app.py").read_text()
    assert "api-version" in (server / "README.md").read_text()


def test_azure_v1_url_takes_no_api_version(gym: Path, env: dict[str, str]) -> None:
    url = "https://my-resource.openai.azure.com/openai/v1"
    done = run_cli(["new", "azure-openai-model", "--no-input", "--base-url", url, "--model", "dep"], cwd=gym, env=env)
    assert done.returncode == 0, done.stderr
    config = (gym / "responses_api_models" / "azure_deployment_model" / "configs" / "azure_deployment_model.yaml")
    assert "api-version" not in config.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "azure has no default: give --base-url"),
        (["--base-url", "https://r.openai.azure.com/openai/deployments/d"], "azure has no default: give --model"),
        (
            ["--base-url", "https://r.openai.azure.com/openai/deployments/d", "--model", "d", "--api-version", ""],
            "the deployments URL form needs an api-version",
        ),
        (
            ["--base-url", "https://r.openai.azure.com/openai/v1", "--model", "d", "--api-version", "v2"],
            "must look like 2024-10-21",
        ),
    ],
)
def test_azure_refusals_name_the_option(gym: Path, env: dict[str, str], args: list[str], message: str) -> None:
    before = snapshot(gym)
    done = run_cli(["new", "azure-openai-model", "--no-input", *args], cwd=gym, env=env)
    assert done.returncode == 2, done.stdout
    assert message in done.stderr
    assert snapshot(gym) == before


@needs_corpus
def test_vllm_model_validates_against_vllm_model(gym: Path, env: dict[str, str]) -> None:
    # A real checkout has NeMo Gym's vllm_model, which the generated server builds on.
    shutil.copytree(CORPUS_VLLM, gym / "responses_api_models" / "vllm_model")
    done = run_cli(
        [
            "new", "vllm-model", "--no-input", "--model", "Qwen/Qwen3-8B",
            "--base-url", "http://node1:8000/v1,http://node2:8000/v1",
            "--reasoning-parser", "--chat-template-kwargs", "{enable_thinking: false}",
        ],
        cwd=gym,
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Validated responses_api_models/my_vllm_model/configs/my_vllm_model.yaml: no problems" in done.stdout
    server = gym / "responses_api_models" / "my_vllm_model"
    block = load_yaml(server / "configs" / "my_vllm_model.yaml")["policy_model"]["responses_api_models"]["my_vllm_model"]
    assert block == {
        "entrypoint": "app.py",
        "base_url": "${policy_base_url}",
        "api_key": "${policy_api_key}",
        "model": "${policy_model_name}",
        "return_token_id_information": True,
        "uses_reasoning_parser": True,
        "chat_template_kwargs": {"enable_thinking": False},
    }
    assert load_yaml(gym / "env.yaml")["policy_base_url"] == ["http://node1:8000/v1", "http://node2:8000/v1"]
    assert load_yaml(gym / "env.yaml")["policy_api_key"] == "EMPTY"
    modeline = (server / "configs" / "my_vllm_model.yaml").read_text().splitlines()[0]
    assert modeline == "# yaml-language-server: $schema=../../../.gym-scaffold/schemas/responses_api_models.schema.json"
    assert (server / "configs" / modeline.split("=", 1)[1]).resolve().is_file()  # exported by new

    # The config is checked against vllm_model's fields: a misspelt one is reported.
    config = server / "configs" / "my_vllm_model.yaml"
    config.write_text(config.read_text().replace("uses_reasoning_parser", "use_reasoning_parser"))
    checked = run_cli(["validate", str(config)], cwd=gym, env=env)
    assert checked.returncode == 1, checked.stdout
    assert "use_reasoning_parser" in checked.stdout and "[unknown-key]" in checked.stdout


def test_vllm_model_refuses_to_shadow_vllm_model(gym: Path, env: dict[str, str]) -> None:
    done = run_cli(["new", "vllm-model", "--no-input", "--model", "m", "--name", "vllm_model"], cwd=gym, env=env)
    assert done.returncode == 2
    assert "is NeMo Gym's own vllm_model" in done.stderr


def test_generated_code_of_every_template_passes_ruff(gym: Path, env: dict[str, str]) -> None:
    for args in (
        ["openai-model", "--provider", "openrouter", "--openrouter-title", "t"],
        ["azure-openai-model", "--base-url", "https://r.openai.azure.com/openai/v1", "--model", "d"],
        ["vllm-model", "--model", "m"],
    ):
        done = run_cli(["new", *args, "--no-input"], cwd=gym, env=env)
        assert done.returncode == 0, done.stderr
    ruff = Path(sys.executable).with_name("ruff")
    lint = subprocess.run([str(ruff), "check", "responses_api_models"], cwd=gym, capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--provider", "nim"], "chat_completions"),
        (["--provider", "vllm", "--model", "m", "--upstream-api", "responses"], "responses"),
        (["--provider", "openai", "--upstream-api", "chat-completions"], "chat_completions"),
    ],
)
def test_upstream_api_overrides_the_preset(gym: Path, env: dict[str, str], args: list[str], expected: str) -> None:
    done = run_cli(["new", "openai-model", "--no-input", "--name", "m1", *args], cwd=gym, env=env)
    assert done.returncode == 0, done.stderr
    block = load_yaml(gym / "responses_api_models" / "m1" / "configs" / "m1.yaml")["policy_model"][
        "responses_api_models"
    ]["m1"]
    assert block.get("upstream_api", "responses") == expected
    assert load_yaml(gym / "responses_api_models" / "m1" / ".copier-answers.yml")["upstream_api"] == expected


def test_openai_over_chat_completions_is_not_named_like_the_stock_server(gym: Path, env: dict[str, str]) -> None:
    # The stock openai_model's schema has no upstream_api: the default name must not borrow it.
    done = run_cli(["new", "openai-model", "--no-input", "--upstream-api", "chat-completions"], cwd=gym, env=env)
    assert done.returncode == 0, done.stderr
    assert "Validated responses_api_models/openai_chat_model/configs/openai_chat_model.yaml: no problems" in done.stdout


def test_openrouter_headers(gym: Path, env: dict[str, str]) -> None:
    args = ["--provider", "openrouter", "--openrouter-referer", "https://example.org/app", "--openrouter-title", "My App"]
    done = run_cli(["new", "openai-model", "--no-input", *args], cwd=gym, env=env)
    assert done.returncode == 0, done.stderr
    server = gym / "responses_api_models" / "openrouter_model"
    block = load_yaml(server / "configs" / "openrouter_model.yaml")["policy_model"]["responses_api_models"][
        "openrouter_model"
    ]
    assert block["openai_default_headers"] == {"HTTP-Referer": "https://example.org/app", "X-Title": "My App"}
    assert block["upstream_api"] == "chat_completions"
    assert load_yaml(gym / "env.yaml")["policy_base_url"] == "https://openrouter.ai/api/v1"
    assert "$OPENROUTER_API_KEY is not set" in done.stdout


def test_env_prefix_names_the_env_yaml_keys(gym: Path, env: dict[str, str]) -> None:
    args = ["new", "openai-model", "--no-input", "--provider", "nim", "--env-prefix", "judge", "--instance", "judge_model"]
    done = run_cli(args, cwd=gym, env=env | {"NVIDIA_API_KEY": "nvapi-" + "k" * 40})
    assert done.returncode == 0, done.stderr
    assert "no problems" in done.stdout
    block = load_yaml(gym / "responses_api_models" / "nim_model" / "configs" / "nim_model.yaml")["judge_model"][
        "responses_api_models"
    ]["nim_model"]
    assert (block["openai_base_url"], block["openai_api_key"], block["openai_model"]) == (
        "${judge_base_url}", "${judge_api_key}", "${judge_model_name}"
    )  # fmt: skip
    assert set(load_yaml(gym / "env.yaml")) == {"judge_base_url", "judge_api_key", "judge_model_name"}


def test_an_existing_env_yaml_gets_the_lines_to_add(gym: Path, env: dict[str, str]) -> None:
    (gym / "env.yaml").write_text("policy_base_url: https://api.openai.com/v1\npolicy_api_key: sk-x\npolicy_model_name: m\n")
    before = (gym / "env.yaml").read_text()
    done = run_cli(["new", "openai-model", "--no-input", "--provider", "openrouter", "--env-prefix", "judge"], gym, env)
    assert done.returncode == 0, done.stderr
    assert (gym / "env.yaml").read_text() == before
    assert "It lacks: judge_base_url, judge_api_key, judge_model_name" in done.stdout
    assert (
        "add to env.yaml: judge_base_url: https://openrouter.ai/api/v1, judge_api_key: <your key; $OPENROUTER_API_KEY>, "
        "judge_model_name: openai/gpt-4o-mini"
    ) in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env-prefix", "Judge"], "env_prefix (--env-prefix): must be lower-case letters"),
        (["--env-prefix", "judge", "--instance", "judge_api_key"], "names the instance's own env.yaml key"),
    ],
)
def test_env_prefix_refusals(gym: Path, env: dict[str, str], args: list[str], message: str) -> None:
    done = run_cli(["new", "openai-model", "--no-input", *args], cwd=gym, env=env)
    assert done.returncode == 2
    assert message in done.stderr
