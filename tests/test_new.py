"""`gym-scaffold new openai-model`: what it writes, what it refuses, what it never changes."""

from __future__ import annotations

import os
import pty
import select
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from new_support import (
    TEMPLATES,
    git,
    load_yaml,
    make_gym_tree,
    run_cli,
    snapshot,
)

from gym_scaffold import scaffold
from gym_scaffold.answers import parse_answers

KEY = "sk-proj-TESTabcdefghijklmnopqrstuvwxyz0123456789"  # a fake key


EXPECTED_FILES = {
    "__init__.py",
    "app.py",
    "README.md",
    "requirements.txt",
    "configs/openai_model.yaml",
    "tests/__init__.py",
    "tests/test_app.py",
    ".copier-answers.yml",
}


def test_defaults_no_input(gym: Path, env: dict[str, str]) -> None:
    done = run_cli(
        ["new", "openai-model", "--no-input"], cwd=gym, env=env | {"OPENAI_API_KEY": KEY}
    )
    assert done.returncode == 0, done.stderr
    assert "Validated responses_api_models/openai_model/configs/openai_model.yaml: no problems" in done.stdout
    server = gym / "responses_api_models" / "openai_model"
    files = {p.relative_to(server).as_posix() for p in server.rglob("*") if p.is_file()}
    assert files == EXPECTED_FILES
    assert (server / "requirements.txt").read_text() == "-e nemo-gym[dev] @ ../../\n"

    config_text = (server / "configs" / "openai_model.yaml").read_text()
    first_line = config_text.splitlines()[0]
    copier_yml = load_yaml(TEMPLATES / "copier.yml")
    assert first_line == f"# yaml-language-server: $schema={copier_yml['schema_path']['default']}"
    config = load_yaml(server / "configs" / "openai_model.yaml")
    block = config["policy_model"]["responses_api_models"]["openai_model"]
    assert block["entrypoint"] == "app.py"
    assert block["openai_base_url"] == "${policy_base_url}"
    assert block["openai_api_key"] == "${policy_api_key}"
    assert block["openai_model"] == "${policy_model_name}"
    assert "max_concurrent_requests" not in block
    assert KEY not in config_text

    env_yaml = load_yaml(gym / "env.yaml")
    assert env_yaml == {
        "policy_base_url": "https://api.openai.com/v1",
        "policy_api_key": KEY,
        "policy_model_name": "gpt-4o-mini",
    }
    assert stat.S_IMODE((gym / "env.yaml").stat().st_mode) == 0o600
    assert "env.yaml" in (gym / ".gitignore").read_text().splitlines()
    assert (gym / ".gitignore").read_text().startswith("cache/\n")
    git(gym, "check-ignore", "-q", "env.yaml")

    # The key never reaches the output; its last four characters may.
    assert KEY not in done.stdout + done.stderr
    assert "...6789" in done.stdout
    assert "Next steps" in done.stdout
    assert (
        'ng_run "+config_paths=[responses_api_models/openai_model/configs/openai_model.yaml]"'
        in done.stdout
    )
    assert "Traceback" not in done.stderr


def test_answers_from_options(gym: Path, env: dict[str, str]) -> None:
    args = [
        "new", "openai-model", "--dest", str(gym), "--name", "my_gpt", "--instance", "judge_model",
        "--model", "meta/llama-3.1-8b-instruct", "--base-url", "http://127.0.0.1:8000/v1",
        "--max-concurrent-requests", "8", "--api-key-env", "MY_KEY",
    ]  # fmt: skip
    done = run_cli(args, cwd=gym.parent, env=env | {"MY_KEY": KEY})
    assert done.returncode == 0, done.stderr
    server = gym / "responses_api_models" / "my_gpt"
    block = load_yaml(server / "configs" / "my_gpt.yaml")["judge_model"]["responses_api_models"][
        "my_gpt"
    ]
    assert block["max_concurrent_requests"] == 8
    app = (server / "app.py").read_text()
    assert "class MyGptServerConfig(BaseResponsesAPIModelConfig)" in app
    assert "class MyGptServer(SimpleResponsesAPIModel)" in app
    assert (
        "from responses_api_models.my_gpt.app import"
        in (server / "tests" / "test_app.py").read_text()
    )
    assert load_yaml(gym / "env.yaml") == {
        "policy_base_url": "http://127.0.0.1:8000/v1",
        "policy_api_key": KEY,
        "policy_model_name": "meta/llama-3.1-8b-instruct",
    }
    answers = load_yaml(server / ".copier-answers.yml")
    assert answers["server_name"] == "my_gpt"
    assert answers["max_concurrent_requests"] == 8
    assert f"cd {gym}" in done.stdout


