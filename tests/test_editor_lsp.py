"""The exported schemas in a real editor backend: yaml-language-server over stdio LSP.

Nothing of the editor is mocked: the pinned npm package (tests/lsp_support.py) opens the
files gym-scaffold wrote and answers diagnostics, completion and hover as it does for
VS Code, Neovim, Helix or JetBrains. Where a schema can say what `validate` says, both
must say it at the same line; where `validate` accepts, the editor must too.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from conftest import run_cli
from lsp_support import YAML_LANGUAGE_SERVER_VERSION, YamlLanguageServer, server_script
from new_support import clean_env, make_gym_tree

MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")
# validate's rules whose findings a JSON Schema (or the YAML parser) expresses.
SCHEMA_RULES = {"unknown-key", "invalid-value", "missing-key", "server-shape", "duplicate-key", "yaml-syntax"}


def test_the_pinned_server_is_installed_once() -> None:
    """What `./dev test` runs before the tests: an npm install the first time, a file
    check afterwards."""
    done = subprocess.run([sys.executable, str(Path(__file__).parent / "lsp_support.py"), "install"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == server_script()
    package = json.loads((server_script().parent.parent / "package.json").read_text())
    assert package["version"] == YAML_LANGUAGE_SERVER_VERSION
    start = time.perf_counter()
    again = subprocess.run([sys.executable, str(Path(__file__).parent / "lsp_support.py"), "install"],
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and again.stdout == done.stdout
    assert time.perf_counter() - start < 2


def errors(diagnostics: list[dict]) -> list[dict]:
    return [d for d in diagnostics if d.get("severity", 1) == 1]


def lines_of(diagnostics: list[dict]) -> set[int]:
    """1-based lines, as validate reports them."""
    return {d["range"]["start"]["line"] + 1 for d in diagnostics}


def validate_problems(root: Path, *paths: str, env: dict[str, str]) -> list[dict]:
    done = run_cli("validate", "--format", "json", "--no-cache", *paths, cwd=root, env=env, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)["problems"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A checkout where `new openai-model` wrote two servers: one with the default name
    (checked against schemas/responses_api_models/openai_model.schema.json), one under
    another name (its schema derived from the generated app.py)."""
    tmp = tmp_path_factory.mktemp("editor")
    env = clean_env(XDG_CACHE_HOME=str(tmp / "cache"), GYM_SCAFFOLD_TEMPLATE_HOME=str(tmp / "templates"))
    gym = make_gym_tree(tmp / "Gym")
    for name in ("openai_model", "my_model"):
        done = run_cli("new", "openai-model", "--no-input", "--name", name, cwd=gym, env=env, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    return gym, env


def config_of(gym: Path, name: str) -> Path:
    return gym / "responses_api_models" / name / "configs" / f"{name}.yaml"


@pytest.fixture(scope="module")
def server(generated):
    gym, _ = generated
    with YamlLanguageServer(gym) as running:  # no settings: the modeline alone finds the schema
        yield running


@pytest.mark.parametrize("name", ["openai_model", "my_model"])
def test_generated_config_opens_without_diagnostics(server, generated, name: str) -> None:
    config = config_of(generated[0], name)
    assert MODELINE.match(config.read_text().splitlines()[0])
    assert server.open(config) == []


def _variant(server, config: Path, text: str, name: str) -> list[dict]:
    """Diagnostics of `text` opened as a sibling of `config` (the modeline's path holds)."""
    variant = config.with_name(name)
    variant.write_text(text)
    try:
        return server.open(variant)
    finally:
        server.close_document(variant)
        variant.unlink()


@pytest.mark.parametrize("name", ["openai_model", "my_model"])
def test_a_key_typo_and_a_wrong_type_are_flagged_on_their_lines(server, generated, name: str) -> None:
    config = config_of(generated[0], name)
    text = config.read_text()
    lines = text.splitlines()
    typo_line = next(i for i, line in enumerate(lines) if "openai_base_url:" in line)
    typo = text.replace("openai_base_url:", "openai_base_ur:")
    found = errors(_variant(server, config, typo, f"typo_{name}.yaml"))
    assert lines_of(found) == {typo_line + 1}, found
    assert any("openai_base_ur" in d["message"] for d in found), found

    wrong = text.rstrip("\n") + "\n      max_concurrent_requests: eight\n"
    found = errors(_variant(server, config, wrong, f"type_{name}.yaml"))
    assert lines_of(found) == {len(wrong.splitlines())}, found


@pytest.mark.parametrize("name", ["openai_model", "my_model"])
def test_completion_in_an_implementation_block_offers_its_fields(server, generated, name: str) -> None:
    config = config_of(generated[0], name)
    lines = config.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if "openai_base_url:" in line)
    lines[index] = "      "  # the key not written yet: the cursor on an empty line of the block
    variant = config.with_name(f"complete_{name}.yaml")
    variant.write_text("\n".join(lines) + "\n")
    try:
        server.open(variant)
        labels = server.completion(variant, index, 6)
    finally:
        server.close_document(variant)
        variant.unlink()
    assert "openai_base_url" in labels, labels
    assert "max_concurrent_requests" in labels
    assert "openai_model" not in labels  # already in the block


