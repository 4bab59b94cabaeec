"""`gym-scaffold show`: the composed, resolved config of one run, with origins, on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from gym_scaffold.config.compose import compose, load_env_file
from gym_scaffold.doctor.targets import describe
from gym_scaffold.show import ShowOptions, mask, render_json, render_yaml, run_show

KEY = "sk-proj-Q8wErT5yUi9oPa3sDf7gHj2kLz6xCv4bNm1Q"
CONFIG = "responses_api_models/openai_model/configs/openai_model.yaml"
APP = """\
from nemo_gym.base_responses_api_model import BaseResponsesAPIModelConfig, SimpleResponsesAPIModel
from pydantic import Field


class OpenAIModelServerConfig(BaseResponsesAPIModelConfig):
    openai_base_url: str
    openai_api_key: str
    openai_model: str
    max_concurrent_requests: int = 32
    timeout: float = Field(default=60.0)
    extra_body: dict = Field(default_factory=dict)


class OpenAIModelServer(SimpleResponsesAPIModel):
    config: OpenAIModelServerConfig
"""
MODEL = """\
policy_model:
  responses_api_models:
    openai_model:
      entrypoint: app.py
      openai_base_url: ${policy_base_url}
      openai_api_key: ${policy_api_key}
      openai_model: ${policy_model_name}
