"""The schema rules on real text: where they point, what they say, and the real corpus."""

from __future__ import annotations

import pytest
from corpus_support import CORPUS, needs_corpus

from gym_scaffold import schemas
from gym_scaffold.config.compose import compose
from gym_scaffold.config.loader import load_file
from gym_scaffold.config.model import ConfigView
from gym_scaffold.config.resolve import resolve
from gym_scaffold.config.view import view_from_text
from gym_scaffold.problem import Severity
from gym_scaffold.rules import invalid_value, missing_key, server_shape, unknown_key

RULES = (server_shape, unknown_key, missing_key, invalid_value)


def problems(text: str, path: str = "config.yaml", *, run_mode: bool = False, **kwargs):
    view = view_from_text(text, path, **kwargs)
    view.run_mode = run_mode
    return sorted((p for rule in RULES for p in rule.check(view)), key=lambda p: p.sort_key)


def test_misspelled_server_type_at_its_key_with_did_you_mean():
    text = "policy_model:\n  responses_api_model:\n    openai_model:\n      entrypoint: app.py\n"
    (found,) = problems(text)
    assert (found.rule, found.line, found.column) == ("server-shape", 2, 3)
    assert found.message == "unknown server type 'responses_api_model'"
    assert found.hint == "did you mean 'responses_api_models'?"


def test_two_server_types_and_two_implementations():
    text = """\
both:
  responses_api_models:
    openai_model: {entrypoint: app.py, openai_base_url: u, openai_api_key: k, openai_model: m}
  responses_api_agents:
    simple_agent: {entrypoint: app.py}
pair:
  responses_api_agents:
    simple_agent: {entrypoint: app.py}
    other_agent: {entrypoint: app.py}
"""
    found = [(p.rule, p.line, p.column) for p in problems(text)]
    assert found == [("server-shape", 1, 1), ("server-shape", 7, 3)]
    messages = [p.message for p in problems(text)]
    assert (
        "2 server types" in messages[0]
        and "2 implementations (simple_agent, other_agent)" in messages[1]
    )


def test_implementation_without_server_type():
    text = "policy_model:\n  openai_model:\n    entrypoint: app.py\n"
    (found,) = problems(text)
    assert (found.rule, found.line) == ("server-shape", 1)
    assert "no server type" in found.message


def test_unknown_key_at_the_key_with_did_you_mean():
    text = """\
policy_model:
  responses_api_models:
    openai_model:
      entrypoint: app.py
      openai_base_ur: ${policy_base_url}
      openai_base_url: ${policy_base_url}
      openai_api_key: ${policy_api_key}
      openai_model: ${policy_model_name}
      max_concurent_requests: 4
      totally_new_thing: 1
"""
    found = problems(text)
    assert [(p.rule, p.line, p.column) for p in found] == [
        ("unknown-key", 5, 7),
        ("unknown-key", 9, 7),
        ("unknown-key", 10, 7),
    ]
    assert found[0].message == "unknown key 'openai_base_ur' in implementation 'openai_model'"
    assert found[0].hint == "did you mean 'openai_base_url'?"
    assert found[1].hint == "did you mean 'max_concurrent_requests'?"
    assert found[2].hint.startswith("known keys: ")


def test_missing_key_at_the_mapping_that_lacks_it():
    text = """\
policy_model:
  responses_api_models:
    openai_model:
      openai_base_url: ${policy_base_url}
      openai_api_key: ${policy_api_key}
      openai_model: ${policy_model_name}
"""
    (found,) = problems(text)
    assert (found.rule, found.line, found.column, found.severity) == (
        "missing-key",
        3,
        5,
        Severity.ERROR,
    )
    assert found.message == 'missing required key "entrypoint"'


def test_a_declared_server_missing_an_implementation_key_is_a_warning_in_one_file_and_an_error_in_a_run():
    text = "judge:\n  responses_api_models:\n    vllm_model:\n      entrypoint: app.py\n      model: m\n"
    alone = problems(text)
    assert {(p.rule, p.severity) for p in alone} == {("missing-key", Severity.WARNING)}
    assert {p.message for p in alone} == {
        f'missing required key "{key}", unless the run supplies it'  # why it is a warning
        for key in ("base_url", "api_key", "return_token_id_information", "uses_reasoning_parser")
    }
    assert "???" in alone[0].hint
    run = problems(text, run_mode=True)
    assert {p.severity for p in run} == {Severity.ERROR}
    assert all(p.message.endswith('"') for p in run)  # an error says no "unless"


