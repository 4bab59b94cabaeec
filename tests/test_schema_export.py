"""`gym-scaffold schema export`: what it writes, where, and the editor settings it merges.

The schemas in a real editor are tested in test_editor_lsp.py; here they are checked
against the draft 2020-12 metaschema and the reference validator (python-jsonschema),
and the command against real files and real git.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
from conftest import run_cli
from new_support import clean_env, git, make_gym_tree

from gym_scaffold import editor_settings, schema_export, schema_messages
from gym_scaffold.config.model import SERVER_TYPES

FILES = [*(f"{kind}.schema.json" for kind in (*SERVER_TYPES, "benchmarks", "environments")), "env.schema.json"]
APP = '''
from pydantic import Field
from nemo_gym.base_resources_server import BaseResourcesServerConfig


class QuizConfig(BaseResourcesServerConfig):
    judge_url: str
    """Where the judge listens, such as `http://127.0.0.1:9000`."""
    max_retries: int = Field(default=3, description="Retries per question.", examples=[3, 5])
    mode: str = "strict"
'''


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small checkout: a hand-written implementation, one derived from app.py, one without code."""
    root = make_gym_tree(tmp_path / "Gym")
    for relative, text in {
        "responses_api_models/openai_model/configs/openai_model.yaml": "x: 1\n",
        "resources_servers/quiz/app.py": APP,
        "resources_servers/quiz/configs/quiz.yaml": "x: 1\n",
        "responses_api_agents/simple_agent/app.py": "",
    }.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


def exported(root: Path) -> dict[str, dict]:
    dest = root / "out"
    schema_export.export(root, dest)
    return {name: json.loads((dest / name).read_text()) for name in FILES}


def validator(document: dict) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(document)


def config(body: dict, implementation: str = "quiz", server_type: str = "resources_servers") -> dict:
    return {"inst": {server_type: {implementation: {"entrypoint": "app.py", **body}}}}


