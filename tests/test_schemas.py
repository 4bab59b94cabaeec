"""The JSON Schemas in schemas/: well-formed, found by path, and true to real NeMo Gym configs.

The package validates with jsonschema_rs; these tests also run the reference Python
`jsonschema` engine over the same files, so the schemas mean the same thing to both (and
to any editor or check-jsonschema a user points at them).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import pytest
from corpus_support import CORPUS, needs_corpus
from hypothesis import example, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from gym_scaffold import schemas
from gym_scaffold.config.loader import load_file
from gym_scaffold.config.model import SERVER_TYPES, iter_servers
from gym_scaffold.config.view import view_from_text

REPO = Path(__file__).resolve().parent.parent
SCHEMA_DIR = REPO / "schemas"
MODEL_IMPLEMENTATIONS = (
    "openai_model",
    "litellm_model",
    "azure_openai_model",
    "vllm_model",
    "inference_provider",
)
SCHEMA_FILES = sorted(SCHEMA_DIR.rglob("*.schema.json"))


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def registry() -> Registry:
    resources = [(doc["$id"], Resource.from_contents(doc)) for doc in map(_load, SCHEMA_FILES)]
    return Registry().with_resources(resources)


def reference_validator(relative: str, registry: Registry) -> Draft202012Validator:
    return Draft202012Validator(_load(SCHEMA_DIR / relative), registry=registry)


def errors(text: str, path: str = "config.yaml", **kwargs) -> list[schemas.SchemaError]:
    view = view_from_text(text, path, **kwargs)
    documents = view.composed.documents or [view.env.document]
    assert not [p for doc in documents for p in doc.problems], (
        "the example itself must be valid YAML"
    )
    return schemas.schema_errors(view)


# -- the files themselves -------------------------------------------------------------


def test_schema_dir_is_the_repository_schemas_in_a_checkout():
    assert schemas.schema_dir().resolve() == SCHEMA_DIR.resolve()


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.relative_to(SCHEMA_DIR).as_posix())
def test_every_schema_passes_the_metaschema_and_is_documented(path):
    document = _load(path)
    Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"] == schemas.BASE_URI + path.relative_to(SCHEMA_DIR).as_posix()
    assert document["title"].strip()
    assert len(document["description"]) > 40


def test_ids_are_unique():
    ids = [_load(path)["$id"] for path in SCHEMA_FILES]
    assert len(ids) == len(set(ids))


def test_implementation_schemas_are_found_by_their_path():
    found = schemas.implementations()
    for implementation in MODEL_IMPLEMENTATIONS:
        assert ("responses_api_models", implementation) in found
        relative = schemas.implementation_schema_path("responses_api_models", implementation)
        assert (SCHEMA_DIR / relative).is_file()
    assert schemas.implementation_schema_path("responses_api_models", "no_such_model") is None
    assert schemas.implementation_schema_path("resources_servers", "openai_model") is None
    # A name that is a path cannot reach another file.
    assert schemas.implementation_schema_path("responses_api_models", "../config-file") is None


def test_every_implementation_schema_rejects_unknown_keys_and_extends_the_common_fields():
    for server_type, implementation in schemas.implementations():
        relative = f"{server_type}/{implementation}.schema.json"
        document = schemas.schema(relative)
        assert document["unevaluatedProperties"] is False
        names = schemas.property_names(relative)
        assert {"entrypoint", "host", "port", "num_workers", "datasets"} <= names


def test_validators_are_built_once():
    assert schemas.validator(schemas.CONFIG_FILE) is schemas.validator(schemas.CONFIG_FILE)


# -- the reference engine agrees on the real corpus --------------------------------------


def _deferred(value) -> bool:
    return isinstance(value, str) and ("${" in value or value == "???")


def _corpus_bodies(implementation: str):
    for path in sorted(CORPUS.rglob("*.yaml")):
        document = load_file(path, path.relative_to(CORPUS).as_posix())
        for server in iter_servers(document.data):
            if (
                server.server_type == "responses_api_models"
                and server.implementation == implementation
            ):
                yield document.path, server.body


@needs_corpus
@pytest.mark.parametrize("implementation", MODEL_IMPLEMENTATIONS)
def test_real_configs_of_each_implementation_pass_its_schema(implementation, registry):
    relative = f"responses_api_models/{implementation}.schema.json"
    check = reference_validator(relative, registry)
    known = schemas.property_names(relative)
    seen = 0
    for where, body in _corpus_bodies(implementation):
        seen += 1
        for error in check.iter_errors(body):
            if error.validator == "required":
                continue  # partial blocks (overrides of included files): judged on the composed view
            if _deferred(error.instance):
                continue
            if error.validator == "unevaluatedProperties" and set(body) <= known:
                continue  # a failing `required` drops the common fields' annotations
            pytest.fail(f"{where}: {list(error.absolute_path)}: {error.message}")
    if implementation != "azure_openai_model":  # the sample has no azure config
        assert seen > 0


@needs_corpus
def test_every_real_config_file_has_the_file_shape(registry):
    check = reference_validator("config-file.schema.json", registry)
    for path in sorted(CORPUS.rglob("*.yaml")):
        data = load_file(path, str(path)).data
        if not isinstance(data, dict):
            continue
        for error in check.iter_errors(data):
            if error.validator == "required" or _deferred(error.instance):
                continue
            if error.instance == "CC-BY-SA-4.0":
                continue  # resources_servers/spartqa: a real bug (corpus README)
            pytest.fail(f"{path.relative_to(CORPUS)}: {list(error.absolute_path)}: {error.message}")


def test_both_engines_agree_on_a_bad_config(registry):
    data = {
        "policy_model": {
            "responses_api_models": {
                "openai_model": {
                    "entrypoint": "app.py",
                    "openai_base_url": 1,
                    "openai_api_key": "k",
                    "openai_model": "m",
                }
            }
        }
    }
    body = data["policy_model"]["responses_api_models"]["openai_model"]
    relative = "responses_api_models/openai_model.schema.json"
    assert not reference_validator(relative, registry).is_valid(body)
    assert not schemas.validator(relative).is_valid(body)
    body["openai_base_url"] = "https://api.openai.com/v1"
    assert reference_validator(relative, registry).is_valid(body)
    assert schemas.validator(relative).is_valid(body)


# -- what each implementation accepts and rejects -----------------------------------------

OPENAI = """\
policy_model:
  responses_api_models:
    openai_model:
      entrypoint: app.py
      openai_base_url: ${policy_base_url}
      openai_api_key: ${policy_api_key}
      openai_model: ${policy_model_name}
