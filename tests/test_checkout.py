"""A whole NeMo Gym checkout: references between configs, implementation directories,
ports, datasets, and the acceptance on the real sample (../shared/corpus)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from corpus_support import KNOWN_BUGS

from gym_scaffold.checkout import _scan, build_index, scan_text
from gym_scaffold.discover import CONFIG_DIRS
from gym_scaffold.validate import ValidateOptions, run_validate


def _validate(root: Path, *paths: str, configs: tuple[str, ...] = (), cache: Path | None = None):
    environ = {"XDG_CACHE_HOME": str(cache)} if cache else {}
    options = ValidateOptions(
        paths=[Path(p) for p in paths],
        configs=[Path(c) for c in configs],
        cwd=root,
        environ=environ,
        check_git=False,
        use_cache=cache is not None,
    )
    return [p for p in run_validate(options).problems if p.severity.value != "note"]


def test_corpus_reports_exactly_the_known_bugs(corpus_tree):
    problems = _validate(corpus_tree)
    errors: dict[str, set] = {}
    for problem in problems:
        if problem.severity.value == "error":
            errors.setdefault(problem.path, set()).add((problem.line, problem.rule))
    assert errors == KNOWN_BUGS


def test_corpus_named_as_a_directory_reports_the_same(corpus_tree):
    # `validate .` walks the whole tree (more files than the config directories) and
    # builds the checkout index from that walk, in several processes.
    in_config_dirs = [p for p in _validate(corpus_tree, ".") if p.path.split("/")[0] in CONFIG_DIRS]
    assert sorted(map(_key, in_config_dirs)) == sorted(map(_key, _validate(corpus_tree)))


def _key(problem):
    return (problem.path, problem.line, problem.column, problem.rule, problem.message)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one CPU: files are checked in one process")
def test_files_a_worker_took_are_checked_again_when_it_fails(corpus_tree, monkeypatch):
    from gym_scaffold import validate

    def outcome():
        options = ValidateOptions(cwd=corpus_tree, environ={}, check_git=False, use_cache=False)
        result = run_validate(options)
        return result.files_checked, result.files_skipped, sorted(map(_key, result.problems))

    expected = outcome()
    parent, real = os.getpid(), validate.Validator.check_file
    checked_by_the_parent = []

    def failing_in_workers(self, path, env):
        if os.getpid() != parent:
            raise RuntimeError("a worker fails")
        checked_by_the_parent.append(path)
        return real(self, path, env)

    monkeypatch.setattr(validate.Validator, "check_file", failing_in_workers)
    assert outcome() == expected
    assert len(checked_by_the_parent) == len(set(checked_by_the_parent))  # none checked twice


def test_corpus_hints_name_the_fix(corpus_tree):
    by_file = {(p.path, p.rule): p for p in _validate(corpus_tree)}
    ns_tools = by_file[("resources_servers/ns_tools/configs/ns_tools_arxiv.yaml", "server-directory")]
    assert "'ns_tools'" in ns_tools.hint
    reflection = by_file[("responses_api_agents/langgraph_agent/configs/reflection_agent.yaml", "server-directory")]
    assert "'langgraph_agent'" in reflection.hint
    license_problem = by_file[("resources_servers/spartqa/configs/spartqa.yaml", "invalid-value")]
    assert "did you mean 'CC BY-SA 4.0'" in license_problem.hint


def test_corpus_cached_run_reports_the_same(corpus_tree, tmp_path):
    cold = sorted(_validate(corpus_tree, cache=tmp_path / "cache"), key=lambda p: p.sort_key)
    warm = sorted(_validate(corpus_tree, cache=tmp_path / "cache"), key=lambda p: p.sort_key)
    assert cold == warm and cold


# -- a small checkout ----------------------------------------------------------------------

MATH = """\
math_with_judge:
  resources_servers:
    math_with_judge:
      entrypoint: app.py
      domain: math
"""
AGENT = """\
math_agent:
  responses_api_agents:
    simple_agent:
      entrypoint: app.py
      resources_server:
        type: resources_servers
        name: {resources}
      model_server:
        type: responses_api_models
        name: {model}