def test_overlays_and_partial_blocks_are_not_held_to_required():
    overlay = (
        "osworld_simple_agent:\n  responses_api_agents:\n    osworld_agent:\n      max_steps: 100\n"
    )
    assert problems(overlay) == []
    inherit = "a:\n  _inherit_from: b\n  resources_servers:\n    math_with_judge:\n      should_use_judge: false\n"
    assert problems(inherit) == []
    # an include that cannot be found: the block may override what it would have supplied
    include = "config_paths: [nowhere/x.yaml]\ngpt:\n  responses_api_models:\n    openai_model:\n      openai_api_key: k\n"
    assert problems(include) == []


def test_a_server_that_forgot_its_entrypoint_is_still_caught():
    text = (
        "policy_model:\n  responses_api_models:\n    openai_model:\n"
        "      openai_base_url: u\n      openai_api_key: k\n      openai_model: m\n"
    )
    assert [(p.rule, p.message) for p in problems(text)] == [
        ("missing-key", 'missing required key "entrypoint"')
    ]


def test_invalid_value_at_the_value():
    text = """\
policy_model:
  responses_api_models:
    openai_model:
      entrypoint: app.py
      openai_base_url: ${policy_base_url}
      openai_api_key: ${policy_api_key}
      openai_model: ${policy_model_name}
      port: abc
"""
    (found,) = problems(text)
    assert (found.rule, found.line, found.column) == ("invalid-value", 8, 13)
    assert found.message == 'port must be an integer between 1 and 65535, got "abc"'


def test_enum_did_you_mean():
    text = "m:\n  resources_servers:\n    math_with_judge:\n      entrypoint: app.py\n      domain: maths\n"
    (found,) = problems(text)
    assert found.hint == "did you mean 'math'?"
    assert "maths" in found.message


def test_license_did_you_mean_names_the_accepted_spelling():
    text = (
        "a:\n  responses_api_agents:\n    simple_agent:\n      entrypoint: app.py\n      datasets:\n"
        "      - {name: d, type: train, jsonl_fpath: d.jsonl, license: CC-BY-SA-4.0}\n"
    )
    (found,) = problems(text)
    assert found.rule == "invalid-value" and found.hint == "did you mean 'CC BY-SA 4.0'?"


def test_secrets_never_appear_in_messages():
    text = (
        "policy_model:\n  responses_api_models:\n    openai_model:\n      entrypoint: app.py\n"
        + (
            "      openai_base_url: u\n      openai_api_key: k\n      openai_model: m\n"
            "      openai_default_headers: {Authorization: 5}\n"
        )
    )
    assert problems(text)  # a header value must be a string
    key = "sk-proj-" + "A1b2C3d4" * 5
    env = f"policy_api_key: [{key}]\nhead_server: {{port: {key}}}\ndry_run: {key}\n"
    found = problems(env, "env.yaml")
    assert len(found) == 3
    messages = " ".join(f"{p.message} {p.hint}" for p in found)
    assert key not in messages and key[:12] not in messages
    assert key[-4:] in messages  # at most the last four characters


def test_env_yaml_problems_point_into_env_yaml():
    found = problems("policy_base_url: 8080\n", "env.yaml")
    assert [(p.path, p.line, p.column, p.rule) for p in found] == [
        ("env.yaml", 1, 18, "invalid-value")
    ]


def test_config_view_problems_are_not_reported_for_env_yaml_values():
    # env.yaml supplies the bad value; the config view reports only its own file
    text = "policy_model:\n  _copy: x\n"
    assert problems(text, env_text="policy_api_key: 5\n") == []


def test_schema_pass_runs_once_per_view():
    view = view_from_text("p:\n  responses_api_models:\n    openai_model: {entrypoint: 1}\n")
    first = schemas.schema_errors(view)
    assert schemas.schema_errors(view) is first
    for rule in RULES:
        list(rule.check(view))
    assert schemas.schema_errors(view) is first


def test_no_traceback_on_odd_data():
    for text in (
        "- a\n- b\n",
        "42\n",
        "",
        "a: {b: {c: {d: [1, {e: f}]}}}\n",
        "? [a]\n: b\n",
        "1: {2: 3}\n",
    ):
        problems(text)


# -- the real corpus ---------------------------------------------------------------------

KNOWN_BUGS = {
    # resources_servers/spartqa: license `CC-BY-SA-4.0` is not accepted (corpus README)
    ("resources_servers/spartqa/configs/spartqa.yaml", "invalid-value"),
}