"""


def _model(implementation: str, fields: str) -> str:
    lines = "".join(f"      {line}\n" for line in fields.strip().splitlines())
    return f"policy_model:\n  responses_api_models:\n    {implementation}:\n      entrypoint: app.py\n{lines}"


GOOD = {
    "openai_model": """
openai_base_url: https://api.openai.com/v1
openai_api_key: ${policy_api_key}
openai_model: gpt-4.1
extra_body: {reasoning: {effort: low}}
openai_default_headers: {X-Team: gym}
max_concurrent_requests: 16
drop_input_reasoning_items: true
""",
    "litellm_model": """
openai_base_url: http://localhost:4000/v1
openai_api_key: ${policy_api_key}
openai_model: claude
max_concurrent_requests: null
""",
    "azure_openai_model": """
openai_base_url: https://example.openai.azure.com
openai_api_key: ${policy_api_key}
openai_model: my-deployment
default_query: {api-version: 2025-03-01-preview}
num_concurrent_requests: 8
""",
    "vllm_model": """
base_url: ["http://a:8000/v1", "http://b:8000/v1"]
api_key: EMPTY
model: Qwen/Qwen3-8B
return_token_id_information: false
uses_reasoning_parser: true
chat_template_kwargs: null
default_headers: {}
tokenizer: null
""",
    "inference_provider": """