"""


def tree(root: Path, files: dict[str, str]) -> Path:
    for impl in ("resources_servers/math_with_judge", "responses_api_agents/simple_agent",
                 "responses_api_models/vllm_model"):
        (root / impl).mkdir(parents=True, exist_ok=True)
        (root / impl / "app.py").write_text("")
        (root / impl / "requirements.txt").write_text("")
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


MATH_CONFIG = "resources_servers/math_with_judge/configs/math_with_judge.yaml"
AGENT_CONFIG = "responses_api_agents/simple_agent/configs/math_agent.yaml"


def _errors(problems, rule):
    return [p for p in problems if p.rule == rule]


def test_reference_to_an_instance_of_another_config_of_the_checkout(tmp_path):
    tree(tmp_path, {MATH_CONFIG: MATH, AGENT_CONFIG: AGENT.format(resources="math_with_judge", model="policy_model")})
    assert _validate(tmp_path) == []


def test_missing_reference_gets_a_did_you_mean(tmp_path):
    tree(tmp_path, {MATH_CONFIG: MATH, AGENT_CONFIG: AGENT.format(resources="math_with_judg", model="policy_model")})
    (problem,) = _errors(_validate(tmp_path), "server-reference")
    assert (problem.path, problem.line, problem.column) == (AGENT_CONFIG, 7, 15)
    assert "math_with_judg" in problem.message and problem.hint == "did you mean 'math_with_judge'?"


def test_instances_outside_the_config_directories_are_not_in_the_index(tmp_path):
    notes = "notes/math.yaml"  # a NeMo Gym-like file no run would load
    tree(tmp_path, {notes: MATH, AGENT_CONFIG: AGENT.format(resources="math_with_judge", model="policy_model")})
    for paths in ((), (".",), ("..",)):
        (problem,) = _errors(_validate(tmp_path / "responses_api_agents" if paths == ("..",) else tmp_path, *paths),
                             "server-reference")
        assert "math_with_judge" in problem.message


def test_reference_of_the_wrong_type(tmp_path):
    tree(tmp_path, {MATH_CONFIG: MATH, AGENT_CONFIG: AGENT.format(resources="math_with_judge", model="math_with_judge")})
    (problem,) = _errors(_validate(tmp_path), "server-reference")
    assert problem.line == 10 and "is a resources server" in problem.message


def test_reference_checked_when_one_file_is_named(tmp_path):
    tree(tmp_path, {MATH_CONFIG: MATH, AGENT_CONFIG: AGENT.format(resources="nope", model="policy_model")})
    assert len(_errors(_validate(tmp_path, AGENT_CONFIG), "server-reference")) == 1
    (tmp_path / AGENT_CONFIG).write_text(AGENT.format(resources="math_with_judge", model="policy_model"))
    assert _errors(_validate(tmp_path, AGENT_CONFIG), "server-reference") == []


def test_in_a_config_run_the_target_must_be_in_the_run(tmp_path):
    tree(tmp_path, {MATH_CONFIG: MATH, AGENT_CONFIG: AGENT.format(resources="math_with_judge", model="policy_model")})
    alone = _errors(_validate(tmp_path, configs=(AGENT_CONFIG,)), "server-reference")
    assert sorted(p.line for p in alone) == [7, 10]  # neither math_with_judge nor policy_model is in the run
    both = _errors(_validate(tmp_path, configs=(AGENT_CONFIG, MATH_CONFIG)), "server-reference")
    assert [p.line for p in both] == [10]


def test_in_a_config_run_a_directive_source_must_be_in_the_run(tmp_path):
    config = "benchmarks/b/config.yaml"
    tree(tmp_path, {MATH_CONFIG: MATH, config: "my_math:\n  _inherit_from: math_with_judge\n"})
    # Checked on its own, another config of a run may define the source.
    assert _errors(_validate(tmp_path, config), "config-directive") == []
    (alone,) = _errors(_validate(tmp_path, configs=(config,)), "config-directive")
    assert (alone.path, alone.line) == (config, 2) and "'math_with_judge' does not exist" in alone.message
    assert _errors(_validate(tmp_path, configs=(MATH_CONFIG, config)), "config-directive") == []


def test_reference_through_an_include_and_after_inherit_from(tmp_path):
    config = "benchmarks/b/config.yaml"
    text = (
        f"config_paths: [{MATH_CONFIG}]\n"
        "my_math:\n  _inherit_from: math_with_judge\n"
        + AGENT.format(resources="my_math", model="policy_model")
    )
    tree(tmp_path, {MATH_CONFIG: MATH, config: text})
    assert _errors(_validate(tmp_path, config), "server-reference") == []


def test_cached_result_follows_the_checkout_index(tmp_path):
    cache = tmp_path / "cache"
    root = tree(tmp_path / "repo", {MATH_CONFIG: MATH,
                                    AGENT_CONFIG: AGENT.format(resources="math_with_judge", model="policy_model")})
    assert _validate(root, cache=cache) == []
    assert _validate(root, cache=cache) == []
    (root / MATH_CONFIG).write_text(MATH.replace("math_with_judge:\n  resources", "math_judge:\n  resources"))
    (problem,) = _errors(_validate(root, cache=cache), "server-reference")
    assert problem.path == AGENT_CONFIG and problem.hint == "did you mean 'math_judge'?"


def test_cached_did_you_mean_follows_the_checkout_index(tmp_path):
    """The reference stays wrong, but the instance its hint named is renamed elsewhere."""
    cache = tmp_path / "cache"
    root = tree(tmp_path / "repo", {MATH_CONFIG: MATH,
                                    AGENT_CONFIG: AGENT.format(resources="math_wit_judge", model="policy_model")})
    (first,) = _errors(_validate(root, cache=cache), "server-reference")
    assert first.hint == "did you mean 'math_with_judge'?"
    (root / MATH_CONFIG).write_text(MATH.replace("math_with_judge:\n  resources", "math_wit_judges:\n  resources"))
    (again,) = _errors(_validate(root, cache=cache), "server-reference")
    assert again.path == AGENT_CONFIG and again.hint == "did you mean 'math_wit_judges'?"


def test_checkout_index_is_stored_with_the_results_and_rebuilt_when_a_file_changes(tmp_path):
    from gym_scaffold.cache import ResultCache

    root = tree(tmp_path / "repo", {MATH_CONFIG: MATH})
    environ = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    paths = [root / MATH_CONFIG]
    builds = []

    def build():
        builds.append(1)
        return build_index(paths)

    def index_of_a_fresh_run():
        results = ResultCache(root, environ)
        index = results.index(paths, build)
        results.save()
        return index

    assert "math_with_judge" in index_of_a_fresh_run() and len(builds) == 1
    assert "math_with_judge" in index_of_a_fresh_run() and len(builds) == 1  # stored, not rebuilt
    (root / MATH_CONFIG).write_text(MATH.replace("math_with_judge:\n  resources", "math_judge:\n  resources"))
    assert "math_judge" in index_of_a_fresh_run() and len(builds) == 2


def test_index_scan():
    text = (
        "# comment\nconfig_paths: [a.yaml]\npolicy_model:\n  responses_api_models:\n    vllm_model: {}\n"
        "judge:\n    # note\n    _inherit_from: policy_model\nflow: {resources_servers: {x: {}}}\n"
        "plain: 3\nmapping:\n  key: value\n"
    )
    types, sources = scan_text(text)
    assert types == {"policy_model": {"responses_api_models"}, "flow": {"resources_servers"}}
    assert sources == {"judge": "policy_model"}


def test_index_scan_finds_the_blocks_declared_with_an_entrypoint():
    text = (
        "math:\n  resources_servers:\n    math_with_judge:\n      domain: math\n      entrypoint: app.py\n"
        "    other_impl:\n      nested:\n        entrypoint: not-this-level.py\n"
        "overlay:\n  resources_servers:\n    math_with_judge:\n      domain: math\n"
        "model:\n  responses_api_models:\n    vllm_model: {entrypoint: app.py}\n"
        "plain:\n  not_a_type:\n    impl:\n      entrypoint: app.py\n"
    )
    assert _scan(text)[2] == {("math", "resources_servers", "math_with_judge"), ("model", "responses_api_models", "vllm_model")}


def test_index_follows_directives(tmp_path):
    (tmp_path / "a.yaml").write_text("base:\n  resources_servers:\n    x: {}\n")
    (tmp_path / "b.yaml").write_text("child:\n  _copy: base\ngrandchild:\n  _inherit_from: child\n")
    index = build_index([tmp_path / "a.yaml", tmp_path / "b.yaml"])
    assert index["grandchild"] == frozenset({"resources_servers"})


JUDGE_APP = (
    "from nemo_gym.base_resources_server import BaseResourcesServerConfig\n"
    "from nemo_gym.config_types import ModelServerRef\n"
    "class MathWithJudgeConfig(BaseResourcesServerConfig):\n"
    "    judge_model_server: ModelServerRef\n    should_use_judge: bool = False\n"
)
LOCAL_JUDGE = """\
math_with_judge:
  resources_servers:
    math_with_judge:
      judge_model_server:
        type: responses_api_models
        name: policy_model
      should_use_judge: true
      domain: math