"""
ENV = f"policy_base_url: https://api.openai.com/v1\npolicy_api_key: {KEY}\npolicy_model_name: gpt-4o-mini\n"


def tree(root: Path, files: dict[str, str], *, env: str | None = ENV, app: str = APP) -> Path:
    server = root / "responses_api_models" / "openai_model"
    server.mkdir(parents=True, exist_ok=True)
    (server / "app.py").write_text(app)
    (server / "requirements.txt").write_text("-e nemo-gym[dev] @ ../../\n")
    if env is not None:
        (root / "env.yaml").write_text(env)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def show(root: Path, *configs: str, select: str | None = None, environ: dict | None = None):
    options = ShowOptions(
        configs=[Path(c) for c in configs], cwd=root, environ=environ or {}, select=select
    )
    shown = run_show(options)
    return shown, json.loads(render_json(shown, show_origin=True))


def body(doc: dict, part: str = "config", instance: str = "policy_model", impl: str = "openai_model") -> dict:
    return doc[part][instance]["responses_api_models"][impl]


# -- each kind of origin ---------------------------------------------------------------


def test_each_origin_kind(tmp_path):
    config = MODEL.replace("      entrypoint: app.py\n", "      entrypoint: app.py\n      num_workers: ${oc.env:WORKERS}\n")
    tree(tmp_path, {CONFIG: config})
    shown, doc = show(tmp_path, CONFIG, environ={"WORKERS": "3"})
    origins = body(doc, "origins")
    assert origins["entrypoint"] == f"{CONFIG}:4"  # a literal
    assert origins["openai_api_key"] == "env.yaml:2 via ${policy_api_key}"  # an interpolation
    assert origins["num_workers"] == "$WORKERS via oc.env"  # an environment variable
    assert origins["max_concurrent_requests"] == (
        "default of OpenAIModelServerConfig.max_concurrent_requests (responses_api_models/openai_model/app.py:9)"
    )
    assert origins["timeout"].startswith("default of OpenAIModelServerConfig.timeout (")
    assert "extra_body" not in origins  # a default_factory is not guessed
    values = body(doc)
    assert values["num_workers"] == "3" and values["max_concurrent_requests"] == 32 and values["timeout"] == 60.0
    assert values["openai_api_key"] == "****..." + KEY[-4:]
    assert values["openai_base_url"] == "https://api.openai.com/v1"
    assert doc["problems"] == [] and not shown.failed


def test_inherited_values_name_the_directive_and_the_line_they_come_from(tmp_path):
    config = MODEL + (
        "judge_model:\n"
        "  _inherit_from: policy_model\n"
        "  responses_api_models:\n"
        "    openai_model:\n"
        "      openai_model: gpt-4o\n"
    )
    tree(tmp_path, {CONFIG: config})
    _, doc = show(tmp_path, CONFIG)
    judge = body(doc, "origins", "judge_model")
    assert judge["openai_model"] == f"{CONFIG}:12"  # its own value
    assert judge["entrypoint"] == f"{CONFIG}:4 via _inherit_from: policy_model"
    assert judge["openai_api_key"] == "env.yaml:2 via ${policy_api_key} via _inherit_from: policy_model"
    assert body(doc, "config", "judge_model")["openai_model"] == "gpt-4o"
    assert "policy_model" not in doc["config"]  # _inherit_from moves its source, as NeMo Gym does


def test_inherit_from_chain(tmp_path):
    config = (
        "base_model:\n  responses_api_models:\n    openai_model:\n"
        "      entrypoint: app.py\n      openai_base_url: ${policy_base_url}\n"
        "      openai_api_key: ${policy_api_key}\n      openai_model: base\n"
        "mid_model:\n  _copy: base_model\n  responses_api_models:\n    openai_model:\n      openai_model: mid\n"
        "top_model:\n  _copy: mid_model\n  responses_api_models:\n    openai_model:\n"
        "      max_concurrent_requests: 4\n"
    )
    tree(tmp_path, {CONFIG: config})
    _, doc = show(tmp_path, CONFIG)
    assert body(doc, "config", "mid_model")["openai_model"] == "mid"
    mid = body(doc, "origins", "mid_model")
    assert mid["openai_model"] == f"{CONFIG}:12"
    assert mid["entrypoint"] == f"{CONFIG}:4 via _copy: base_model"
    top = body(doc, "origins", "top_model")
    assert top["max_concurrent_requests"] == f"{CONFIG}:17"
    # NeMo Gym copies from the config as written: top takes mid's own keys, and mid's
    # `_copy` comes along unapplied (NeMo Gym does not apply it a second time).
    assert top["openai_model"] == f"{CONFIG}:12 via _copy: mid_model"
    assert body(doc, "config", "top_model")["openai_model"] == "mid"


def test_a_key_from_two_includes_takes_the_later_and_names_it(tmp_path):
    first = "policy_model:\n  responses_api_models:\n    openai_model:\n      openai_model: first\n"
    second = "policy_model:\n  responses_api_models:\n    openai_model:\n\n      openai_model: second\n"
    top = "config_paths:\n  - configs/first.yaml\n  - configs/second.yaml\n" + MODEL.replace(
        "      openai_model: ${policy_model_name}\n", ""
    )
    tree(tmp_path, {"configs/first.yaml": first, "configs/second.yaml": second, "run.yaml": top})
    _, doc = show(tmp_path, "run.yaml")
    assert body(doc)["openai_model"] == "second"
    assert body(doc, "origins")["openai_model"] == "configs/second.yaml:5"
    assert body(doc, "origins")["entrypoint"] == "run.yaml:7"
    # config_paths as NeMo Gym records it: every file of the run, not the last list merged
    assert doc["config"]["config_paths"] == ["run.yaml", "configs/first.yaml", "configs/second.yaml"]
    assert doc["origins"]["config_paths"] == ["--config", "run.yaml:2", "run.yaml:3"]


def test_later_config_of_the_run_wins(tmp_path):
    override = "policy_model:\n  responses_api_models:\n    openai_model:\n      openai_model: override\n"
    tree(tmp_path, {CONFIG: MODEL, "override.yaml": override})
    _, doc = show(tmp_path, CONFIG, "override.yaml")
    assert body(doc)["openai_model"] == "override"
    assert body(doc, "origins")["openai_model"] == "override.yaml:4"


def test_env_yaml_alone_without_config(tmp_path):
    tree(tmp_path, {})
    shown, doc = show(tmp_path)
    assert doc["config"] == {
        "policy_base_url": "https://api.openai.com/v1",
        "policy_api_key": "****..." + KEY[-4:],
        "policy_model_name": "gpt-4o-mini",
    }
    assert doc["origins"]["policy_model_name"] == "env.yaml:3"


def test_dotted_path_prints_that_subtree(tmp_path, cli):
    tree(tmp_path, {CONFIG: MODEL})
    _, doc = show(tmp_path, CONFIG, select="policy_model.responses_api_models.openai_model")
    assert doc["path"] == "policy_model.responses_api_models.openai_model"
    assert doc["config"]["openai_model"] == "gpt-4o-mini"
    proc = cli("show", "--config", CONFIG, "policy_model.responses_api_models.openai_modle", cwd=tmp_path)
    assert proc.returncode == 2 and "no such key" in proc.stderr and "openai_model" in proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr


def test_a_config_file_given_as_the_dotted_path_is_a_usage_error(tmp_path, cli):
    tree(tmp_path, {CONFIG: MODEL})
    proc = cli("show", CONFIG, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"gym-scaffold show: {CONFIG} is a file, not a dotted path: give config files with --config {CONFIG}\n"
    assert cli("show", "--config", CONFIG, cwd=tmp_path).returncode == 0


# -- broken configs still print -----------------------------------------------------------


def test_broken_config_prints_what_it_can_and_lists_problems(tmp_path, cli):
    config = (
        "config_paths:\n  - configs/not_there.yaml\n"
        + MODEL.replace("${policy_model_name}", "${policy_model_nmae}")
        + "      max_concurrent_requests: ???\n"
        + "      timeout: ${oc.env:NOT_SET_ANYWHERE}\n"
    )
    tree(tmp_path, {CONFIG: config})
    proc = cli("show", "--config", CONFIG, "--show-origin", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert "openai_model: \"${policy_model_nmae} (unresolved: 'policy_model_nmae' is not defined" in out
    assert "max_concurrent_requests: \"??? (unfilled: set it in env.yaml or with " in out
    assert "+policy_model.responses_api_models.openai_model.max_concurrent_requests=...)" in out
    assert "(unresolved: $NOT_SET_ANYWHERE is not set)" in out
    assert "openai_base_url: https://api.openai.com/v1" in out  # the rest is resolved
    assert '- "configs/not_there.yaml (not included: see the problems below)"' in out
    # The problems, after the config, with validate's rule ids; the output stays YAML.
    config_part, _, problems = out.partition("\n\n")
    assert "[config-include]" in problems and "[unresolved-interpolation]" in problems
    assert all(line.startswith("# ") for line in problems.splitlines())
    assert yaml.safe_load(out)["policy_model"]["responses_api_models"]["openai_model"]["entrypoint"] == "app.py"
    proc = cli("show", "--config", CONFIG, "--format", "json", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1
    assert {p["rule"] for p in doc["problems"]} >= {"config-include", "unresolved-interpolation"}
    validate = cli("validate", "--config", CONFIG, "--format", "json", "--no-cache", cwd=tmp_path)
    rules_of_validate = {p["rule"] for p in json.loads(validate.stdout)["problems"] if p["severity"] != "note"}
    assert {p["rule"] for p in doc["problems"]} == rules_of_validate - {"env-gitignore"}


def test_unparsable_and_missing_files_do_not_crash(tmp_path, cli):
    tree(tmp_path, {"bad.yaml": "policy_model: [unclosed\n"})
    for args in (["--config", "bad.yaml"], ["--config", "nowhere.yaml"], ["--env-file", "nowhere.yaml"]):
        proc = cli("show", *args, cwd=tmp_path)
        assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr, (args, proc.stderr)
    proc = cli("show", "--config", "bad.yaml", cwd=tmp_path)
    assert proc.returncode == 1 and "bad.yaml:" in proc.stdout and ": error: " in proc.stdout, proc.stdout


def test_clean_run_exits_zero_and_yaml_reads_back_as_the_json(tmp_path, cli):
    tree(tmp_path, {CONFIG: MODEL})
    proc = cli("show", "--config", CONFIG, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    as_json = json.loads(cli("show", "--config", CONFIG, "--format", "json", cwd=tmp_path).stdout)["config"]
    assert yaml.safe_load(proc.stdout) == as_json
    with_origin = cli("show", "--config", CONFIG, "--show-origin", cwd=tmp_path).stdout
    assert yaml.safe_load(with_origin) == as_json  # origins are comments
    lines = [line for line in with_origin.splitlines() if "  # " in line]
    assert len({line.index("  # ") for line in lines}) == 1  # aligned


# -- masking ----------------------------------------------------------------------------


def test_masking_covers_key_fields_and_key_shaped_values(tmp_path):
    config = MODEL.replace("${policy_api_key}", KEY) + (
        "      hf_token: hf_abcdefghijklmnopqrstuvwxyz123456\n"
        "      max_tokens: 4096\n"
        "      extra_headers:\n        X-Trace: " + KEY[::-1] + "\n"
        "      note: ${oc.env:NOT_SET,fallback}\n"
    )
    tree(tmp_path, {CONFIG: config})
    shown, doc = show(tmp_path, CONFIG)
    values = body(doc)
    assert values["openai_api_key"] == mask(KEY) == "****..." + KEY[-4:]
    assert values["hf_token"] == "****...3456"
    assert values["max_tokens"] == 4096
    assert values["extra_headers"]["X-Trace"] == "****..." + KEY[::-1][-4:]  # shaped like a key
    for text in (render_yaml(shown, show_origin=True), render_json(shown, show_origin=True)):
        assert KEY not in text and KEY[10:18] not in text and KEY[::-1][:12] not in text
    assert mask("EMPTY") == "****" and mask("") == "****"
    assert body(doc, "origins")["note"] == (
        f"{CONFIG}:12 (the default of ${{oc.env:NOT_SET,...}}: $NOT_SET is not set)"
    )
    assert values["note"] == "fallback"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("api_key", True), ("openai_api_key", True), ("apiKey", True), ("x-api-key", True),
        ("hf_token", True), ("token", True), ("client_secret", True), ("password", True),
        ("Authorization", True), ("aws_secret_access_key", True), ("max_tokens", False),
        ("answer_key", False), ("key_field", False), ("tokenizer", False), ("num_tokens", False),
    ],
)
def test_secret_field_names(name, secret):
    from gym_scaffold.show import is_secret_name

    assert is_secret_name(name) is secret


# -- doctor names the same origins ------------------------------------------------------------


def test_doctor_describes_origins_through_the_same_chain(tmp_path):
    config = MODEL.replace("${policy_model_name}", "${oc.env:MODEL_NAME}")
    tree(tmp_path, {CONFIG: config})
    env = load_env_file(tmp_path / "env.yaml", "env.yaml")
    composed = compose([tmp_path / CONFIG], roots=[tmp_path], env=env, display=lambda p: p.relative_to(tmp_path).as_posix())
    path = ("policy_model", "responses_api_models", "openai_model")
    assert describe(composed, path + ("openai_api_key",)) == (
        f"policy_api_key in env.yaml:2 (read by {'.'.join(path)}.openai_api_key in {CONFIG}:6)"
    )
    assert describe(composed, path + ("openai_model",)) == (
        f"environment variable MODEL_NAME (read by {'.'.join(path)}.openai_model in {CONFIG}:7)"
    )
    assert describe(composed, path + ("entrypoint",)) == f"{'.'.join(path)}.entrypoint in {CONFIG}:4"


def test_defaults_come_from_the_entrypoint_the_server_runs(tmp_path):
    streaming = APP.replace("max_concurrent_requests: int = 32", "max_concurrent_requests: int = 4")
    tree(tmp_path, {CONFIG: MODEL.replace("entrypoint: app.py", "entrypoint: streaming_app.py"),
                    "responses_api_models/openai_model/streaming_app.py": streaming})
    _, doc = show(tmp_path, CONFIG)
    assert body(doc)["max_concurrent_requests"] == 4
    assert body(doc, "origins")["max_concurrent_requests"] == (
        "default of OpenAIModelServerConfig.max_concurrent_requests (responses_api_models/openai_model/streaming_app.py:9)"
    )


def test_no_defaults_prints_only_what_the_files_set(tmp_path, cli):
    tree(tmp_path, {CONFIG: MODEL})
    args = ("show", "--config", CONFIG, "--format", "json", "policy_model.responses_api_models.openai_model")
    with_defaults = json.loads(cli(*args, cwd=tmp_path).stdout)["config"]
    without = json.loads(cli(*args, "--no-defaults", cwd=tmp_path).stdout)["config"]
    assert set(with_defaults) - set(without) == {"max_concurrent_requests", "timeout"}
    leaf = cli("show", "--config", CONFIG, "--show-origin", "policy_model.responses_api_models.openai_model.openai_model",
               cwd=tmp_path)
    assert leaf.stdout == "gpt-4o-mini  # env.yaml:3 via ${policy_model_name}\n"


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_cli_help_and_formats(tmp_path, cli, fmt):
    tree(tmp_path, {CONFIG: MODEL})
    proc = cli("show", "--config", CONFIG, "--format", fmt, cwd=tmp_path)
    assert proc.returncode == 0 and "gpt-4o-mini" in proc.stdout
    assert "show" in cli("--help", cwd=tmp_path).stdout


def test_doctor_names_env_yaml_values_through_the_same_chain(tmp_path):
    from gym_scaffold.doctor.targets import Overrides, from_env_yaml

    (tmp_path / "env.yaml").write_text(
        "policy_base_url: https://api.openai.com/v1\npolicy_api_key: ${oc.env:MY_KEY}\npolicy_model_name: m\n"
    )
    found = from_env_yaml(tmp_path / "env.yaml", tmp_path, Overrides(), {"MY_KEY": KEY})
    where = found.targets[0].where
    assert where.key == "environment variable MY_KEY (read by policy_api_key in env.yaml:2)"
    assert where.base_url == "policy_base_url in env.yaml:1"


def test_dummy_model_merged_as_nemo_gym_does_and_validate_agrees(tmp_path, cli):
    config = (
        "policy_model:\n  responses_api_models:\n    dummy_model:\n      entrypoint: app.py\n"
        "      openai_base_url: ${policy_base_url}\n      openai_api_key: ${policy_api_key}\n"
        "      openai_model: from_dummy\n"
        "    openai_model:\n      openai_model: ${policy_model_name}\n"
    )
    tree(tmp_path, {CONFIG: config})
    shown, doc = show(tmp_path, CONFIG)
    assert list(doc["config"]["policy_model"]["responses_api_models"]) == ["openai_model"]
    assert body(doc)["openai_model"] == "gpt-4o-mini" and body(doc)["entrypoint"] == "app.py"
    assert body(doc, "origins")["entrypoint"] == f"{CONFIG}:4"
    assert doc["problems"] == []
    proc = cli("validate", CONFIG, "--no-cache", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