def test_key_unset_writes_missing_marker(gym: Path, env: dict[str, str]) -> None:
    done = run_cli(["new", "openai-model"], cwd=gym, env=env)
    assert done.returncode == 0, done.stderr
    assert load_yaml(gym / "env.yaml")["policy_api_key"] == "???"
    assert "policy_api_key" in done.stdout and "???" in done.stdout


def test_existing_env_yaml_is_kept_and_gaps_named(gym: Path, env: dict[str, str]) -> None:
    original = "policy_base_url: http://localhost:8000/v1\n# mine\n"
    (gym / "env.yaml").write_text(original)
    done = run_cli(["new", "openai-model"], cwd=gym, env=env | {"OPENAI_API_KEY": KEY})
    assert done.returncode == 0, done.stderr
    assert (gym / "env.yaml").read_text() == original
    assert "lacks: policy_api_key, policy_model_name" in done.stdout
    assert "policy_base_url is 'http://localhost:8000/v1'" in done.stdout
    # validate ran on the new config with that env.yaml, which configures the endpoint in part
    assert "Note: validate: responses_api_models/openai_model/configs/openai_model.yaml:" in done.stdout
    assert "[unresolved-interpolation]" in done.stdout
    assert KEY not in done.stdout + done.stderr


def test_gitignore_already_ignoring_is_left_alone(tmp_path: Path, env: dict[str, str]) -> None:
    gym = make_gym_tree(tmp_path / "Gym", gitignore="*.pyc\nenv.yaml\n")
    before = (gym / ".gitignore").read_bytes()
    done = run_cli(["new", "openai-model"], cwd=gym, env=env)
    assert done.returncode == 0, done.stderr
    assert (gym / ".gitignore").read_bytes() == before
    assert ".gitignore" not in done.stdout


def test_gitignore_without_final_newline_and_negation(tmp_path: Path, env: dict[str, str]) -> None:
    gym = make_gym_tree(tmp_path / "Gym", gitignore="*.pyc\n!env.yaml")
    done = run_cli(["new", "openai-model"], cwd=gym, env=env)
    assert done.returncode == 0, done.stderr
    assert (gym / ".gitignore").read_text().startswith("*.pyc\n!env.yaml\n# ")
    git(gym, "check-ignore", "-q", "env.yaml")
    assert "added env.yaml to .gitignore" in done.stdout.lower()


def test_not_a_git_repository_gets_a_gitignore(tmp_path: Path, env: dict[str, str]) -> None:
    gym = make_gym_tree(tmp_path / "Gym", git_repo=False, gitignore=None)
    done = run_cli(["new", "openai-model"], cwd=gym, env=env)
    assert done.returncode == 0, done.stderr
    assert "env.yaml" in (gym / ".gitignore").read_text().splitlines()


def test_tracked_env_yaml_is_reported(gym: Path, env: dict[str, str]) -> None:
    (gym / "env.yaml").write_text("policy_base_url: x\npolicy_api_key: ???\npolicy_model_name: m\n")
    git(gym, "add", "env.yaml")
    git(gym, "commit", "-q", "-m", "oops")
    done = run_cli(["new", "openai-model"], cwd=gym, env=env)
    assert done.returncode == 0, done.stderr
    assert "git rm --cached env.yaml" in done.stdout
    assert "policy_api_key is not set yet" in done.stdout


def test_existing_server_dir_is_refused_and_nothing_changes(gym: Path, env: dict[str, str]) -> None:
    existing = gym / "responses_api_models" / "openai_model"
    existing.mkdir()
    (existing / "app.py").write_text("# mine\n")
    before = snapshot(gym)
    done = run_cli(
        ["new", "openai-model", "--no-input", "--name", "openai_model"],
        cwd=gym,
        env=env | {"OPENAI_API_KEY": KEY},
    )
    assert done.returncode == 1
    assert "responses_api_models/openai_model/ already exists" in done.stderr
    assert "nothing was changed" in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(gym) == before


