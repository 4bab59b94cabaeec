"""Property-based fuzzing of the loader, the interpolation resolver and the validator.

Generated YAML (raw bytes, arbitrary text, and text assembled from YAML's own tokens:
anchors, aliases, tags, merge keys, flow brackets, tabs, document markers) and generated
NeMo Gym configs (server types, implementations, fields, values of every type, references
among keys, cycles, resolvers). Properties: nothing raises; every problem carries a known
rule id and a position inside the text; a constructed reference cycle is reported.

Profiles (tests/hypothesis_profiles.py): "ci" under CI=true, "local" otherwise,
HYPOTHESIS_PROFILE=fuzz for a long hunt. A crash found here becomes a case in tests/hostile/.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_profiles import PROFILE

from gym_scaffold.config.loader import load_file, load_text
from gym_scaffold.config.model import SERVER_TYPES
from gym_scaffold.config.view import view_from_text
from gym_scaffold.problem import Problem
from gym_scaffold.rules import all_rules

RULE_IDS = frozenset(rule.id for rule in all_rules())
CONFIG_RULES = tuple(rule for rule in all_rules() if rule.checks_configs)


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    """Schemas and rule modules load once here, not inside the first timed example."""
    run_pipeline("policy_model:\n  responses_api_models:\n    openai_model:\n      entrypoint: app.py\n")


def check_problem(problem: Problem, text: str | None = None) -> None:
    assert problem.rule in RULE_IDS, f"unknown rule id {problem.rule!r}"
    assert isinstance(problem.line, int) and isinstance(problem.column, int)
    assert problem.line >= 0 and problem.column >= 0
    assert problem.message and "\n" not in problem.message, problem.message[:200]
    if text is not None and problem.path == "config.yaml":
        # YAML breaks lines at \r\n, \r, \n, NEL and the Unicode separators; the reader may
        # point one line past the last, at the end of the stream.
        lines = len(re.split("\r\n|[\r\n\x85\u2028\u2029]", text))
        assert problem.line <= lines + 1, (problem, lines)


def _plain(value: object) -> None:
    """Loaded data is plain: dict, list, str, int, float, bool, None."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, (str, int, float, bool)) or key is None
            _plain(item)
    elif isinstance(value, list):
        for item in value:
            _plain(item)
    else:
        assert value is None or isinstance(value, (str, int, float, bool)), type(value)


def run_pipeline(text: str, env_text: str | None = None) -> list[Problem]:
    """load -> compose -> resolve -> every config rule, as validate runs them on one file."""
    view = view_from_text(text, env_text=env_text, environ={"SET_VAR": "value"})
    problems = [*view.composed.problems, *view.resolved.problems]
    for document in view.composed.documents:
        problems += document.problems
    for rule in CONFIG_RULES:
        problems += [p for p in rule.module.check(view) if p is not None]
    return problems


# -- generated YAML -------------------------------------------------------------------

_TOKENS = st.sampled_from(
    [
        "a", "b", "key", "policy_model", "responses_api_models", "openai_model", "entrypoint",
        ": ", ":", "- ", "-", "\n", "\n  ", "\n    ", "\t", " ", "[", "]", "{", "}", ",", "&x ", "*x",
        "&y ", "*y", "<<: ", "!!python/object/apply:os.system ", "!foo ", "!!str ", "!!int ", "? ",
        "---\n", "...\n", "#", "'", '"', "|\n  ", ">\n  ", "${a}", "${b.c}", "${oc.env:SET_VAR}",
        "${", "}", "0x1f", "1e999", "9" * 50, ".nan", "yes", "~", "\ufeff", "\\", "%YAML 1.1\n",
    ]
)  # fmt: skip
yaml_like = st.lists(_TOKENS, max_size=60).map("".join)


@settings(PROFILE)
@given(yaml_like)
def test_loader_on_yaml_tokens(text: str) -> None:
    doc = load_text(text, "config.yaml")
    for problem in doc.problems:
        check_problem(problem, text)
    _plain(doc.data)


@settings(PROFILE)
@given(st.text(max_size=400))
def test_loader_on_any_text(text: str) -> None:
    doc = load_text(text, "config.yaml")
    for problem in doc.problems:
        check_problem(problem, text)
    _plain(doc.data)