"""
LOCAL_JUDGE_CONFIG = "resources_servers/math_with_judge/configs/math_with_local_judge.yaml"


def test_an_overlay_of_an_instance_another_config_declares_needs_no_entrypoint(tmp_path):
    # resources_servers/math_with_judge/configs/math_with_local_judge.yaml in NeMo Gym: it
    # sets every key the class requires, but the instance is declared (with its
    # entrypoint) by math_with_judge.yaml, with which a run composes it.
    declared = MATH + "      judge_model_server:\n        type: responses_api_models\n        name: policy_model\n"
    root = tree(tmp_path / "repo", {MATH_CONFIG: declared, LOCAL_JUDGE_CONFIG: LOCAL_JUDGE})
    (root / "resources_servers/math_with_judge/app.py").write_text(JUDGE_APP)
    cache = tmp_path / "cache"
    for paths in ((), (LOCAL_JUDGE_CONFIG,)):
        assert _validate(root, *paths, cache=cache) == []
    # Declared nowhere (the definer renamed its instance): the overlay is a server without
    # an entrypoint, and the cached outcome does not hide it.
    (root / MATH_CONFIG).write_text(declared.replace("math_with_judge:\n  resources", "math:\n  resources", 1))
    for paths in ((), (LOCAL_JUDGE_CONFIG,)):
        found = [(p.path, p.line, p.rule, p.severity.value) for p in _validate(root, *paths, cache=cache)]
        assert found == [(LOCAL_JUDGE_CONFIG, 3, "missing-key", "error")]
    # A `--config` run of the overlay alone is not a run that works.
    (root / MATH_CONFIG).write_text(declared)
    found = [(p.line, p.message) for p in _validate(root, configs=(LOCAL_JUDGE_CONFIG,)) if p.rule == "missing-key"]
    assert found == [(3, 'missing required key "entrypoint"')]


# -- directories ---------------------------------------------------------------------------


def test_directory_problems(tmp_path):
    tree(tmp_path, {MATH_CONFIG: MATH.replace("entrypoint: app.py", "entrypoint: main.py")})
    (tmp_path / "resources_servers/math_with_judge/pyproject.toml").write_text("")
    found = {(p.line, p.message) for p in _errors(_validate(tmp_path), "server-directory")}
    assert found == {
        (3, "resources_servers/math_with_judge/ has both requirements.txt and pyproject.toml"),
        (4, "entrypoint 'main.py' is not a file in resources_servers/math_with_judge/"),
    }
    (tmp_path / "resources_servers/math_with_judge/pyproject.toml").unlink()
    (tmp_path / "resources_servers/math_with_judge/requirements.txt").unlink()
    messages = [p.message for p in _errors(_validate(tmp_path), "server-directory")]
    assert "resources_servers/math_with_judge/ has neither requirements.txt nor pyproject.toml" in messages


# -- ports ---------------------------------------------------------------------------------

MODEL = "{name}:\n  responses_api_models:\n    vllm_model:\n      entrypoint: app.py\n      port: {port}\n"


def test_duplicate_ports_within_a_file_and_its_includes(tmp_path):
    base = "responses_api_models/vllm_model/configs/base.yaml"
    config = "benchmarks/b/config.yaml"
    tree(tmp_path, {
        base: MODEL.format(name="policy_model", port=8001),
        config: f"config_paths: [{base}]\n" + MODEL.format(name="judge", port='"8001"'),
    })
    (problem,) = _errors(_validate(tmp_path, config), "server-port")
    assert problem.path == config and problem.line == 6
    assert "also the port of 'policy_model'" in problem.message and base in problem.message


def test_head_server_port(tmp_path):
    tree(tmp_path, {"responses_api_models/vllm_model/configs/m.yaml": MODEL.format(name="m", port=11000)})
    (problem,) = _errors(_validate(tmp_path), "server-port")
    assert "head server" in problem.message
    moved = "head_server:\n  port: 12000\n" + MODEL.format(name="m", port=11000)
    (tmp_path / "responses_api_models/vllm_model/configs/m.yaml").write_text(moved)
    assert _errors(_validate(tmp_path), "server-port") == []


def test_ports_across_a_config_run(tmp_path):
    a, b = "responses_api_models/vllm_model/configs/a.yaml", "responses_api_models/vllm_model/configs/b.yaml"
    tree(tmp_path, {a: MODEL.format(name="one", port=9000), b: MODEL.format(name="two", port=9000)})
    assert _errors(_validate(tmp_path), "server-port") == []  # separate files, separate runs
    assert len(_errors(_validate(tmp_path, configs=(a, b)), "server-port")) == 1



def test_a_file_with_config_paths_is_checked_as_the_run_it_is(tmp_path):
    # A benchmark config whose includes give two servers one port: caught by a plain
    # `validate` and by naming the file, once, at the include that sets the later port.
    a, b = "responses_api_models/vllm_model/configs/a.yaml", "responses_api_models/vllm_model/configs/b.yaml"
    bench = "benchmarks/pair/config.yaml"
    tree(tmp_path, {a: MODEL.format(name="one", port=9000), b: MODEL.format(name="two", port=9000),
                    bench: f"config_paths:\n- {a}\n- {b}\n"})
    for paths in ((), (bench,), (bench, a, b)):
        found = [(p.path, p.line, p.rule) for p in _validate(tmp_path, *paths) if p.severity.value == "error"]
        assert found == [(b, 5, "server-port")], paths
    assert _errors(_validate(tmp_path, a, b), "server-port") == []  # each on its own is fine
    # Its includes' own problems are the run's too; with the includes checked as well,
    # each is reported once.
    (tmp_path / b).write_text(MODEL.format(name="two", port=9001) + "      max_tokns: 5\n")
    for paths in ((), (bench,), (bench, b)):
        found = [(p.path, p.line, p.rule) for p in _validate(tmp_path, *paths) if p.severity.value == "error"]
        assert found == [(b, 6, "unknown-key")], paths
        places = [(p.path, p.line, p.column, p.rule, p.message) for p in _validate(tmp_path, *paths)]
        assert len(places) == len(set(places))
    # An include NeMo Gym cannot load stops the run: named with the file that includes it.
    (tmp_path / a).write_text(MODEL.format(name="one", port=9000) + "one:\n  again: 1\n")
    found = [(p.path, p.line, p.rule) for p in _validate(tmp_path, bench) if p.severity.value == "error"]
    assert (a, 6, "duplicate-key") in found

# -- resources servers and datasets --------------------------------------------------------

DATASET = """\
math_with_judge:
  resources_servers:
    math_with_judge:
      entrypoint: app.py
      domain: {domain}
      datasets:
      - name: train
        type: {type}
        jsonl_fpath: data/train.jsonl
{extra}"""


@pytest.mark.parametrize(
    ("fields", "rule", "text"),
    [
        ({"domain": "maths"}, "invalid-value", "did you mean 'math'?"),
        ({"type": "training"}, "invalid-value", "did you mean 'train'?"),
        ({"extra": "        license: CC-BY-SA-4.0\n"}, "invalid-value", "did you mean 'CC BY-SA 4.0'?"),
        ({"extra": ""}, "missing-key", "license"),
        (
            {"extra": "        license: MIT\n        source: {type: huggingface, repo_id: a/b}\n"
                      "        huggingface_identifier: {repo_id: a/b}\n"},
            "invalid-value",
            "deprecated",
        ),
    ],
)
def test_domain_and_datasets(tmp_path, fields, rule, text):
    values = {"domain": "math", "type": "train", "extra": "        license: MIT\n", **fields}
    tree(tmp_path, {MATH_CONFIG: DATASET.format(**values)})
    problems = _errors(_validate(tmp_path), rule)
    assert problems and any(text in (p.message + " " + (p.hint or "")) for p in problems), problems


def test_valid_datasets_pass(tmp_path):
    extra = "        license: Apache 2.0\n      - name: bench\n        type: benchmark\n" \
            "        jsonl_fpath: b.jsonl\n        prepare_script: prepare.py\n"
    tree(tmp_path, {MATH_CONFIG: DATASET.format(domain="math", type="validation", extra=extra)})
    assert _validate(tmp_path) == []
