"""The openai-model template with plain Copier: copy, validation, and `copier update`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from new_support import (
    TEMPLATES,
    clean_env,
    copy_template_as_git_repo,
    git,
    load_yaml,
    make_gym_tree,
    run_cli,
)

from gym_scaffold import answers as server_answers
from gym_scaffold import template_repo

COPIER = [sys.executable, "-m", "copier"]
APP_JINJA = Path("_shared") / "forwarder_app.py.jinja"
USER_LINE = "# my own note, kept across updates\n"
TEMPLATE_LINE = "# New in the template: a line every generated server gets.\n"


def copier(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*COPIER, *args], cwd=cwd, env=clean_env(), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def change_template(template: Path) -> None:
    app = template / APP_JINJA
    app.write_text(app.read_text() + "\n" + TEMPLATE_LINE)


def edit_server(server: Path) -> None:
    """A user edit near the top of app.py, away from the template's change at the bottom."""
    app = server / "app.py"
    lines = app.read_text().splitlines(keepends=True)
    app.write_text("".join(lines[:1] + [USER_LINE] + lines[1:]))


# Values each question must accept / refuse, in copier.yml and in answers.ServerAnswers.
CASES = [
    ("server_name", "openai_model", True),
    ("server_name", "_private2", True),
    ("server_name", "MyServer", True),
    ("server_name", "2fast", False),
    ("server_name", "my-server", False),
    ("server_name", "with space", False),
    ("server_name", "lambda", False),
    ("server_name", "", False),
    ("instance_name", "policy_model", True),
    ("instance_name", "judge-model", True),
    ("instance_name", "config_paths", False),
    ("instance_name", "policy_api_key", False),
    ("instance_name", "a.b", False),
    ("instance_name", "-x", False),
    ("model", "gpt-4o-mini", True),
    ("model", "meta/llama-3.1-8b-instruct", True),
    ("model", "two words", False),
    ("model", "", False),
    ("base_url", "https://api.openai.com/v1", True),
    ("base_url", "http://127.0.0.1:8000/v1", True),
    ("base_url", "http://[::1]:8000/v1", True),
    ("base_url", "https://user@host.example/v1?x=1", True),
    ("base_url", "api.openai.com/v1", False),
    ("base_url", "ftp://example.com", False),
    ("base_url", "https://", False),
    ("base_url", "https:///v1", False),
    ("base_url", "https://host with space/v1", False),
    ("max_concurrent_requests", 1, True),
    ("max_concurrent_requests", 64, True),
    ("max_concurrent_requests", None, True),
    ("max_concurrent_requests", 0, False),
    ("max_concurrent_requests", -5, False),
    ("max_concurrent_requests", True, False),
    ("provider", "nim", True),
    ("env_prefix", "judge", True),
    ("env_prefix", "Judge", False),
    ("env_prefix", "judge-model", False),
    ("provider", "anthropic", False),
    ("upstream_api", "chat_completions", True),
    ("upstream_api", "grpc", False),
]


@pytest.mark.parametrize(("question", "value", "ok"), CASES)
def test_copier_and_cli_validate_answers_alike(
    tmp_path: Path, question: str, value: object, ok: bool
) -> None:
    import copier as copier_api

    try:
        server_answers.parse_answers({question: value})
        cli_ok = True
    except server_answers.AnswersError as exc:
        assert exc.question == question
        cli_ok = False
    try:
        copier_api.run_copy(
            str(TEMPLATES), str(tmp_path / "out"), data={question: value}, defaults=True, quiet=True
        )
        copier_ok = True
    except ValueError as exc:
        assert f"question '{question}'" in str(exc) or f"Invalid choice for '{question}'" in str(exc)
        copier_ok = False
    assert (cli_ok, copier_ok) == (ok, ok)