def test_default_name_is_free_and_said(gym: Path, env: dict[str, str]) -> None:
    """The README's documented path in a real checkout, where openai_model is the stock server."""
    for taken in ("openai_model", "openai_model_2"):
        (gym / "responses_api_models" / taken).mkdir()
        (gym / "responses_api_models" / taken / "app.py").write_text("# stock\n")
    done = run_cli(["new", "openai-model", "--no-input"], cwd=gym, env=env)
    assert done.returncode == 0, done.stderr
    assert "responses_api_models/openai_model/ exists, so the new server is named openai_model_3" in done.stdout
    assert (gym / "responses_api_models" / "openai_model_3" / "configs" / "openai_model_3.yaml").is_file()
    assert (gym / "responses_api_models" / "openai_model" / "app.py").read_text() == "# stock\n"
    assert "openai_model_3" in done.stdout.split("Next steps")[1]


@pytest.mark.parametrize(
    ("args", "question"),
    [
        (["--name", "1abc"], "server_name (--name)"),
        (["--name", "class"], "server_name (--name)"),
        (["--name", "my-server"], "server_name (--name)"),
        (["--instance", "head_server"], "instance_name (--instance)"),
        (["--instance", "a.b"], "instance_name (--instance)"),
        (["--model", "gpt 4"], "model (--model)"),
        (["--model", ""], "model (--model)"),
        (["--base-url", "api.openai.com/v1"], "base_url (--base-url)"),
        (["--base-url", "ftp://example.com"], "base_url (--base-url)"),
        (["--base-url", "https://"], "base_url (--base-url)"),
        (["--max-concurrent-requests", "0"], "max_concurrent_requests (--max-concurrent-requests)"),
        (
            ["--max-concurrent-requests", "-3"],
            "max_concurrent_requests (--max-concurrent-requests)",
        ),
        (
            ["--max-concurrent-requests", "many"],
            "max_concurrent_requests (--max-concurrent-requests)",
        ),
    ],
)
def test_bad_answers_name_the_question(
    gym: Path, env: dict[str, str], args: list[str], question: str
) -> None:
    before = snapshot(gym)
    done = run_cli(["new", "openai-model", *args], cwd=gym, env=env)
    assert done.returncode == 2
    assert question in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(gym) == before