def test_every_schema_passes_the_metaschema_and_refers_only_inside_itself(tree: Path) -> None:
    for name, document in exported(tree).items():
        jsonschema.Draft202012Validator.check_schema(document)
        assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert "$id" not in document  # nothing to fetch, nothing to resolve against
        references = []

        def walk(node, refs=references):
            if isinstance(node, dict):
                if isinstance(node.get("$ref"), str):
                    refs.append(node["$ref"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(document)
        assert references, name
        for reference in references:
            assert reference.startswith("#/$defs/"), (name, reference)
            assert reference.removeprefix("#/$defs/") in document["$defs"], (name, reference)


def test_implementations_of_the_checkout_are_enumerated_with_their_fields(tree: Path) -> None:
    document = exported(tree)["resources_servers.schema.json"]
    definitions = document["$defs"]
    for server_type, names in {"responses_api_models": ["openai_model"], "resources_servers": ["quiz"],
                               "responses_api_agents": ["simple_agent"]}.items():
        listed = definitions[f"type.{server_type}"]["properties"]
        assert sorted(set(listed) - {"_delete_key"}) == names
    quiz = definitions["derived.resources_servers.quiz"]["properties"]
    assert quiz["judge_url"]["description"] == "Where the judge listens, such as `http://127.0.0.1:9000`."
    assert quiz["judge_url"]["markdownDescription"] == quiz["judge_url"]["description"]
    assert quiz["max_retries"]["description"] == "Retries per question."
    assert quiz["max_retries"]["default"] == 3
    assert quiz["max_retries"]["examples"] == [3, 5]
    assert quiz["mode"]["default"] == "strict"
    check = validator(document)
    assert check.is_valid(config({"domain": "games", "judge_url": "http://j", "max_retries": "4"}))
    assert not check.is_valid(config({"domain": "games", "judge_url": "http://j", "max_retry": 4}))
    assert not check.is_valid(config({"domain": "games", "max_retries": "four"}))
    # An implementation that is not in the checkout gets the fields every server has.
    assert check.is_valid(config({"domain": "games", "anything": 1}, implementation="elsewhere"))
    assert not check.is_valid(config({"domain": "games", "port": 70000}, implementation="elsewhere"))
    # simple_agent's app.py is empty: named for completion, checked as any agent.
    assert check.is_valid(config({"anything": 1}, "simple_agent", "responses_api_agents"))


def test_interpolations_and_the_marker_fit_every_field_of_every_implementation(tree: Path) -> None:
    document = exported(tree)["responses_api_models.schema.json"]
    check = validator(document)
    definitions = document["$defs"]
    fields_checked = 0
    for server_type in SERVER_TYPES:
        for implementation, entry in definitions[f"type.{server_type}"]["properties"].items():
            if implementation == "_delete_key":
                continue
            target = entry.get("$ref") or entry["else"]["$ref"]
            node = definitions[target.removeprefix("#/$defs/")]
            names = set(node.get("properties", {}))
            for sub in node.get("allOf", []):
                names |= set(definitions[sub["$ref"].removeprefix("#/$defs/")].get("properties", {}))
            for name in sorted(names - {"entrypoint", "domain"}):
                for value in ("${x}", "???", "http://${host}:${port}/v1"):
                    body = {name: value, "domain": "games"} if server_type == "resources_servers" else {name: value}
                    errors = list(check.iter_errors(config(body, implementation, server_type)))
                    assert not errors, (implementation, name, value, errors[0].message)
                fields_checked += 1
    assert fields_checked > 10


def test_required_keys_apply_where_validate_reports_them_as_errors(tree: Path) -> None:
    check = validator(exported(tree)["resources_servers.schema.json"])
    declared = config({"judge_url": "x"})
    assert not check.is_valid(declared)  # a resources server that declares itself needs a domain
    assert check.is_valid({"config_paths": ["a.yaml"], **declared})  # ... unless a file it includes says more
    assert check.is_valid({"inst": {"_inherit_from": "other", **declared["inst"]}})
    assert check.is_valid({"inst": {"resources_servers": {"quiz": {"judge_url": "x"}}}})  # an overlay
    assert check.is_valid(config({"domain": "games"}))  # judge_url: a run may supply it (validate warns)
    dataset = {"name": "d", "type": "example"}  # no jsonl_fpath: dataset entries are always complete
    assert not check.is_valid({"inst": {"resources_servers": {"quiz": {"datasets": [dataset]}}}})
    env = validator(exported(tree)["env.schema.json"])
    assert env.is_valid(declared)  # env.yaml only overrides
    assert env.is_valid({"policy_base_url": "${oc.env:URL}", "policy_api_key": "???"})
    assert not env.is_valid({"policy_api_key": 123})


def test_a_misspelt_server_type_is_flagged_but_a_plain_mapping_is_not(tree: Path) -> None:
    check = validator(exported(tree)["benchmarks.schema.json"])
    assert not check.is_valid({"judge": {"responses_api_model": {"openai_model": {}}}})
    assert not check.is_valid({"judge": {"resource_servers": {"quiz": {}}}})
    assert check.is_valid({"prompts": {"system": "x", "responses": 3}})
    for key in schema_export._near_miss_keys():
        assert schema_messages.near_server_type(key), key  # never more than validate flags


def test_a_reference_the_class_types_itself_follows_the_class_as_in_validate(tree: Path) -> None:
    # responses_api_agents/pinchbench: `model_server: Optional[ModelServerRef] = None` and
    # `model_server: null` in its config; validate accepts it, so must the editor.
    from test_derive import OPTIONAL_REFS_APP

    (tree / "responses_api_agents" / "bridge_agent").mkdir(parents=True)
    (tree / "responses_api_agents" / "bridge_agent" / "app.py").write_text(OPTIONAL_REFS_APP)
    check = validator(exported(tree)["responses_api_agents.schema.json"])
    reference = {"type": "responses_api_models", "name": "policy_model"}
    resources = {"type": "resources_servers", "name": "quiz"}

    def bridge(**fields) -> dict:
        return config({"resources_server": resources, "user_model_server": reference, **fields},
                      "bridge_agent", "responses_api_agents")

    assert check.is_valid(bridge(model_server=None, judge_model_server=None))
    assert check.is_valid(bridge(model_server=reference))
    assert not check.is_valid(bridge(model_server=5))
    assert not check.is_valid(bridge(user_model_server=None))  # required by the class: a reference
    # Another agent, whose class says nothing of model_server: the common rule holds.
    assert not check.is_valid(config({"model_server": None}, "simple_agent", "responses_api_agents"))
    assert check.is_valid(config({"model_server": reference}, "simple_agent", "responses_api_agents"))


def test_a_block_is_checked_against_the_class_of_the_entrypoint_it_names(tree: Path) -> None:
    # aviary's client_app.py, langgraph_agent's reflection_agent.py, gymnasium's base.py
    # (no app.py at all): configs of the checkout name them, and the editor follows.
    quiz = tree / "resources_servers" / "quiz"
    (quiz / "client_app.py").write_text(APP.replace("class QuizConfig", "class QuizClientConfig")
                                        + "    server_url: str | None = None\n")
    (quiz / "configs" / "remote.yaml").write_text(
        "remote:\n  resources_servers:\n    quiz:\n      entrypoint: client_app.py\n      domain: games\n")
    board = tree / "resources_servers" / "board"
    (board / "configs").mkdir(parents=True)
    (board / "base.py").write_text(APP.replace("judge_url: str", "board_size: int = 8"))
    (board / "configs" / "board.yaml").write_text(
        "board:\n  resources_servers:\n    board:\n      entrypoint: base.py\n      domain: games\n")
    check = validator(exported(tree)["resources_servers.schema.json"])

    def block(entrypoint: str, implementation: str = "quiz", **fields) -> dict:
        if implementation == "quiz":
            fields["judge_url"] = "http://j"
        return {"inst": {"resources_servers": {implementation: {"entrypoint": entrypoint, "domain": "games",
                                                                **fields}}}}

    assert check.is_valid(block("client_app.py", server_url="http://s"))
    assert not check.is_valid(block("client_app.py", server_url=["a list"]))  # aviary's bug
    assert not check.is_valid(block("app.py", server_url="http://s"))  # app.py's class has no such field
    assert check.is_valid(block("other.py", anything=1))  # named by no config: the common fields
    assert check.is_valid(block("base.py", "board", board_size=10))
    assert not check.is_valid(block("base.py", "board", board_size="ten"))


def test_the_command_writes_ignores_and_commits(tree: Path) -> None:
    env = clean_env(XDG_CACHE_HOME=str(tree.parent / "cache"))
    workdir = tree / "resources_servers"  # run from inside: the root is found
    done = run_cli("schema", "export", cwd=workdir, env=env)
    assert done.returncode == 0, done.stderr
    dest = tree / ".gym-scaffold" / "schemas"
    assert sorted(p.name for p in dest.glob("*.json")) == sorted(FILES)
    assert "Wrote 6 schemas" in done.stdout and "1 resources_servers" in done.stdout
    status = git(tree, "status", "--porcelain", "--untracked-files=all")
    assert "resources_servers/quiz/app.py" in status and ".gym-scaffold" not in status
    before = {p: p.stat().st_mtime_ns for p in dest.glob("*.json")}
    again = run_cli("schema", "export", cwd=tree, env=env)
    assert again.returncode == 0 and "up to date" in again.stdout
    assert before == {p: p.stat().st_mtime_ns for p in dest.glob("*.json")}  # editors not disturbed
    committed = run_cli("schema", "export", "--commit", cwd=tree, env=env)
    assert committed.returncode == 0 and "no longer ignores" in committed.stdout
    listed = git(tree, "status", "--porcelain", "--untracked-files=all")
    assert all(f"?? .gym-scaffold/schemas/{name}" in listed for name in FILES)
    assert (tree / ".gitignore").read_text() == "cache/\n"  # the checkout's own is not touched
    git(tree, "add", ".gym-scaffold")
    git(tree, "commit", "-q", "-m", "the team commits its editor schemas")
    plain = run_cli("schema", "export", cwd=tree, env=env)  # a teammate, or the checkout hook
    assert plain.returncode == 0 and "ignores" not in plain.stdout, plain.stdout
    assert not (dest / ".gitignore").exists()
    (tree / "resources_servers" / "quiz" / "app.py").write_text(APP + "    rounds: int = 3\n")
    assert run_cli("schema", "export", cwd=tree, env=env).returncode == 0
    changed = git(tree, "status", "--porcelain", "--untracked-files=all")
    assert " M .gym-scaffold/schemas/resources_servers.schema.json" in changed.splitlines(), changed


def test_the_command_with_a_destination_outside_the_checkout(tree: Path, tmp_path: Path) -> None:
    env = clean_env(XDG_CACHE_HOME=str(tmp_path / "cache"))
    done = run_cli("schema", "export", "--dest", str(tmp_path / "elsewhere"), "--editor", "vscode", cwd=tree, env=env)
    assert done.returncode == 0, done.stderr
    settings = json.loads((tree / ".vscode" / "settings.json").read_text())["yaml.schemas"]
    schema = str((tmp_path / "elsewhere" / "env.schema.json").resolve())
    assert settings[schema] == ["env.yaml"]


def test_an_unwritable_destination_is_one_line_and_exit_1(tree: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = run_cli("schema", "export", "--dest", str(blocker / "sub"), cwd=tree, env=clean_env())
    assert done.returncode == 1
    assert "cannot write the schemas" in done.stderr and "Traceback" not in done.stderr


# -- .vscode/settings.json -----------------------------------------------------------------

OURS = {"./.gym-scaffold/schemas/benchmarks.schema.json": ["benchmarks/**/*.yaml"],
        "./.gym-scaffold/schemas/env.schema.json": ["env.yaml"]}
USER_SETTINGS = """// Workspace settings
{
    "editor.tabSize": 4, // four, as the team agreed
    /* the YAML extension */
    "yaml.schemas": {
        // Kubernetes manifests
        "kubernetes": "deploy/*.yaml",
        "./.gym-scaffold/schemas/env.schema.json": ["old.yaml"],
    },
    "files.trimTrailingWhitespace": true,
}
"""


def jsonc(text: str) -> dict:
    """The settings as VS Code reads them: comments and trailing commas allowed (node's
    jsonc-parser, the one VS Code uses, is not here; strip what JSON lacks)."""
    import re

    text = re.sub(r'("(?:[^"\\\n]|\\.)*")|//[^\n]*|/\*.*?\*/', lambda m: m.group(1) or "", text, flags=re.DOTALL)
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", text))


def test_settings_keep_the_users_comments_and_settings() -> None:
    merged = editor_settings.merge_schemas(USER_SETTINGS, OURS)
    for kept in ("// Workspace settings", "// four, as the team agreed", "/* the YAML extension */",
                 "// Kubernetes manifests", '"kubernetes": "deploy/*.yaml"', '"files.trimTrailingWhitespace": true'):
        assert kept in merged
    parsed = jsonc(merged)
    assert parsed["editor.tabSize"] == 4
    assert parsed["yaml.schemas"] == {"kubernetes": "deploy/*.yaml", **OURS}
    assert "old.yaml" not in merged
    assert editor_settings.merge_schemas(merged, OURS) == merged


@pytest.mark.parametrize("text", [None, "", "{}", "{\n  // nothing yet\n}\n", '{"a": 1}', '{\n  "a": [1, 2], // c\n}\n',
                                  '{"yaml.schemas": {}}', '{"yaml.schemas": {"x": "y"},}'])
def test_settings_merge_into_any_shape(text: str | None) -> None:
    merged = editor_settings.merge_schemas(text, OURS)
    assert {k: v for k, v in jsonc(merged)["yaml.schemas"].items() if k in OURS} == OURS
    assert editor_settings.merge_schemas(merged, OURS) == merged


@pytest.mark.parametrize("text", ["{", "[1]", '{"yaml.schemas": []}', '{"a": 1} {}', "{'a': 1}", '{"a" 1}'])
def test_settings_that_do_not_parse_are_left_alone(tree: Path, text: str) -> None:
    settings = tree / ".vscode" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(text)
    done = run_cli("schema", "export", "--editor", "vscode", cwd=tree, env=clean_env(XDG_CACHE_HOME=str(tree / "c")))
    assert done.returncode == 1, done.stdout
    assert ".vscode/settings.json left unchanged" in done.stderr and "Traceback" not in done.stderr
    assert settings.read_text() == text


@pytest.mark.parametrize(("bom", "newline"), [(b"\xef\xbb\xbf", "\n"), (b"", "\r\n"), (b"\xef\xbb\xbf", "\r\n")])
def test_settings_keep_their_byte_order_mark_and_line_ends(tmp_path: Path, bom: bytes, newline: str) -> None:
    settings = tmp_path / "settings.json"
    settings.write_bytes(bom + USER_SETTINGS.replace("\n", newline).encode())
    assert editor_settings.update_settings(settings, OURS)
    data = settings.read_bytes()
    assert data.startswith(bom) and not data[len(bom):].startswith(b"\xef\xbb\xbf")
    text = data[len(bom):].decode()
    assert text.count("\n") == text.count(newline)  # no line end of another kind
    assert jsonc(text.replace("\r\n", "\n"))["yaml.schemas"] == {"kubernetes": "deploy/*.yaml", **OURS}
    assert not editor_settings.update_settings(settings, OURS)  # once merged, left alone


def test_the_command_merges_settings_once(tree: Path) -> None:
    settings = tree / ".vscode" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(USER_SETTINGS)
    env = clean_env(XDG_CACHE_HOME=str(tree / "c"))
    done = run_cli("schema", "export", "--editor", "vscode", cwd=tree, env=env)
    assert done.returncode == 0 and "Updated .vscode/settings.json" in done.stdout, done.stderr
    merged = jsonc(settings.read_text())["yaml.schemas"]
    assert merged["kubernetes"] == "deploy/*.yaml"
    assert merged["./.gym-scaffold/schemas/resources_servers.schema.json"] == [
        "resources_servers/*/configs/**/*.yaml", "resources_servers/*/configs/**/*.yml"]
    assert all((tree / schema).is_file() for schema in merged if schema.startswith("./"))
    again = run_cli("schema", "export", "--editor", "vscode", cwd=tree, env=env)
    assert "No change to .vscode/settings.json" in again.stdout


def test_export_outside_a_git_repository(tmp_path: Path) -> None:
    root = make_gym_tree(tmp_path / "Gym", git_repo=False, gitignore=None)
    done = run_cli("schema", "export", cwd=root, env=clean_env(XDG_CACHE_HOME=str(tmp_path / "c")))
    assert done.returncode == 0, done.stderr
    assert (root / ".gym-scaffold" / "schemas" / ".gitignore").read_text().endswith("*\n")
    assert not (root / ".gitignore").exists()


# -- the modeline of servers generated before ------------------------------------------------

OLD_MODELINE_URL = "https://gym-scaffold.dev/schemas/responses_api_models/openai_model.schema.json"


def test_copier_update_brings_the_relative_modeline_to_an_existing_server(tmp_path: Path) -> None:
    import shutil
    import sys

    from new_support import TEMPLATES

    template = tmp_path / "template"
    shutil.copytree(TEMPLATES, template, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    copier_yml = template / "copier.yml"
    current = copier_yml.read_text()
    default = "default: ../../../.gym-scaffold/schemas/responses_api_models.schema.json"
    assert default in current
    copier_yml.write_text(current.replace(default, f"default: {OLD_MODELINE_URL}"))  # as released before
    git(template, "init", "-q", "-b", "main")
    git(template, "add", "-A")
    git(template, "commit", "-q", "-m", "template 1.0.0")
    git(template, "tag", "1.0.0")
    gym = make_gym_tree(tmp_path / "Gym")
    env = clean_env(XDG_CACHE_HOME=str(tmp_path / "cache"))

    def copier(*args: str) -> None:
        done = subprocess.run([sys.executable, "-m", "copier", *args], cwd=gym, env=env,
                              capture_output=True, text=True, check=False, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr

    copier("copy", "--defaults", "--quiet", str(template), str(gym))
    config = gym / "responses_api_models" / "openai_model" / "configs" / "openai_model.yaml"
    assert config.read_text().splitlines()[0] == f"# yaml-language-server: $schema={OLD_MODELINE_URL}"
    git(gym, "add", "-A")
    git(gym, "commit", "-q", "-m", "generated")

    copier_yml.write_text(current)
    git(template, "commit", "-q", "-am", "template 1.1.0: a modeline that resolves")
    git(template, "tag", "1.1.0")
    copier("update", "--defaults", "--answers-file", "responses_api_models/openai_model/.copier-answers.yml")
    first = config.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../../.gym-scaffold/schemas/responses_api_models.schema.json"
    assert run_cli("schema", "export", cwd=gym, env=env).returncode == 0
    assert (config.parent / first.split("=", 1)[1]).resolve().is_file()


def test_a_key_written_into_a_config_class_stays_out_of_the_exported_files(tree: Path) -> None:
    key = "sk-proj-" + "Zq9XbT4kLm2Nw8Rv5Hs1" * 2
    app = tree / "resources_servers" / "quiz" / "app.py"
    app.write_text(APP + f'    judge_api_key: str = "{key}"\n    fallback: str = Field(default="{key}")\n')
    dest = tree / "out"
    schema_export.export(tree, dest)
    quiz = json.loads((dest / "env.schema.json").read_text())["$defs"]["derived.resources_servers.quiz"]
    assert set(quiz["properties"]) >= {"judge_api_key", "fallback"}
    for path in dest.iterdir():
        assert key[-12:] not in path.read_text(), path
