"""Schemas derived from server config classes (gym_scaffold/derive.py), read with ast only.

The fixtures under tests/fixtures/derive/checkout/ are app.py files written in the style
of NeMo Gym's servers: a judge-based resources server, a server building on it through an
import of the checkout, an agent with references, a model server accepting extra keys.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gym_scaffold import derive
from gym_scaffold.validate import ValidateOptions, run_validate

FIXTURES = Path(__file__).parent / "fixtures" / "derive" / "checkout"
QUIZ = FIXTURES / "resources_servers" / "quiz_judge" / "app.py"
CHEM = FIXTURES / "resources_servers" / "chem_quiz" / "app.py"
AGENT = FIXTURES / "responses_api_agents" / "tool_loop_agent" / "app.py"
RELAY = FIXTURES / "responses_api_models" / "relay_model" / "app.py"


def test_fields_required_and_types():
    derived = derive.derive_uncached(QUIZ)
    schema = derived.schema
    assert derived.class_name == "QuizJudgeResourcesServerConfig"
    assert derived.server_type == "resources_servers"
    assert schema["allOf"] == [{"$ref": derive.COMMON + "#/$defs/resources_servers"}]
    assert schema["unevaluatedProperties"] is False
    assert schema["required"] == ["judge_model_server", "judge_responses_create_params", "prompt_template"]
    props = schema["properties"]
    assert "VERSION" not in props and "_private_state" not in props  # ClassVar, private
    assert props["grading_mode"]["enum"] == ["letter", "boxed"]
    assert props["strictness"]["enum"] == ["loose", "exact"]  # an Enum class
    assert props["judge_model_server"]["properties"]["type"]["const"] == "responses_api_models"
    assert props["judge_responses_create_params"] == {}  # a type from outside the checkout
    assert props["answer_labels"]["items"]["type"] == "string"
    assert props["label_weights"]["additionalProperties"]["$ref"].endswith("#/$defs/number")
    assert props["max_concurrency"]["$ref"].endswith("#/$defs/positive_integer")
    assert {b.get("type") for b in props["extra_params"]["anyOf"]} == {"object", "null"}
    retry = schema["$defs"]["RetryPolicy"]
    assert retry["required"] == ["attempts"] and retry["additionalProperties"] is False


def test_base_classes_are_followed_through_imports_of_the_checkout():
    derived = derive.derive_uncached(CHEM)
    props = derived.schema["properties"]
    assert derived.class_name == "ChemQuizConfig"
    assert props["grading_mode"]["type"] == "string"  # overridden by the subclass
    assert "judge_model_server" in props and "periodic_table_version" in props
    assert {p.name for p in derived.inputs} == {"app.py"} and len(derived.inputs) == 2


def test_agent_base_and_extra_allow():
    agent = derive.derive_uncached(AGENT).schema
    assert agent["allOf"][0]["$ref"].endswith("#/$defs/responses_api_agents")
    assert agent["required"] == ["resources_server", "model_server"]
    relay = derive.derive_uncached(RELAY).schema
    assert "unevaluatedProperties" not in relay  # model_config = ConfigDict(extra="allow")
    assert relay["required"] == ["upstream_url"]


def test_the_source_is_never_run(tmp_path):
    app = tmp_path / "resources_servers" / "boom" / "app.py"
    app.parent.mkdir(parents=True)
    app.write_text(
        "import not_installed_anywhere\nraise SystemExit('ran')\n"
        "from nemo_gym.base_resources_server import BaseResourcesServerConfig\n"
        "class BoomConfig(BaseResourcesServerConfig):\n    fuse: float\n"
    )
    assert derive.derive_uncached(app).schema["required"] == ["fuse"]


def test_no_config_class_and_syntax_errors(tmp_path):
    with pytest.raises(derive.DeriveError, match="no class derives"):
        derive.derive_uncached(FIXTURES / "resources_servers" / "no_config" / "app.py")
    broken = tmp_path / "app.py"
    broken.write_text("class (:\n")
    with pytest.raises(derive.DeriveError, match="cannot parse"):
        derive.derive_uncached(broken)


def test_nesting_deeper_than_pythons_parser_takes_is_a_derive_error(tmp_path):
    class_text = "from nemo_gym.base_resources_server import BaseResourcesServerConfig\n" \
        "class C(BaseResourcesServerConfig):\n    a: int = 1\n"
    deep = tmp_path / "resources_servers" / "deep" / "app.py"
    deep.parent.mkdir(parents=True)
    for depth in (3_000, 200_000):  # RecursionError, then MemoryError inside ast.parse
        deep.write_text(f"x = {'-' * depth}1\n" + class_text)
        with pytest.raises(derive.DeriveError, match="nested too deeply"):
            derive.derive_uncached(deep, tmp_path)
    # A forward reference that no parser takes accepts anything; the class is still read.
    deep.write_text(class_text + f"    b: '{'-' * 200_000}1'\n")
    schema = derive.derive_uncached(deep, tmp_path).schema
    assert schema["properties"]["b"] == {} and schema["properties"]["a"]["default"] == 1


def test_an_empty_source_has_no_config_class(tmp_path):
    app = tmp_path / "resources_servers" / "placeholder" / "app.py"
    app.parent.mkdir(parents=True)
    for text in ("", "\n  \n"):
        app.write_text(text)
        with pytest.raises(derive.DeriveError, match="empty file"):
            derive.derive(app, tmp_path, cache=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # nothing worth keeping


def test_server_class_without_config_class_gets_its_type_base(tmp_path):
    app = tmp_path / "resources_servers" / "plain" / "app.py"
    app.parent.mkdir(parents=True)
    app.write_text("from nemo_gym.base_resources_server import SimpleResourcesServer\n"
                   "class Plain(SimpleResourcesServer):\n    pass\n")
    derived = derive.derive_uncached(app)
    assert derived.class_name == "BaseResourcesServerConfig" and derived.schema["properties"] == {}


def test_cache_by_content(tmp_path, monkeypatch):
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES, tree)
    cache = tmp_path / "cache"
    app = tree / "resources_servers" / "chem_quiz" / "app.py"
    first = derive.derive(app, tree, cache=cache)
    calls = []
    real = derive.derive_uncached
    monkeypatch.setattr(derive, "derive_uncached", lambda *a, **k: calls.append(a) or real(*a, **k))
    assert derive.derive(app, tree, cache=cache).schema == first.schema
    assert calls == []  # the second run parses nothing
    base = tree / "resources_servers" / "quiz_judge" / "app.py"
    base.write_text(base.read_text().replace("    prompt_template: str = Field(...)\n", ""))
    again = derive.derive(app, tree, cache=cache)
    assert len(calls) == 1 and "prompt_template" not in again.schema["properties"]


def test_cli_prints_the_schema(cli, tmp_path):
    proc = cli("schema", "derive", str(AGENT), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["required"] == ["resources_server", "model_server"]
    proc = cli("schema", "derive", str(FIXTURES / "resources_servers" / "no_config" / "app.py"), cwd=tmp_path)
    assert proc.returncode == 2 and "no class derives" in proc.stderr


BAD = """\
quiz:
  resources_servers:
    quiz_judge:
      entrypoint: app.py
      domain: knowledge
      judge_model_server:
        type: responses_api_models
        name: policy_model
      judge_responses_create_params:
        input: []
      grading_mode: latex
      max_concurency: 4
      retry:
        attempts: x