@settings(PROFILE)
@given(st.binary(max_size=400))
def test_loader_on_any_bytes(tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("bytes") / "config.yaml"
    path.write_bytes(raw)
    doc = load_file(path, "config.yaml")
    for problem in doc.problems:
        check_problem(problem)
    _plain(doc.data)


# -- generated configs ----------------------------------------------------------------

_NAMES = ["a", "b", "c", "policy_api_key", "policy_base_url", "policy_model_name"]
_ref = st.sampled_from(_NAMES + ["policy_model", "a.b", ".a", "..a", "zz", ""])
_scalar = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=20),
    st.sampled_from(["???", "??", "EMPTY", "https://api.openai.com/v1", "http://localhost:8000/v1/chat/completions",
                     "sk-proj-abcdefghijklmnop1234567890", "gpt-4o-mini", "app.py"]),
    _ref.map(lambda r: "${" + r + "}"),
    _ref.map(lambda r: "x${" + r + "}y"),
    st.sampled_from(["${oc.env:SET_VAR}", "${oc.env:NOPE}", "${oc.env:NOPE,dflt}", "${oc.select:a,7}",
                     "${oc.decode:'1'}", "${oc.create:{a: 1}}", "${unknown_resolver:a}", "${", "${a", "$}", "${}"]),
)  # fmt: skip
_fields = st.sampled_from(
    ["entrypoint", "openai_base_url", "openai_api_key", "openai_model", "base_url", "api_key", "model",
     "max_concurrent_requests", "host", "port", "domain", "extra", "_inherit_from", "config_paths"]
)  # fmt: skip
_impl = st.sampled_from(["openai_model", "vllm_model", "azure_openai_model", "inference_provider", "x_model", "simple_agent"])
_block = st.dictionaries(
    _fields, st.one_of(_scalar, st.lists(_scalar, max_size=3), st.dictionaries(st.sampled_from(_NAMES), _scalar, max_size=2)),
    max_size=6,
)
_server = st.builds(lambda kind, impl, block: {kind: {impl: block}}, st.sampled_from(SERVER_TYPES), _impl, _block)
_config = st.dictionaries(
    st.sampled_from(["policy_model", "judge", "agent", *_NAMES]),
    st.one_of(_server, _scalar),
    min_size=1,
    max_size=4,
)
_env = st.one_of(st.none(), st.dictionaries(st.sampled_from(_NAMES), _scalar, max_size=3))


def _yaml(data: object) -> str:
    # JSON is YAML; a float NaN/inf is written the YAML way.
    text = json.dumps(data, allow_nan=True)
    return text.replace("NaN", ".nan").replace("-Infinity", "-.inf").replace("Infinity", ".inf") + "\n"


@settings(PROFILE)
@given(_config, _env)
def test_validator_on_generated_configs(data: dict, env: dict | None) -> None:
    text = _yaml(data)
    for problem in run_pipeline(text, None if env is None else _yaml(env)):
        check_problem(problem)


@settings(PROFILE)
@given(st.lists(st.sampled_from(_NAMES[:3]), min_size=1, max_size=3), st.booleans())
def test_resolver_reports_every_constructed_cycle(chain: list[str], relative: bool) -> None:
    """k0 -> k1 -> ... -> k0: a reference cycle is an `interpolation` problem, never a crash."""
    keys = [f"{name}{i}" for i, name in enumerate(chain)]
    if relative:
        inner = {k: "${." + keys[(i + 1) % len(keys)] + "}" for i, k in enumerate(keys)}
        data = {"policy_model": {"responses_api_models": {"openai_model": {"entrypoint": "app.py", **inner}}}}
    else:
        data = {k: "${" + keys[(i + 1) % len(keys)] + "}" for i, k in enumerate(keys)}
    problems = run_pipeline(_yaml(data))
    for problem in problems:
        check_problem(problem)
    assert any(p.rule == "interpolation" and "cycle" in p.message for p in problems), problems


@settings(PROFILE)
@given(st.text(alphabet="${}:.,'\"\\ab ", max_size=40))
def test_resolver_on_interpolation_syntax(value: str) -> None:
    """Any text inside a value: the interpolation grammar fails with a problem, not an exception."""
    data = {"a": value, "b": "${a}", "policy_model": {"responses_api_models": {"openai_model": {"extra": value}}}}
    for problem in run_pipeline(_yaml(data)):
        check_problem(problem)


def test_profiles_follow_the_environment() -> None:
    from hypothesis_profiles import profile_name

    assert profile_name({"CI": "true"}) == "ci"
    assert profile_name({"CI": "true", "HYPOTHESIS_PROFILE": "fuzz"}) == "fuzz"
    assert profile_name({}) == "local"
    assert settings.get_profile("ci").max_examples <= 200
    assert settings.get_profile("fuzz").max_examples > settings.get_profile("local").max_examples