@pytest.mark.parametrize("name", ["openai_model", "my_model"])
def test_hover_shows_the_description(server, generated, name: str) -> None:
    config = config_of(generated[0], name)
    text = config.read_text().rstrip("\n") + "\n      max_concurrent_requests: 16\n"
    variant = config.with_name(f"hover_{name}.yaml")
    variant.write_text(text)
    try:
        assert server.open(variant) == []
        line = len(text.splitlines()) - 1
        shown = server.hover(variant, line, 10)
    finally:
        server.close_document(variant)
        variant.unlink()
    assert "Cap on in-flight upstream requests" in shown, shown


def test_every_modeline_resolves_to_an_exported_schema(generated) -> None:
    gym, _ = generated
    configs = sorted(gym.glob("responses_api_models/*/configs/*.yaml"))
    assert configs == sorted(config_of(gym, name) for name in ("openai_model", "my_model"))
    for config in configs:
        match = MODELINE.match(config.read_text().splitlines()[0])
        assert match, config
        target = (config.parent / match.group(1)).resolve()
        assert target.is_file(), target
        assert target.parent == (gym / ".gym-scaffold" / "schemas").resolve()
        assert json.loads(target.read_text())["$schema"] == "https://json-schema.org/draft/2020-12/schema"


# What validate and the editor both flag, each at its line; and what both accept.
CASES = {
    "key typo": ("      openai_modle: x\n", "unknown-key"),
    "wrong type": ("      max_concurrent_requests: [1]\n", "invalid-value"),
    "port out of range": ("      port: 70000\n", "invalid-value"),
    "unknown server type": ("judge:\n  responses_api_model:\n    openai_model:\n      entrypoint: app.py\n",
                            "server-shape"),
    "missing domain": ("my_env:\n  resources_servers:\n    my_env:\n      entrypoint: app.py\n", "missing-key"),
    "bad domain": ("my_env:\n  resources_servers:\n    my_env:\n      entrypoint: app.py\n      domain: maths\n",
                   "invalid-value"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_editor_flags_what_validate_flags_at_the_same_line(server, generated, case: str) -> None:
    gym, env = generated
    config = config_of(gym, "openai_model")
    addition, rule = CASES[case]
    base = config.read_text().rstrip("\n") + "\n"
    if not addition.startswith(" "):
        base = base.split("\n", 1)[0] + "\n"  # the modeline only
    text = base + addition
    name = "case_" + case.replace(" ", "_") + ".yaml"
    found = errors(_variant(server, config, text, name))
    variant = config.with_name(name)
    variant.write_text(text)
    try:
        reported = [p for p in validate_problems(gym, str(variant.relative_to(gym)), env=env)
                    if p["severity"] == "error" and p["rule"] in SCHEMA_RULES]
    finally:
        variant.unlink()
    assert [p["rule"] for p in reported] == [rule], reported
    assert lines_of(found) == {reported[0]["line"]}, (found, reported)


def test_interpolations_and_the_mandatory_marker_fit_any_type(server, generated) -> None:
    gym, env = generated
    config = config_of(gym, "openai_model")
    modeline = config.read_text().splitlines()[0]
    text = modeline + "\npolicy_model:\n  responses_api_models:\n    openai_model:\n" + "".join(
        f"      {line}\n" for line in (
            "entrypoint: app.py",
            "openai_base_url: ${policy_base_url}",
            "openai_api_key: ???",
            "openai_model: ${policy_model_name}",
            "max_concurrent_requests: ${oc.env:MAX_REQUESTS,4}",
            "drop_input_reasoning_items: ???",
            "port: ${judge_port}",
            "host: ???",
            "num_workers: ${workers}",
            "extra_body: ${extra}",
            "openai_default_headers: ???",
        )
    ) + "judge:\n  resources_servers:\n    my_env:\n      entrypoint: app.py\n      domain: ${domain}\n"
    assert _variant(server, config, text, "deferred.yaml") == []
    variant = config.with_name("deferred.yaml")
    variant.write_text(text)
    try:
        reported = [p for p in validate_problems(gym, str(variant.relative_to(gym)), env=env)
                    if p["rule"] in SCHEMA_RULES]
    finally:
        variant.unlink()
    assert reported == []


def test_corpus_good_configs_pass_and_schema_bugs_are_flagged_where_validate_reports_them(
    corpus_tree: Path, tmp_path: Path
) -> None:
    env = clean_env(XDG_CACHE_HOME=str(tmp_path / "cache"))
    done = run_cli("schema", "export", "--editor", "vscode", cwd=corpus_tree, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    settings = json.loads((corpus_tree / ".vscode" / "settings.json").read_text())
    for schema in (corpus_tree / ".gym-scaffold" / "schemas").glob("*.schema.json"):
        jsonschema.Draft202012Validator.check_schema(json.loads(schema.read_text()))
    problems = validate_problems(corpus_tree, env=env)
    schema_bugs: dict[str, set[int]] = {}
    flagged_lines: dict[str, set[int]] = {}
    for problem in problems:
        if problem["severity"] == "note":
            continue
        flagged_lines.setdefault(problem["path"], set()).add(problem["line"])
        if problem["severity"] == "error" and problem["rule"] in SCHEMA_RULES:
            schema_bugs.setdefault(problem["path"], set()).add(problem["line"])
    files = sorted(
        p for kind in ("responses_api_models", "resources_servers", "responses_api_agents", "benchmarks",
                       "environments")
        for p in (corpus_tree / kind).rglob("*.y*ml") if p.stat().st_size
    )
    assert len(files) > 300
    found: dict[str, list[dict]] = {}
    # The settings as VS Code hands them over: relative to the workspace folder.
    with YamlLanguageServer(corpus_tree, settings["yaml.schemas"]) as running:
        for start in range(0, len(files), 40):
            batch = files[start:start + 40]
            for path, diagnostics in running.open_many(batch).items():
                found[path.relative_to(corpus_tree).as_posix()] = errors(diagnostics)
                running.close_document(path)
    # Every bug a schema can express is flagged at validate's line ...
    assert len(schema_bugs) >= 10, schema_bugs  # spartqa's license, the dropped keys, ...
    for path, lines in schema_bugs.items():
        assert lines <= lines_of(found[path]), (path, lines, found[path])
    # ... and the editor flags nothing where validate is content.
    for path, diagnostics in found.items():
        assert lines_of(diagnostics) <= flagged_lines.get(path, set()), (path, diagnostics)
    good = [path for path in found if path not in schema_bugs]
    assert len(good) > 250
    assert all(found[path] == [] for path in good)


def test_completion_offers_the_implementations_of_the_checkout(server, generated) -> None:
    gym, _ = generated
    config = config_of(gym, "openai_model")
    modeline = config.read_text().splitlines()[0]
    variant = config.with_name("implementations.yaml")
    variant.write_text(f"{modeline}\njudge_model:\n  responses_api_models:\n    \n")
    try:
        server.open(variant)
        labels = server.completion(variant, 3, 4)
    finally:
        server.close_document(variant)
        variant.unlink()
    assert {"openai_model", "my_model"} <= set(labels), labels


def test_env_yaml_through_the_settings_vscode_gets(generated) -> None:
    gym, env = generated
    done = run_cli("schema", "export", "--editor", "vscode", cwd=gym, env=env)
    assert done.returncode == 0, done.stderr
    settings = json.loads((gym / ".vscode" / "settings.json").read_text())["yaml.schemas"]
    env_file = gym / "env.yaml"
    text = env_file.read_text()
    assert "policy_api_key" in text
    wrong = text + "judge_api_key: 12345\n"
    elsewhere = gym / "nemo_gym" / "env.yaml"  # the glob holds for env.yaml in any folder
    with YamlLanguageServer(gym, settings) as running:
        assert running.open(env_file) == []
        found = errors(running.open(elsewhere, wrong))
    reported = [p for p in validate_problems(gym, "env.yaml", env=env) if p["rule"] in SCHEMA_RULES]
    assert reported == []  # env.yaml as written by new
    env_file.write_text(wrong)
    try:
        reported = [p for p in validate_problems(gym, "env.yaml", env=env) if p["rule"] in SCHEMA_RULES]
    finally:
        env_file.write_text(text)
    assert [(p["rule"], p["line"]) for p in reported] == [("invalid-value", len(wrong.splitlines()))]
    assert lines_of(found) == {len(wrong.splitlines())}, found


CLIENT_APP = '''
from nemo_gym.base_resources_server import BaseResourcesServerConfig


class RemoteQuizConfig(BaseResourcesServerConfig):
    server_url: str | None = None
'''


def test_the_editor_follows_the_class_of_the_entrypoint_and_its_typed_references(tmp_path: Path) -> None:
    # As in NeMo Gym: aviary's blocks name client_app.py; pinchbench's class declares
    # `model_server: Optional[ModelServerRef] = None` and its config writes null.
    from test_derive import OPTIONAL_REFS_APP

    gym = make_gym_tree(tmp_path / "Gym")
    files = {
        "resources_servers/quiz/app.py": "",
        "resources_servers/quiz/client_app.py": CLIENT_APP,
        "resources_servers/quiz/requirements.txt": "",
        "resources_servers/quiz/configs/remote.yaml": (
            "quiz:\n  resources_servers:\n    quiz:\n      entrypoint: client_app.py\n      domain: games\n"
            "      server_url: http://127.0.0.1:9000\n"),
        "resources_servers/quiz/configs/remote_bug.yaml": (
            "quiz:\n  resources_servers:\n    quiz:\n      entrypoint: client_app.py\n      domain: games\n"
            "      server_url:\n      - insert server url\n"),
        "responses_api_agents/bridge_agent/app.py": OPTIONAL_REFS_APP,
        "responses_api_agents/bridge_agent/requirements.txt": "",
        "responses_api_agents/bridge_agent/configs/bridge.yaml": (
            "bridge:\n  responses_api_agents:\n    bridge_agent:\n      entrypoint: app.py\n"
            "      resources_server: {type: resources_servers, name: quiz}\n"
            "      user_model_server: {type: responses_api_models, name: policy_model}\n"
            "      model_server: null\n      judge_model_server: null\n"),
        "responses_api_agents/bridge_agent/configs/bridge_bug.yaml": (
            "bridge:\n  responses_api_agents:\n    bridge_agent:\n      entrypoint: app.py\n"
            "      resources_server: {type: resources_servers, name: quiz}\n"
            "      user_model_server: null\n"),
    }
    for relative, text in files.items():
        (gym / relative).parent.mkdir(parents=True, exist_ok=True)
        (gym / relative).write_text(text)
    env = clean_env(XDG_CACHE_HOME=str(tmp_path / "cache"))
    done = run_cli("schema", "export", "--editor", "vscode", cwd=gym, env=env)
    assert done.returncode == 0, done.stderr
    settings = json.loads((gym / ".vscode" / "settings.json").read_text())["yaml.schemas"]
    configs = [gym / relative for relative in files if relative.endswith(".yaml")]
    with YamlLanguageServer(gym, settings) as running:
        found = {path.name: lines_of(errors(diagnostics)) for path, diagnostics in running.open_many(configs).items()}
    assert found == {"remote.yaml": set(), "remote_bug.yaml": {7}, "bridge.yaml": set(), "bridge_bug.yaml": {6}}
    # ... where validate reports them, and nowhere else.
    reported = {}
    for problem in validate_problems(gym, env=env):
        if problem["severity"] == "error" and problem["rule"] in SCHEMA_RULES:
            reported.setdefault(Path(problem["path"]).name, set()).add(problem["line"])
    assert reported == {"remote_bug.yaml": {7}, "bridge_bug.yaml": {6}}