"""


def _validate(root: Path, cache: Path | None = None, *paths: str):
    environ = {"XDG_CACHE_HOME": str(cache)} if cache else {}
    options = ValidateOptions(paths=[Path(p) for p in paths], cwd=root, environ=environ, check_git=False,
                              use_cache=cache is not None)
    return run_validate(options).problems


def test_validate_checks_servers_against_derived_schemas(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES, tree)
    (tree / "resources_servers/quiz_judge/configs/bad.yaml").write_text(BAD)
    found = {(p.line, p.rule, p.severity.value) for p in _validate(tree) if p.path.endswith("bad.yaml")}
    assert found == {
        (3, "missing-key", "warning"),  # prompt_template: a run may still supply it
        (11, "invalid-value", "error"),  # grading_mode: latex
        (12, "unknown-key", "error"),  # max_concurency
        (14, "invalid-value", "error"),  # retry.attempts: x
    }


def test_checked_in_schema_wins(tmp_path):
    impl = tmp_path / "responses_api_models" / "openai_model"
    (impl / "configs").mkdir(parents=True)
    (impl / "requirements.txt").write_text("")
    (impl / "app.py").write_text(
        "from nemo_gym.base_responses_api_model import BaseResponsesAPIModelConfig\n"
        "class C(BaseResponsesAPIModelConfig):\n    only_this: str\n"
    )
    (impl / "configs" / "m.yaml").write_text(
        "policy_model:\n  responses_api_models:\n    openai_model:\n      entrypoint: app.py\n"
        "      openai_base_url: u\n      openai_api_key: k\n      openai_model: m\n"
    )
    assert [p for p in _validate(tmp_path) if p.severity.value != "note"] == []


def test_result_cache_follows_the_app_py(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES, tree)
    cache = tmp_path / "cache"
    config = tree / "resources_servers/quiz_judge/configs/extra.yaml"
    config.write_text(BAD.replace("      grading_mode: latex\n", "").replace("      max_concurency: 4\n", "")
                      .replace("        attempts: x\n", "        attempts: 2\n") + "      prompt_template: t\n")
    assert [p for p in _validate(tree, cache) if p.severity.value == "error"] == []
    assert [p for p in _validate(tree, cache) if p.severity.value == "error"] == []  # cached
    app = tree / "resources_servers/quiz_judge/app.py"
    app.write_text(app.read_text().replace("    attempts: int\n", "    attempts: int\n    seed: int\n"))
    problems = _validate(tree, cache)
    assert any(p.rule == "missing-key" and "seed" in p.message for p in problems)



def test_a_second_run_in_the_same_process_derives_afresh(tmp_path):
    """Derived schemas belong to one run: an app.py edited between two runs of one process
    is read again, even when its size and modification time are what they were."""
    import os

    tree = tmp_path / "tree"
    shutil.copytree(FIXTURES, tree)
    (tree / "resources_servers/quiz_judge/configs/bad.yaml").write_text(BAD)

    def unknown_keys() -> set[str]:
        return {p.message for p in _validate(tree) if p.path.endswith("bad.yaml") and p.rule == "unknown-key"}

    assert any("max_concurency" in message for message in unknown_keys())
    app = tree / "resources_servers/quiz_judge/app.py"
    before = app.stat()
    edited = app.read_text().replace("    max_concurrency: PositiveInt = 16\n", "    max_concurency: PositiveInt = 166\n")
    assert len(edited) == len(app.read_text())  # the same size: only the content tells
    app.write_text(edited)
    os.utime(app, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert not any("max_concurency" in message for message in unknown_keys())


OPTIONAL_REFS_APP = (
    "from typing import Optional\n"
    "from nemo_gym.base_responses_api_agent import BaseResponsesAPIAgentConfig\n"
    "from nemo_gym.config_types import ModelServerRef, ResourcesServerRef\n"
    "class BridgeAgentConfig(BaseResponsesAPIAgentConfig):\n"
    "    resources_server: ResourcesServerRef\n"
    "    model_server: Optional[ModelServerRef] = None\n"
    "    judge_model_server: ModelServerRef | None = None\n"
    "    user_model_server: ModelServerRef\n"
)


def test_a_reference_the_class_declares_optional_may_be_null(tmp_path):
    # As responses_api_agents/pinchbench and cvdp_agent do: `model_server: null` runs the
    # agent without a model server. A reference the class requires stays a reference.
    impl = tmp_path / "responses_api_agents" / "bridge_agent"
    (impl / "configs").mkdir(parents=True)
    (impl / "app.py").write_text(OPTIONAL_REFS_APP)
    (impl / "requirements.txt").write_text("")
    resources = tmp_path / "resources_servers" / "bridge"
    resources.mkdir(parents=True)
    (resources / "app.py").write_text("")
    (resources / "requirements.txt").write_text("")
    (impl / "configs" / "bridge.yaml").write_text(
        "bridge_agent:\n  responses_api_agents:\n    bridge_agent:\n      entrypoint: app.py\n"
        "      resources_server: {type: resources_servers, name: bridge}\n"
        "      model_server: null\n      judge_model_server: null\n      user_model_server: null\n"
        "bridge:\n  resources_servers:\n    bridge:\n      entrypoint: app.py\n      domain: other\n"
    )
    found = [(p.line, p.rule) for p in _validate(tmp_path) if p.severity.value == "error"]
    assert found == [(8, "invalid-value")]  # user_model_server only
    # Not declared by the class (a class outside the checkout): the common rule holds.
    (impl / "app.py").write_text("from elsewhere import BridgeAgent\n")
    found = [(p.line, p.rule) for p in _validate(tmp_path) if p.severity.value == "error"]
    assert found == [(6, "invalid-value"), (7, "invalid-value"), (8, "invalid-value")]


BRIDGE_APP = (
    "from responses_api_agents.relay_agent.app import RelayAgent, RelayAgentConfig\n"
    "class BridgeConfig(RelayAgentConfig):\n"
    "    bridge_port: int = 9000\n"
    "class Bridge(RelayAgent):\n"
    "    config: BridgeConfig\n"
)
RELAY_APP = (
    "from nemo_gym.base_responses_api_agent import BaseResponsesAPIAgentConfig, SimpleResponsesAPIAgent\n"
    "class RelayAgentConfig(BaseResponsesAPIAgentConfig):\n"
    "    hops: int = 1\n"
    "class RelayAgent(SimpleResponsesAPIAgent):\n"
    "    config: RelayAgentConfig\n"
)


@pytest.mark.parametrize(
    ("entrypoint", "value", "expected"),
    [
        # NeMo Gym runs `python <entrypoint>` in the implementation directory: the bridge's class.
        ("../../resources_servers/bench/bridge.py", "9100", []),
        ("../../resources_servers/bench/bridge.py", "nine", [(6, "invalid-value")]),
        ("./bridge_here.py", "nine", [(6, "invalid-value")]),
        # app.py's class knows no bridge_port.
        ("app.py", "9100", [(6, "unknown-key")]),
        # Outside the checkout: not read; app.py's class stands in.
        ("../../../../outside/bridge.py", "9100", [(6, "unknown-key")]),
        # Inside the checkout but missing: only the fields every agent has (and no false error).
        ("../../resources_servers/bench/missing.py", "9100", []),
    ],
)
def test_the_entrypoint_nemo_gym_runs_is_the_source_of_the_schema(tmp_path, entrypoint, value, expected):
    root = tmp_path / "Gym"
    relay = root / "responses_api_agents" / "relay_agent"
    (relay / "configs").mkdir(parents=True)
    (relay / "app.py").write_text(RELAY_APP)
    (relay / "bridge_here.py").write_text(BRIDGE_APP)
    (relay / "requirements.txt").write_text("")
    (root / "resources_servers" / "bench").mkdir(parents=True)
    (root / "resources_servers" / "bench" / "bridge.py").write_text(BRIDGE_APP)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "bridge.py").write_text(BRIDGE_APP)
    (relay / "configs" / "relay.yaml").write_text(
        "relay:\n  responses_api_agents:\n    relay_agent:\n"
        f"      entrypoint: {entrypoint}\n      hops: 2\n      bridge_port: {value}\n"
    )
    found = [(p.line, p.rule) for p in _validate(root) if p.severity.value == "error" and p.rule != "server-directory"]
    assert found == expected