base_url: https://integrate.api.nvidia.com/v1
api_key: ${policy_api_key}
model: meta/llama
num_concurrent_requests: "100"
""",
}


@pytest.mark.parametrize("implementation", MODEL_IMPLEMENTATIONS)
def test_a_complete_config_of_each_implementation_passes(implementation):
    assert errors(_model(implementation, GOOD[implementation])) == []


@pytest.mark.parametrize("implementation", MODEL_IMPLEMENTATIONS)
def test_each_implementation_rejects_a_misspelled_key(implementation):
    text = _model(implementation, GOOD[implementation] + "\nentrypiont: app.py\n")
    found = [e for e in errors(text) if e.rule == "unknown-key"]
    assert [e.name for e in found] == ["entrypiont"]
    assert "entrypoint" in found[0].allowed


@pytest.mark.parametrize(
    ("implementation", "required"),
    [
        ("openai_model", {"openai_base_url", "openai_api_key", "openai_model"}),
        ("litellm_model", {"openai_base_url", "openai_api_key", "openai_model"}),
        (
            "azure_openai_model",
            {
                "openai_base_url",
                "openai_api_key",
                "openai_model",
                "default_query",
                "num_concurrent_requests",
            },
        ),
        (
            "vllm_model",
            {
                "base_url",
                "api_key",
                "model",
                "return_token_id_information",
                "uses_reasoning_parser",
            },
        ),
        ("inference_provider", {"base_url", "api_key", "model"}),
    ],
)
def test_each_implementation_requires_its_keys(implementation, required):
    text = _model(implementation, "port: 8000")
    view = view_from_text(text)
    view.run_mode = True  # a --config run: everything composed, every missing key is an error
    missing = {e.name for e in schemas.schema_errors(view) if e.rule == "missing-key"}
    assert missing == required


@pytest.mark.parametrize(
    ("implementation", "field", "value"),
    [
        ("openai_model", "openai_api_key", "12345"),
        ("openai_model", "max_concurrent_requests", "many"),
        ("openai_model", "max_concurrent_requests", "0"),
        ("openai_model", "openai_default_headers", "{X-Retries: 3}"),
        ("openai_model", "extra_body", "[1, 2]"),
        ("openai_model", "drop_input_reasoning_items", "maybe"),
        ("azure_openai_model", "default_query", "{version: x}"),
        ("azure_openai_model", "num_concurrent_requests", "1.5"),
        ("vllm_model", "base_url", "[]"),
        ("vllm_model", "uses_reasoning_parser", "2"),
        ("vllm_model", "tokenizer", "7"),
        ("inference_provider", "model", "true"),
    ],
)
def test_each_implementation_rejects_wrong_types(implementation, field, value):
    lines = [
        line
        for line in GOOD[implementation].strip().splitlines()
        if not line.startswith(field + ":")
    ]
    text = _model(implementation, "\n".join([*lines, f"{field}: {value}"]))
    found = [e for e in errors(text) if e.rule in ("invalid-value", "missing-key")]
    assert found, text
    assert all(field in e.path or e.name == "api-version" for e in found)


def test_values_are_typed_the_way_pydantic_reads_them():
    lax = _model(
        "vllm_model",
        """
base_url: http://localhost:8000/v1
api_key: EMPTY
model: m
return_token_id_information: "false"
uses_reasoning_parser: yes
is_responses_native: 0
port: "8000"
num_workers: 2.0
""",
    )
    assert errors(lax) == []
    strict = _model(
        "vllm_model", "base_url: 1\napi_key: 2\nmodel: 3.5\nport: 8000.5\nnum_workers: true"
    )
    bad = {e.path[-1] for e in errors(strict) if e.rule == "invalid-value"}
    assert bad == {"base_url", "api_key", "model", "port", "num_workers"}


def test_deferred_values_satisfy_any_type():
    text = _model(
        "vllm_model",
        """