@needs_corpus
def test_the_real_corpus_has_no_errors_but_its_known_bugs():
    from gym_scaffold.validate import looks_like_config

    cache: dict = {}
    errors, warnings, checked = [], [], 0
    for path in sorted(CORPUS.rglob("*.yaml")):
        shown = path.relative_to(CORPUS).as_posix()
        document = cache.setdefault(path, load_file(path, shown))
        if not looks_like_config(document.data):
            continue
        checked += 1
        composed = compose(
            [path],
            roots=[CORPUS],
            env=None,
            display=lambda p: p.relative_to(CORPUS).as_posix(),
            cache=cache,
        )
        view = ConfigView(composed, resolve(composed, {}), frozenset({shown}))
        for rule in RULES:
            for problem in rule.check(view):
                (errors if problem.severity == Severity.ERROR else warnings).append(problem)
    assert checked > 250
    unexpected = [p for p in errors if (p.path, p.rule) not in KNOWN_BUGS]
    assert unexpected == [], "\n".join(f"{p.path}:{p.line}: {p.message}" for p in unexpected)
    assert {(p.path, p.rule) for p in errors} == KNOWN_BUGS
    # Files composed with others at run time: a declared server lacking its endpoint keys.
    assert {(p.path, p.rule) for p in warnings} <= {
        ("benchmarks/aalcr/config.yaml", "missing-key"),
        ("benchmarks/browsecomp/config.yaml", "missing-key"),
    }


def test_a_block_without_entrypoint_in_a_file_with_includes_is_an_overlay(tmp_path):
    # The include exists but does not declare the instance (in a real checkout a deeper
    # include or the run does): not an error in a single-file check.
    (tmp_path / "base.yaml").write_text("other: 1\n")
    text = (
        "config_paths: [base.yaml]\ngenrm_model:\n  responses_api_models:\n    openai_model:\n"
        "      openai_base_url: u\n      openai_api_key: k\n      openai_model: m\n"
    )
    assert problems(text, roots=[tmp_path]) == []
    assert [p.rule for p in problems(text, roots=[tmp_path], run_mode=True)] == ["missing-key"]


MODEL_HEAD = (
    "policy_model:\n  responses_api_models:\n    openai_model:\n      entrypoint: app.py\n"
    "      openai_base_url: https://api.openai.com/v1\n      openai_api_key: ${policy_api_key}\n"
    "      openai_model: gpt-4o-mini\n"
)


def test_shorten_cuts_long_text_and_writes_huge_integers_in_hex():
    from gym_scaffold.problem import QUOTE_LIMIT, shorten

    assert shorten("https://api.openai.com/v1") == "https://api.openai.com/v1"
    cut = shorten("x" * 100_000)
    assert len(cut) == QUOTE_LIMIT and cut.endswith("...")
    assert shorten(8080) == "8080"
    huge = int("f" * 20_000, 16)  # str() refuses it: more than 4,300 decimal digits
    assert shorten(huge) == "0x" + "f" * (QUOTE_LIMIT - 5) + "..."
    assert shorten(-huge).startswith("-0xfff")
    assert shorten(10**1000).startswith("1000") and len(shorten(10**1000)) == QUOTE_LIMIT


@pytest.mark.parametrize("field", ["max_concurrent_requests", "port"])
def test_a_huge_hex_integer_is_shown_as_itself_not_as_null(field):
    # jsonschema_rs hands an integer beyond a float's range back as null; the message
    # shows the value as loaded (in hex, shortened).
    (found,) = problems(MODEL_HEAD + f"      {field}: 0x{'f' * 20_000}\n")
    assert found.rule == "invalid-value"
    assert "got null" not in found.message
    assert found.message.endswith(", got 0x" + "f" * 55 + "...")
    assert len(found.message) < 200


def test_long_values_and_keys_are_shortened_in_schema_messages():
    (wrong_type,) = problems(MODEL_HEAD + f"      port: {'q' * 100_000}\n")
    assert wrong_type.rule == "invalid-value"
    assert wrong_type.message.endswith('got "' + "q" * 37 + '..."')
    long_key = "k" * 1000  # YAML's longest plain key is 1,024 characters
    (unknown,) = problems(MODEL_HEAD + f"      {long_key}: 1\n")
    assert unknown.rule == "unknown-key"
    assert unknown.message == f"unknown key '{'k' * 57}...' in implementation 'openai_model'"
    instance, implementation = "i" * 1000, "m" * 1000
    text = MODEL_HEAD.replace("policy_model:", f"{instance}:").replace("openai_model:\n", f"{implementation}:\n")
    text += "  resources_servers:\n    x: {}\n"
    found = problems(text + f"{instance}x:\n  responses_api_model:\n    {implementation}: {{entrypoint: app.py}}\n")
    assert {p.rule for p in found} >= {"server-shape"}
    for problem in found:
        assert len(problem.message) < 300 and "i" * 100 not in problem.message, problem
        assert "m" * 100 not in problem.message, problem