# (gym-scaffold new arguments, the same answers for plain copier, the server's directory)
PARITY = {
    "openai-model": (
        ["openai-model", "--model", "m1", "--max-concurrent-requests", "2"],
        ["template=openai-model", "model=m1", "max_concurrent_requests=2"],
        "openai_model",
    ),
    "openai-chat": (
        ["openai-model", "--upstream-api", "chat-completions"],
        ["template=openai-model", "upstream_api=chat_completions"],
        "openai_chat_model",
    ),
    "openrouter": (
        ["openai-model", "--provider", "openrouter", "--openrouter-title", "App", "--env-prefix", "judge"],
        ["template=openai-model", "provider=openrouter", "openrouter_title=App", "env_prefix=judge"],
        "openrouter_model",
    ),
    "azure-openai-model": (
        ["azure-openai-model", "--base-url", "https://r.openai.azure.com/openai/deployments/d", "--model", "d"],
        ["template=azure-openai-model", "base_url=https://r.openai.azure.com/openai/deployments/d", "model=d"],
        "azure_deployment_model",
    ),
    "vllm-model": (
        ["vllm-model", "--model", "m", "--no-token-ids", "--chat-template-kwargs", "{enable_thinking: false}"],
        ["template=vllm-model", "model=m", "return_token_id_information=false",
         "chat_template_kwargs={enable_thinking: false}"],
        "my_vllm_model",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(PARITY))
def test_plain_copier_copy_renders_the_same_server(tmp_path: Path, case: str) -> None:
    cli_args, copier_answers, name = PARITY[case]
    env = clean_env(GYM_SCAFFOLD_TEMPLATE_HOME=str(tmp_path / "home"))
    by_cli = make_gym_tree(tmp_path / "by-cli")
    by_copier = make_gym_tree(tmp_path / "by-copier")
    done = run_cli(["new", *cli_args, "--no-input"], by_cli, env)
    assert done.returncode == 0, done.stderr
    data = [part for answer in copier_answers for part in ("-d", answer)]
    copier("copy", "--defaults", "--quiet", *data, str(TEMPLATES), str(by_copier), cwd=tmp_path)
    a = by_cli / "responses_api_models" / name
    b = by_copier / "responses_api_models" / name
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        if rel.name != ".copier-answers.yml":
            assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    answers_a, answers_b = (
        load_yaml(a / ".copier-answers.yml"),
        load_yaml(b / ".copier-answers.yml"),
    )
    assert {k: v for k, v in answers_a.items() if not k.startswith("_")} == {
        k: v for k, v in answers_b.items() if not k.startswith("_")
    }
    # Plain copier writes no env.yaml: that is the CLI's job.
    assert not (by_copier / "env.yaml").exists()


def test_update_through_the_recorded_template_repository(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = clean_env(GYM_SCAFFOLD_TEMPLATE_HOME=str(home))
    gym = make_gym_tree(tmp_path / "Gym")
    done = run_cli(["new", "openai-model", "--model", "m1"], gym, env)
    assert done.returncode == 0, done.stderr
    server = gym / "responses_api_models" / "openai_model"
    answers = load_yaml(server / ".copier-answers.yml")
    assert answers["_src_path"] == str((home / "model-servers").resolve())
    first_tag = answers["_commit"]
    git(gym, "add", "-A")
    git(gym, "commit", "-q", "-m", "generated")
    edit_server(server)
    git(gym, "commit", "-q", "-am", "my edit")

    # A new gym-scaffold carries a changed template: recording it adds a newer tag.
    changed = tmp_path / "template-v2"
    shutil.copytree(TEMPLATES, changed)
    change_template(changed)
    ref = template_repo.sync_template(changed, home)
    assert ref.created and ref.tag != first_tag

    copier(
        "update",
        "--defaults",
        "--answers-file",
        str(server / ".copier-answers.yml").removeprefix(str(gym) + "/"),
        cwd=gym,
    )
    app = (server / "app.py").read_text()
    assert TEMPLATE_LINE in app
    assert USER_LINE in app
    assert load_yaml(server / ".copier-answers.yml")["_commit"] == ref.tag
    assert load_yaml(server / ".copier-answers.yml")["model"] == "m1"
    assert not list(server.rglob("*.rej"))


def test_update_from_a_template_git_repository(tmp_path: Path) -> None:
    template = copy_template_as_git_repo(tmp_path / "template-repo")
    gym = make_gym_tree(tmp_path / "Gym")
    copier(
        "copy",
        "--defaults",
        "--quiet",
        "-d",
        "server_name=gpt",
        str(template),
        str(gym),
        cwd=tmp_path,
    )
    server = gym / "responses_api_models" / "gpt"
    answers = load_yaml(server / ".copier-answers.yml")
    assert answers["_commit"] == "1.0.0"
    assert Path(answers["_src_path"]).is_absolute()
    git(gym, "add", "-A")
    git(gym, "commit", "-q", "-m", "generated")
    edit_server(server)
    git(gym, "commit", "-q", "-am", "my edit")

    change_template(template)
    git(template, "commit", "-q", "-am", "template 1.1.0")
    git(template, "tag", "1.1.0")

    copier(
        "update",
        "--defaults",
        "--answers-file",
        "responses_api_models/gpt/.copier-answers.yml",
        cwd=gym,
    )
    app = (server / "app.py").read_text()
    assert TEMPLATE_LINE in app
    assert USER_LINE in app
    assert load_yaml(server / ".copier-answers.yml")["_commit"] == "1.1.0"


def test_update_refuses_a_dirty_work_tree(tmp_path: Path) -> None:
    """Copier's own guard: a user with uncommitted changes loses nothing."""
    template = copy_template_as_git_repo(tmp_path / "template-repo")
    gym = make_gym_tree(tmp_path / "Gym")
    copier("copy", "--defaults", "--quiet", str(template), str(gym), cwd=tmp_path)
    git(gym, "add", "-A")
    git(gym, "commit", "-q", "-m", "generated")
    server = gym / "responses_api_models" / "openai_model"
    edit_server(server)  # not committed
    change_template(template)
    git(template, "commit", "-q", "-am", "template 1.1.0")
    git(template, "tag", "1.1.0")
    done = subprocess.run(
        [
            *COPIER,
            "update",
            "--defaults",
            "-a",
            "responses_api_models/openai_model/.copier-answers.yml",
        ],
        cwd=gym,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "dirty" in (done.stdout + done.stderr).lower()
    assert USER_LINE in (server / "app.py").read_text()
    assert TEMPLATE_LINE not in (server / "app.py").read_text()


def test_templates_version_names_their_content() -> None:
    """The tag every machine gives this content: a template change must come with a new version
    in templates/VERSION, or two machines would tag different content alike."""
    version, recorded = template_repo.recorded_version(TEMPLATES)
    digest = template_repo.content_hash(TEMPLATES)
    assert recorded == digest, (
        f"templates/ changed since version {version}: write a higher version and "
        f"sha256:{digest} into templates/VERSION"
    )
    assert template_repo.version_tag(TEMPLATES) == version