def test_missing_destination_is_a_usage_error(tmp_path: Path, env: dict[str, str]) -> None:
    done = run_cli(["new", "openai-model", "--dest", str(tmp_path / "nope")], cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert "does not exist" in done.stderr
    assert not (tmp_path / "nope").exists()


def test_failure_midway_leaves_destination_as_it_was(gym: Path, env: dict[str, str]) -> None:
    # .gitignore is a directory: appending to it fails after the server dir and env.yaml exist.
    (gym / ".gitignore").unlink()
    git(gym, "commit", "-q", "-am", "no gitignore")
    (gym / ".gitignore").mkdir()
    before = snapshot(gym)
    done = run_cli(["new", "openai-model"], cwd=gym, env=env | {"OPENAI_API_KEY": KEY})
    assert done.returncode == 1, done.stdout
    assert "nothing was changed" in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(gym) == before
    assert not any(p.name.startswith(".gym-scaffold-new-") for p in gym.iterdir())


def test_failure_in_rendering_rolls_back(gym: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken-template"
    shutil.copytree(TEMPLATES, broken)
    (broken / "openai-model" / "responses_api_models" / "{{ server_name }}" / "README.md.jinja").write_text(
        "{{ nope("
    )
    before = snapshot(gym)
    with pytest.raises(Exception):  # noqa: B017 - any error, as long as nothing changed
        scaffold.new_server(
            gym, parse_answers({}), environ={}, template=broken, home=tmp_path / "home"
        )
    assert snapshot(gym) == before


def test_no_prompt_when_stdin_is_not_a_terminal(gym: Path, env: dict[str, str]) -> None:
    done = run_cli(["new", "openai-model"], cwd=gym, env=env, stdin="my_name\n")
    assert done.returncode == 0, done.stderr
    assert (gym / "responses_api_models" / "openai_model").is_dir()
    assert not (gym / "responses_api_models" / "my_name").exists()


def _run_in_terminal(
    args: list[str], cwd: Path, env: dict[str, str], replies: list[str]
) -> tuple[int, str]:
    """Run the CLI on a pseudo-terminal, answering each prompt in turn."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gym_scaffold", *args],
        cwd=cwd,
        env=env,
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        close_fds=True,
    )
    os.close(secondary)
    output = b""
    pending = list(replies)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            # A prompt ends with ": " and nothing after it (an echoed answer ends with a newline).
            if pending and output.endswith(b": "):
                os.write(primary, pending.pop(0).encode() + b"\n")
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(primary)
    return proc.returncode, output.decode(errors="replace")


def test_asks_in_a_terminal_and_asks_again_after_a_bad_answer(
    gym: Path, env: dict[str, str]
) -> None:
    (gym / "responses_api_models" / "taken").mkdir()
    replies = [
        "",  # provider: the default, openai
        "bad name", "taken", "chat_server",  # asked again at once for each, before the next question
        "",  # instance
        "",  # env.yaml key prefix
        "ftp://x", "http://localhost:8000/v1",  # base URL
        "",  # upstream API: the preset's
        "0", "4",  # max concurrent requests
    ]  # fmt: skip
    code, output = _run_in_terminal(
        ["new", "openai-model", "--model", "my-model"], gym, env, replies
    )
    assert code == 0, output
    assert output.index("Provider") < output.index("Server name")
    assert "must be a Python identifier" in output
    name_part = output.split("Instance name")[0]
    assert "responses_api_models/taken/ already exists; choose another name" in name_part
    assert "must be an http:// or https:// URL" in output
    assert "Model" not in output.split("Upstream API")[0].split("Instance name")[-1]  # --model not asked
    server = gym / "responses_api_models" / "chat_server"
    answers = load_yaml(server / ".copier-answers.yml")
    assert answers["instance_name"] == "policy_model"
    assert answers["model"] == "my-model"
    assert answers["base_url"] == "http://localhost:8000/v1"
    assert answers["upstream_api"] == "responses"
    assert answers["max_concurrent_requests"] == 4


def test_provider_is_asked_first_and_sets_the_defaults(gym: Path, env: dict[str, str]) -> None:
    replies = ["vllm", "", "", "", "http://gpu-node:8000/v1", "", "my-org/my-model", "", ""]
    code, output = _run_in_terminal(["new", "openai-model"], gym, env, replies)
    assert code == 0, output
    assert "[vllm_chat_model]" in output and "[http://localhost:8000/v1]" in output
    assert "Model:" in output  # no default for vLLM: asked without one, refused empty
    server = gym / "responses_api_models" / "vllm_chat_model"
    answers = load_yaml(server / ".copier-answers.yml")
    assert (answers["provider"], answers["upstream_api"], answers["model"]) == (
        "vllm", "chat_completions", "my-org/my-model"
    )  # fmt: skip
    assert load_yaml(gym / "env.yaml")["policy_api_key"] == "EMPTY"


def test_generated_code_passes_ruff(gym: Path, env: dict[str, str]) -> None:
    for name, extra in (("openai_model", []), ("capped", ["--max-concurrent-requests", "3"])):
        done = run_cli(["new", "openai-model", "--name", name, *extra], cwd=gym, env=env)
        assert done.returncode == 0, done.stderr
    ruff = Path(sys.executable).with_name("ruff")
    # With NeMo Gym's own settings (pyproject.toml of the checkout) ...
    lint = subprocess.run(
        [str(ruff), "check", "responses_api_models"],
        cwd=gym,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    # ... and with ruff's defaults, NeMo Gym's import sections aside.
    lint = subprocess.run(
        [
            str(ruff), "check", "--isolated",
            "--config", "lint.isort.known-first-party = ['nemo_gym']",
            "--config", "lint.isort.lines-after-imports = 2",
            "responses_api_models",
        ],
        cwd=gym, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_generated_config_passes_validate(gym: Path, env: dict[str, str]) -> None:
    done = run_cli(["new", "openai-model"], cwd=gym, env=env | {"OPENAI_API_KEY": KEY})
    assert done.returncode == 0, done.stderr
    done = run_cli(
        ["new", "openai-model", "--name", "capped", "--max-concurrent-requests", "2"],
        cwd=gym,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    checked = run_cli(["validate", str(gym)], cwd=gym, env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert KEY not in checked.stdout + checked.stderr


def test_sync_template_is_idempotent(tmp_path: Path, env: dict[str, str]) -> None:
    first = run_cli(["new", "openai-model", "--sync-template"], cwd=tmp_path, env=env)
    again = run_cli(["new", "openai-model", "--sync-template"], cwd=tmp_path, env=env)
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    assert "recorded as" in first.stdout and "already recorded" in again.stdout
    repo = tmp_path / "template-home" / "model-servers"
    assert git(repo, "tag").split() == [first.stdout.split(" as ")[1].split()[0]]
    assert not list(tmp_path.glob("responses_api_models"))


def test_new_does_not_import_copier_until_it_renders() -> None:
    code = (
        "import sys, gym_scaffold.cli, gym_scaffold.commands.new, gym_scaffold.commands.validate;"
        "print('copier' in sys.modules, 'openai' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