base_url: ${oc.env:VLLM_URL,http://localhost:8000/v1}
api_key: ???
model: ${policy_model_name}
return_token_id_information: ${flags.token_ids}
uses_reasoning_parser: ???
port: ${port_for_vllm}
default_headers: ${headers}
""",
    )
    assert errors(text) == []


def test_a_null_default_read_through_an_interpolation_is_not_a_type_error():
    text = OPENAI.replace("${policy_api_key}", "${judge_api_key}") + "judge_api_key: null\n"
    assert [e for e in errors(text) if e.rule == "invalid-value"] == []


# -- common fields ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "path_end"),
    [
        ("port: 0", "port"),
        ("port: 65536", "port"),
        ("port: abc", "port"),
        ("num_workers: 0", "num_workers"),
        ("host: 8080", "host"),
        ("verified: sometimes", "verified"),
        ("model_server: {type: responses_api_modles, name: policy_model}", "type"),
        ("model_server: policy_model", "model_server"),
    ],
)
def test_common_fields_are_checked_for_any_implementation(fields, path_end):
    text = f"agent:\n  responses_api_agents:\n    simple_agent:\n      entrypoint: app.py\n      {fields}\n"
    found = [e for e in errors(text) if e.rule == "invalid-value"]
    assert [e.path[-1] for e in found] == [path_end]


def test_implementations_without_a_schema_accept_unknown_keys():
    text = "agent:\n  responses_api_agents:\n    my_agent:\n      entrypoint: app.py\n      max_steps: 10\n"
    assert errors(text) == []


def test_resources_servers_need_a_domain_from_the_list():
    base = "math:\n  resources_servers:\n    math_with_judge:\n      entrypoint: app.py\n"
    assert [(e.rule, e.name) for e in errors(base)] == [("missing-key", "domain")]
    wrong = errors(base + "      domain: maths\n")
    assert [(e.rule, e.name) for e in wrong] == [("invalid-value", "maths")]
    assert "math" in wrong[0].allowed
    assert errors(base + "      domain: math\n") == []


DATASET = "agent:\n  responses_api_agents:\n    simple_agent:\n      entrypoint: app.py\n      datasets:\n      - "


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("{name: d, type: example, jsonl_fpath: d.jsonl}", []),
        ("{name: d, type: train, jsonl_fpath: d.jsonl, license: MIT, num_repeats: 2}", []),
        (
            "{name: d, type: benchmark, jsonl_fpath: d.jsonl, prepare_script: p.py, prompt_config: null}",
            [],
        ),
        # benchmark entries are read by BenchmarkDatasetConfig, which ignores license
        (
            "{name: d, type: benchmark, jsonl_fpath: d.jsonl, prepare_script: p.py, license: CC-BY-4.0}",
            [],
        ),
        ("{name: d, type: train, jsonl_fpath: d.jsonl}", [("missing-key", "license")]),
        (
            "{name: d, type: validation, jsonl_fpath: d.jsonl, license: null}",
            [("invalid-value", None)],
        ),
        ("{name: d, type: trian, jsonl_fpath: d.jsonl}", [("invalid-value", "trian")]),
        (
            "{name: d, type: train, jsonl_fpath: d.jsonl, license: CC-BY-SA-4.0}",
            [("invalid-value", "CC-BY-SA-4.0")],
        ),
        ("{name: d, type: benchmark, jsonl_fpath: d.jsonl}", [("missing-key", "prepare_script")]),
        (
            "{name: d, type: example, jsonl_fpath: d.jsonl, num_repeats: 0}",
            [("invalid-value", None)],
        ),
        (
            "{name: d, type: example, jsonl_fpath: d.jsonl, licence: MIT}",
            [("unknown-key", "licence")],
        ),
        ("{type: example, jsonl_fpath: d.jsonl}", [("missing-key", "name")]),
        (
            (
                "{name: d, type: example, jsonl_fpath: d.jsonl, source: {type: huggingface, repo_id: a/b},"
                " huggingface_identifier: {repo_id: a/b}}"
            ),
            [("invalid-value", None)],
        ),
        (
            "{name: d, type: example, jsonl_fpath: d.jsonl, source: {type: gitlab, dataset_name: x}}",
            "missing",
        ),
        (
            "{name: d, type: example, jsonl_fpath: d.jsonl, source: {type: gitlb}}",
            [("invalid-value", "gitlb")],
        ),
    ],
)
def test_dataset_entries(entry, expected):
    found = [(e.rule, e.name) for e in errors(DATASET + entry + "\n")]
    if expected == "missing":
        assert {rule for rule, _ in found} == {"missing-key"}
    else:
        assert found == expected


# -- the file shape -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # plain globals of every kind, and mappings that are not instances
        (
            "policy_base_url: http://x\nnum_samples_in_parallel: 8\nlimits: [1, 2]\n"
            "responses_create_params: {max_output_tokens: 8192}\n"
        ),
        # a prompt file
        "system: You are helpful.\nuser: '{question}'\n",
        # directive-only instances and a partial override (tau2.yaml, math-500)
        "simulator_model:\n  _copy: policy_model\n",
        (
            "config_paths: [responses_api_models/openai_model/configs/openai_model.yaml]\n"
            "gpt:\n  responses_api_models:\n    openai_model:\n      openai_api_key: ???\n"
        ),
        (
            "math_500:\n  _inherit_from: math_with_judge\n  resources_servers:\n    math_with_judge:\n"
            "      should_use_judge: false\n"
        ),
        # _delete_key beside the implementation (nemotron_3_ultra judge endpoints)
        (
            "judge:\n  responses_api_models:\n    _delete_key: local_vllm_model\n    vllm_model:\n"
            "      entrypoint: app.py\n      model: ???\n      base_url: ???\n      api_key: ???\n"
            "      return_token_id_information: false\n      uses_reasoning_parser: false\n"
        ),
        # reserved settings with their types
        (
            "config_paths: []\ndefault_host: 127.0.0.1\nhead_server: {host: 0.0.0.0, port: 11000}\n"
            "disallowed_ports: [8080]\npython_version: '3.12'\ndry_run: false\nport_range_low: 10001\n"
        ),
    ],
)
def test_shapes_found_in_real_configs_pass(text):
    assert errors(text) == []


@pytest.mark.parametrize(
    ("text", "rule", "path"),
    [
        ("config_paths: a.yaml\n", "invalid-value", ("config_paths",)),
        ("head_server: {port: 70000}\n", "invalid-value", ("head_server", "port")),
        ("python_version: 3.10\n", "invalid-value", ("python_version",)),
        ("dry_run: perhaps\n", "invalid-value", ("dry_run",)),
        ("p:\n  _copy: a\n  entrypoint: app.py\n", "unknown-key", ("p", "entrypoint")),
        (
            "p:\n  responses_api_models: openai_model\n",
            "server-shape",
            ("p", "responses_api_models"),
        ),
        ("p:\n  responses_api_models: {}\n", "server-shape", ("p", "responses_api_models")),
        (
            "p:\n  responses_api_models:\n    openai_model: null\n",
            "server-shape",
            ("p", "responses_api_models", "openai_model"),
        ),
    ],
)
def test_bad_shapes_and_settings_are_reported(text, rule, path):
    found = [(e.rule, e.path) for e in errors(text)]
    assert (rule, path) in found


# -- env.yaml -----------------------------------------------------------------------------


def test_env_yaml_types_known_keys_and_accepts_overrides():
    good = (
        "policy_base_url: https://api.openai.com/v1\npolicy_api_key: sk-test\npolicy_model_name: gpt-4.1\n"
        "judge_base_url: ['http://a/v1', 'http://b/v1']\nhf_token: hf_x\nanything_else: 3\n"
        "policy_model:\n  responses_api_models:\n    openai_model:\n      max_concurrent_requests: 4\n"
    )
    assert errors(good, "env.yaml") == []
    bad = "policy_api_key: 12345\npolicy_model_name: [a]\npolicy_base_url: 8080\ndry_run: maybe\n"
    found = sorted(e.path[0] for e in errors(bad, "env.yaml"))
    assert found == ["dry_run", "policy_api_key", "policy_base_url", "policy_model_name"]


def test_env_yaml_overrides_are_checked_for_unknown_keys():
    text = "policy_model:\n  responses_api_models:\n    openai_model:\n      max_concurent_requests: 4\n"
    assert [(e.rule, e.name) for e in errors(text, "env.yaml")] == [
        ("unknown-key", "max_concurent_requests")
    ]


def test_server_types_match_the_model():
    document = schemas.schema(schemas.CONFIG_FILE)
    assert set(document["$defs"]["instance"]["properties"]) >= set(SERVER_TYPES)


_LAX = ("integer", "number", "boolean", "positive_integer", "port")


def _lax_validators() -> dict:
    common = schemas.schema(schemas.SERVER_COMMON)["$defs"]
    as_written = {name: jsonschema_rs.validator_for(common[name]) for name in _LAX}
    as_derived = {
        name: jsonschema_rs.validator_for(
            schemas._pattern_as_format(common[name]), formats=schemas._LAX_FORMATS, validate_formats=True
        )
        for name in _LAX
    }
    return {name: (as_written[name], as_derived[name]) for name in _LAX}


_LAX_VALIDATORS = _lax_validators()


@settings(max_examples=300, deadline=None)
@example("5\n")
@example("t\n")
@example("\u00a0 -12.000 ")
@example("+Infinity")
@example("65536")
@given(st.text(alphabet=" \t\n\u00a0+-._0123456789eExXiInNfFaAtTyYsSoOrRuUlL", max_size=12))
def test_derived_schemas_check_lax_scalars_as_server_common_does(text):
    # Derived schemas check the lax-type expressions as formats (cheaper to compile).
    for name, (as_written, as_derived) in _LAX_VALIDATORS.items():
        assert as_written.is_valid(text) == as_derived.is_valid(text), (name, text)
