"""compose(): config_paths includes, OmegaConf merging, env.yaml, directives, origins.

Real files in tmp_path; merge semantics are checked against OmegaConf itself.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from corpus_support import CORPUS, needs_corpus
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from gym_scaffold.config.compose import compose, load_env_file
from gym_scaffold.config.loader import load_file
from gym_scaffold.config.model import Origin
from gym_scaffold.config.resolve import resolve
from gym_scaffold.problem import Severity


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def run(root: Path, *rels: str, env: str | None = None, cache=None, **kw):
    display = lambda p: p.relative_to(root).as_posix() if p.is_relative_to(root) else str(p)  # noqa: E731
    env_file = None
    if env is not None:
        env_path = write(root, "env.yaml", env)
        env_file = load_env_file(env_path, "env.yaml")
    return compose([root / r for r in rels], roots=[root], env=env_file, display=display, cache=cache, **kw)


# -- includes -----------------------------------------------------------------------


def test_include_is_merged_first_and_the_including_file_wins(tmp_path):
    write(tmp_path, "base.yaml", """
        policy_model:
          responses_api_models:
            openai_model:
              entrypoint: app.py
              openai_model: gpt-4o
              extra_body: {a: 1}
    """)
    write(tmp_path, "top.yaml", """
        config_paths:
          - base.yaml
        policy_model:
          responses_api_models:
            openai_model:
              openai_model: gpt-5
              extra_body: {b: 2}
    """)
    c = run(tmp_path, "top.yaml")
    assert c.problems == []
    body = c.data["policy_model"]["responses_api_models"]["openai_model"]
    assert body == {"entrypoint": "app.py", "openai_model": "gpt-5", "extra_body": {"a": 1, "b": 2}}
    impl = ("policy_model", "responses_api_models", "openai_model")
    assert c.origins[impl + ("entrypoint",)] == Origin("base.yaml", 4, 19)
    assert c.origins[impl + ("openai_model",)] == Origin("top.yaml", 6, 21)
    assert c.origins[impl + ("extra_body", "a")].path == "base.yaml"
    assert c.origins[impl + ("extra_body", "b")].path == "top.yaml"
    assert c.key_origins[impl + ("openai_model",)] == Origin("top.yaml", 6, 7)
    assert c.key_origins[impl + ("entrypoint",)] == Origin("base.yaml", 4, 7)
    assert [d.path for d in c.documents] == ["top.yaml", "base.yaml"]
    assert c.data["config_paths"] == ["base.yaml"]  # kept, a reserved key


def test_later_siblings_override_earlier_and_their_includes(tmp_path):
    write(tmp_path, "a.yaml", "x: a\ny: a\nz: a\n")
    write(tmp_path, "a_inner.yaml", "x: a_inner\nw: a_inner\n")
    write(tmp_path, "b_inner.yaml", "y: b_inner\nz: b_inner\n")
    write(tmp_path, "b.yaml", "config_paths: [b_inner.yaml]\nz: b\n")
    write(tmp_path, "top.yaml", "config_paths: [a.yaml, b.yaml]\n")
    write(tmp_path, "a.yaml", "config_paths: [a_inner.yaml]\nx: a\ny: a\nz: a\n")
    c = run(tmp_path, "top.yaml")
    # merge order: a_inner, a, b_inner, b, top
    assert c.data["x"] == "a" and c.data["w"] == "a_inner"
    assert c.data["y"] == "b_inner" and c.data["z"] == "b"


def test_roots_are_searched_in_order(tmp_path):
    first, second = tmp_path / "extra", tmp_path / "repo"
    write(first, "cfg/shared.yaml", "where: extra\n")
    write(second, "cfg/shared.yaml", "where: repo\n")
    write(second, "cfg/only_repo.yaml", "only: repo\n")
    top = write(second, "top.yaml", "config_paths: [cfg/shared.yaml, cfg/only_repo.yaml]\n")
    c = compose([top], roots=[first, second], env=None, display=str)
    assert c.problems == []
    assert c.data["where"] == "extra" and c.data["only"] == "repo"


def test_absolute_include_inside_the_repository(tmp_path):
    inside = write(tmp_path / "repo", "cfg/x.yaml", "x: 1\n")
    write(tmp_path / "repo", "top.yaml", f"config_paths: ['{inside}']\n")
    c = run(tmp_path / "repo", "top.yaml")
    assert c.problems == [] and c.data["x"] == 1


@pytest.mark.parametrize("entry", ["ABSOLUTE", "../elsewhere/x.yaml", "cfg/../../elsewhere/x.yaml"])
def test_include_outside_the_roots_is_an_error_and_never_read(tmp_path, entry):
    other = write(tmp_path / "elsewhere", "x.yaml", "x: 1\n")
    entry = str(other) if entry == "ABSOLUTE" else entry
    write(tmp_path / "repo", "top.yaml", f"config_paths:\n  - '{entry}'\nb: 2\n")
    cache: dict = {}
    c = run(tmp_path / "repo", "top.yaml", cache=cache)
    [p] = c.problems
    assert (p.path, p.line, p.column, p.rule, p.severity) == ("top.yaml", 2, 5, "config-include", Severity.ERROR)
    assert "outside the repository" in p.message or "climbs out of the repository" in p.message
    assert "every checkout" in p.hint
    assert "x" not in c.data and c.data["b"] == 2
    assert [d.path for d in c.documents] == ["top.yaml"]
    assert all(path.name != "x.yaml" for path in cache)


def test_include_in_an_extra_root_is_not_outside(tmp_path):
    extra, repo = tmp_path / "extra", tmp_path / "repo"
    shared = write(extra, "shared.yaml", "where: extra\n")
    top = write(repo, "top.yaml", f"config_paths: [shared.yaml, '{shared}']\n")
    c = compose([top], roots=[extra, repo], env=None, display=str)
    assert c.problems == [] and c.data["where"] == "extra"


def test_include_through_a_link_to_outside_is_an_error(tmp_path):
    other = write(tmp_path / "elsewhere", "x.yaml", "x: 1\n")
    write(tmp_path / "repo", "top.yaml", "config_paths: [cfg/link.yaml]\n")
    (tmp_path / "repo" / "cfg").mkdir()
    (tmp_path / "repo" / "cfg" / "link.yaml").symlink_to(other)
    c = run(tmp_path / "repo", "top.yaml")
    [p] = c.problems
    assert p.rule == "config-include" and "symbolic link" in p.message and "x" not in c.data


def test_include_through_a_link_inside_the_repository_is_fine(tmp_path):
    write(tmp_path, "cfg/real.yaml", "x: 1\n")
    (tmp_path / "cfg" / "link.yaml").symlink_to("real.yaml")
    write(tmp_path, "top.yaml", "config_paths: [cfg/link.yaml]\n")
    c = run(tmp_path, "top.yaml")
    assert c.problems == [] and c.data["x"] == 1


def test_include_of_something_not_a_regular_file_says_what_it_is(tmp_path):
    import os

    (tmp_path / "cfg").mkdir()
    os.mkfifo(tmp_path / "cfg" / "pipe.yaml")
    (tmp_path / "cfg" / "dir.yaml").mkdir()
    (tmp_path / "cfg" / "dangling.yaml").symlink_to("gone.yaml")
    write(tmp_path, "top.yaml", "config_paths: [cfg/pipe.yaml, cfg/dir.yaml, cfg/dangling.yaml, /dev/zero]\n")
    pipe, folder, dangling, zero = run(tmp_path, "top.yaml").problems
    assert all(p.rule == "config-include" and p.severity == Severity.ERROR for p in (pipe, folder, dangling, zero))
    assert "not a regular file: it is a named pipe (FIFO)" in pipe.message
    assert "not a regular file: it is a directory" in folder.message
    assert "symbolic link to a file that does not exist" in dangling.message and "gone.yaml" in dangling.hint
    assert "/dev/zero" in zero.message and "a character device, not a regular file" in zero.message
    for p in (pipe, folder, dangling, zero):
        assert "not found" not in p.message and "did you mean" not in (p.hint or "")


@pytest.mark.parametrize(("text", "what"), [("just a string\n", "a single string"), ("[1, 2]\n", "a list"),
                                            ("42\n", "a single number")])
def test_included_file_that_is_not_a_mapping_is_an_error_at_the_entry(tmp_path, text, what):
    write(tmp_path, "odd.yaml", text)
    write(tmp_path, "mid.yaml", "config_paths: [odd.yaml]\n")
    write(tmp_path, "top.yaml", "config_paths:\n  - odd.yaml\n  - mid.yaml\nb: 2\n")
    c = run(tmp_path, "top.yaml")
    assert c.data["b"] == 2
    # Every entry naming it, so the check of mid.yaml alone reports it too.
    assert [(p.path, p.line, p.column) for p in c.problems] == [("top.yaml", 2, 5), ("mid.yaml", 1, 16)]
    for p in c.problems:
        assert p.rule == "config-include" and p.severity == Severity.ERROR
        assert f"'odd.yaml' holds {what}, not a mapping" in p.message


def test_empty_included_file_is_fine(tmp_path):
    write(tmp_path, "empty.yaml", "# nothing yet\n")
    write(tmp_path, "top.yaml", "config_paths: [empty.yaml]\nb: 2\n")
    c = run(tmp_path, "top.yaml")
    assert c.problems == [] and c.data["b"] == 2


def test_missing_include_is_an_error_at_the_entry_with_did_you_mean(tmp_path):
    write(tmp_path, "responses_api_models/openai_model/configs/openai_model.yaml", "a: 1\n")
    write(tmp_path, "top.yaml", """
        config_paths:
          - responses_api_models/openai_model/configs/open_model.yaml
        b: 2
    """)
    c = run(tmp_path, "top.yaml")
    [p] = c.problems
    assert (p.path, p.line, p.column, p.rule, p.severity) == ("top.yaml", 2, 5, "config-include", Severity.ERROR)
    assert "open_model.yaml" in p.message
    assert "responses_api_models/openai_model/configs/openai_model.yaml" in p.hint
    assert c.data["b"] == 2


def test_config_paths_not_a_list(tmp_path):
    write(tmp_path, "top.yaml", "config_paths: base.yaml\n")
    [p] = run(tmp_path, "top.yaml").problems
    assert p.rule == "config-include" and p.line == 1 and "list" in p.message


def test_include_cycle_is_a_warning_not_a_hang(tmp_path):
    write(tmp_path, "a.yaml", "config_paths: [b.yaml]\nfrom_a: 1\n")
    write(tmp_path, "b.yaml", "config_paths: [a.yaml]\nfrom_b: 1\nshared: b\n")
    write(tmp_path, "self.yaml", "config_paths: [self.yaml]\nx: 1\n")
    c = run(tmp_path, "a.yaml")
    assert c.data["from_a"] == 1 and c.data["from_b"] == 1
    # Each file on the cycle is told at its own entry: a file's check shows only its own problems.
    a, b = c.problems
    assert (a.path, a.line, a.column, a.rule) == ("a.yaml", 1, 16, "config-include")
    assert (b.path, b.line, b.column) == ("b.yaml", 1, 16)
    assert a.severity == b.severity == Severity.WARNING
    assert a.message == "config_paths entry 'b.yaml' is part of an include cycle: a.yaml -> b.yaml -> a.yaml"
    assert b.message == "config_paths entry 'a.yaml' is part of an include cycle: b.yaml -> a.yaml -> b.yaml"
    [from_b] = [p for p in run(tmp_path, "b.yaml").problems if p.path == "b.yaml"]
    assert "cycle" in from_b.message
    [p] = run(tmp_path, "self.yaml").problems
    assert p.severity == Severity.WARNING and p.message.endswith("self.yaml -> self.yaml")


def test_include_cycle_below_the_checked_file_is_reported_in_the_files_on_it(tmp_path):
    write(tmp_path, "top.yaml", "config_paths: [a.yaml, b.yaml]\n")
    write(tmp_path, "a.yaml", "config_paths: [b.yaml]\n")
    write(tmp_path, "b.yaml", "config_paths: [c.yaml]\n")
    write(tmp_path, "c.yaml", "config_paths: [a.yaml, leaf.yaml]\n")
    write(tmp_path, "leaf.yaml", "x: 1\n")
    c = run(tmp_path, "top.yaml")
    assert c.data["x"] == 1
    # a -> b -> c -> a, found although b and a were first reached from top.yaml
    assert sorted((p.path, p.message.split(": ", 1)[1]) for p in c.problems) == [
        ("a.yaml", "a.yaml -> b.yaml -> c.yaml -> a.yaml"),
        ("b.yaml", "b.yaml -> c.yaml -> a.yaml -> b.yaml"),
        ("c.yaml", "c.yaml -> a.yaml -> b.yaml -> c.yaml"),
    ]
    assert all(p.severity == Severity.WARNING for p in c.problems)


def test_long_include_cycle_is_cut_short_in_the_message(tmp_path):
    for i in range(30):
        write(tmp_path, f"f{i}.yaml", f"config_paths: [f{(i + 1) % 30}.yaml]\n")
    problems = run(tmp_path, "f0.yaml").problems
    assert len(problems) == 30
    first = next(p for p in problems if p.path == "f0.yaml")
    assert first.message.endswith("f0.yaml -> f1.yaml -> f2.yaml -> f3.yaml -> ... -> f28.yaml -> f29.yaml -> f0.yaml")


def test_diamond_include_loads_once_without_problem(tmp_path):
    write(tmp_path, "common.yaml", "c: 1\n")
    write(tmp_path, "a.yaml", "config_paths: [common.yaml]\n")
    write(tmp_path, "b.yaml", "config_paths: [common.yaml]\n")
    write(tmp_path, "top.yaml", "config_paths: [a.yaml, b.yaml]\n")
    c = run(tmp_path, "top.yaml")
    assert c.problems == [] and c.data["c"] == 1
    assert [d.path for d in c.documents].count("common.yaml") == 1


def test_cache_is_used_and_filled(tmp_path):
    write(tmp_path, "base.yaml", "x: 1\n")
    write(tmp_path, "top.yaml", "config_paths: [base.yaml]\n")
    cache: dict = {}
    run(tmp_path, "top.yaml", cache=cache)
    assert {p.name for p in cache} == {"top.yaml", "base.yaml"}
    sentinel = load_file(tmp_path / "base.yaml", "base.yaml")
    sentinel.data = {"x": "from cache"}
    for key in list(cache):
        if key.name == "base.yaml":
            cache[key] = sentinel
    assert run(tmp_path, "top.yaml", cache=cache).data["x"] == "from cache"


# -- merging ------------------------------------------------------------------------


def test_merge_semantics(tmp_path):
    write(tmp_path, "base.yaml", """
        lst: [1, 2, 3]
        dct: {a: 1, b: {c: 2}}
        scalar_to_dict: 1
        dict_to_null: {a: 1}
        mandatory_kept: real
        mandatory_new: 5
    """)
    write(tmp_path, "top.yaml", """
        config_paths: [base.yaml]
        lst: [9]
        dct: {b: {d: 3}}
        scalar_to_dict: {x: 1}
        dict_to_null: null
        mandatory_kept: ???
        added: ???
    """)
    c = run(tmp_path, "top.yaml")
    assert c.problems == []
    assert c.data["lst"] == [9]
    assert c.data["dct"] == {"a": 1, "b": {"c": 2, "d": 3}}
    assert c.data["scalar_to_dict"] == {"x": 1}
    assert c.data["dict_to_null"] is None
    assert c.data["mandatory_kept"] == "real"  # ??? never overrides a value
    assert c.origins[("mandatory_kept",)].path == "base.yaml"
    assert c.data["added"] == "???"
    assert ("lst", 2) not in c.origins  # the replaced list's origins are gone


def test_mapping_over_list_is_a_merge_problem(tmp_path):
    write(tmp_path, "base.yaml", "x: [1]\n")
    write(tmp_path, "top.yaml", "config_paths: [base.yaml]\nx: {a: 1}\n")
    [p] = run(tmp_path, "top.yaml").problems
    assert p.rule == "config-merge" and p.path == "top.yaml" and p.line == 2


_scalars = st.one_of(st.integers(-5, 5), st.sampled_from(["s", "t", "???", None, True]))
_keys = st.sampled_from(["a", "b", "c"])
_values = st.recursive(
    _scalars,
    lambda children: st.one_of(st.dictionaries(_keys, children, max_size=3), st.lists(_scalars, max_size=2)),
    max_leaves=8,
)
_configs = st.dictionaries(_keys, _values, max_size=3)


def _dump(value) -> str:
    return OmegaConf.to_yaml(OmegaConf.create(value)) if value else "{}\n"


@settings(max_examples=150, deadline=None)
@given(_configs, _configs, _configs)
def test_merge_matches_omegaconf(tmp_path_factory, first, second, env):
    root = tmp_path_factory.mktemp("merge")
    write(root, "first.yaml", _dump(first))
    write(root, "second.yaml", "config_paths: [first.yaml]\n" + (_dump(second) if second else ""))
    try:
        expected = OmegaConf.to_container(
            OmegaConf.merge(OmegaConf.create(first), OmegaConf.create(second), OmegaConf.create(env)),
            resolve=False,
        )
        expected.pop("config_paths", None)
    except Exception:
        expected = None
    c = run(root, "second.yaml", env=_dump(env))
    data = dict(c.data)
    data.pop("config_paths", None)
    if expected is None:
        assert any(p.rule == "config-merge" for p in c.problems)
    else:
        assert not [p for p in c.problems if p.rule == "config-merge"]
        assert data == expected


# -- env.yaml -----------------------------------------------------------------------


def test_env_yaml_merges_on_top(tmp_path):
    write(tmp_path, "cfg.yaml", """
        policy_base_url: http://config
        judge:
          url: http://judge
          key: k
    """)
    c = run(tmp_path, "cfg.yaml", env="policy_base_url: https://env\njudge: {key: from-env}\nextra: 1\n")
    assert c.problems == []
    assert c.data["policy_base_url"] == "https://env"
    assert c.data["judge"] == {"url": "http://judge", "key": "from-env"}
    assert c.env_keys == frozenset({"policy_base_url", "judge", "extra"})
    assert c.origins[("policy_base_url",)] == Origin("env.yaml", 1, 18)
    assert c.origins[("judge", "url")].path == "cfg.yaml"


def test_env_yaml_not_a_mapping(tmp_path):
    write(tmp_path, "cfg.yaml", "a: 1\n")
    c = run(tmp_path, "cfg.yaml", env="- a\n- b\n")
    [p] = c.problems
    assert p.rule == "env-file" and p.path == "env.yaml" and p.line == 1
    assert c.data == {"a": 1}


def test_empty_env_yaml_is_fine(tmp_path):
    write(tmp_path, "cfg.yaml", "a: 1\n")
    c = run(tmp_path, "cfg.yaml", env="# nothing yet\n")
    assert c.problems == [] and c.env_keys == frozenset()


# -- directives ---------------------------------------------------------------------

MATH = """
    math_with_judge:
      resources_servers:
        math_with_judge:
          entrypoint: app.py
          domain: math
          should_use_judge: true
          judge_model_server: {type: responses_api_models, name: policy_model}
    math_with_judge_simple_agent:
      responses_api_agents:
        simple_agent:
          entrypoint: app.py
          resources_server: {type: resources_servers, name: math_with_judge}
          datasets: [{name: train, type: train}]
"""


def test_inherit_from_moves_the_source(tmp_path):
    write(tmp_path, "resources_servers/math_with_judge/configs/math_with_judge.yaml", MATH)
    write(tmp_path, "benchmarks/math-500/config.yaml", """
        config_paths:
          - resources_servers/math_with_judge/configs/math_with_judge.yaml

        math_500_math_with_judge_resources_server:
          _inherit_from: math_with_judge
          resources_servers:
            math_with_judge:
              should_use_judge: false

        math_500_math_with_judge_simple_agent:
          _inherit_from: math_with_judge_simple_agent
          responses_api_agents:
            simple_agent:
              resources_server:
                name: math_500_math_with_judge_resources_server
              datasets:
                - name: math-500
                  type: benchmark
    """)
    c = run(tmp_path, "benchmarks/math-500/config.yaml")
    assert c.problems == [] and c.unresolved == []
    assert "math_with_judge" not in c.data and "math_with_judge_simple_agent" not in c.data
    server = c.data["math_500_math_with_judge_resources_server"]
    assert server == {
        "resources_servers": {
            "math_with_judge": {
                "entrypoint": "app.py",
                "domain": "math",
                "should_use_judge": False,
                "judge_model_server": {"type": "responses_api_models", "name": "policy_model"},
            }
        }
    }
    agent = c.data["math_500_math_with_judge_simple_agent"]["responses_api_agents"]["simple_agent"]
    assert agent["resources_server"] == {"type": "resources_servers", "name": "math_500_math_with_judge_resources_server"}
    assert agent["datasets"] == [{"name": "math-500", "type": "benchmark"}]
    base = "resources_servers/math_with_judge/configs/math_with_judge.yaml"
    srv = ("math_500_math_with_judge_resources_server", "resources_servers", "math_with_judge")
    assert c.origins[srv + ("entrypoint",)] == Origin(base, 4, 19)  # moved with the value
    assert c.origins[srv + ("should_use_judge",)].path == "benchmarks/math-500/config.yaml"
    assert c.key_origins[srv + ("domain",)] == Origin(base, 5, 7)
    assert not any(p[:1] == ("math_with_judge",) for p in c.origins)


def test_copy_keeps_the_source_and_string_forms(tmp_path):
    write(tmp_path, "cfg.yaml", """
        policy_model:
          responses_api_models:
            openai_model: {entrypoint: app.py, openai_model: gpt}
        judge_model:
          _copy: policy_model
          responses_api_models:
            openai_model: {openai_model: judge}
        copied: ${copy:policy_model.responses_api_models}
        moved: ${inherit_from:settings}
        settings: {a: 1}
    """)
    c = run(tmp_path, "cfg.yaml")
    assert c.problems == []
    assert c.data["policy_model"]["responses_api_models"]["openai_model"]["openai_model"] == "gpt"
    assert c.data["judge_model"]["responses_api_models"]["openai_model"] == {"entrypoint": "app.py", "openai_model": "judge"}
    assert c.data["copied"] == {"openai_model": {"entrypoint": "app.py", "openai_model": "gpt"}}
    assert c.data["moved"] == {"a": 1} and "settings" not in c.data


def test_delete_key(tmp_path):
    write(tmp_path, "cfg.yaml", """
        base:
          responses_api_agents:
            agent: {entrypoint: app.py, datasets: [1], keep: 1}
        derived:
          _inherit_from: base
          responses_api_agents:
            _delete_key: "agent"
        plain:
          a: 1
          b: 2
          _delete_key: "a, nothere"
        tmpl: {entrypoint: app.py, datasets: [1], keep: 1}
        inherited_delete:
          _copy: tmpl
          _delete_key: datasets, keep
    """)
    c = run(tmp_path, "cfg.yaml")
    assert c.problems == []
    assert c.data["plain"] == {"b": 2}
    assert c.data["inherited_delete"] == {"entrypoint": "app.py"}
    # derived's own responses_api_agents had `agent` deleted before the merge with base
    assert c.data["derived"] == {"responses_api_agents": {"agent": {"entrypoint": "app.py", "datasets": [1], "keep": 1}}}


def test_delete_key_naming_a_key_absent_after_inherit_is_an_error(tmp_path):
    write(tmp_path, "cfg.yaml", """
        base: {a: 1}
        derived:
          _copy: base
          _delete_key: zzz
    """)
    [p] = run(tmp_path, "cfg.yaml").problems
    assert p.rule == "config-directive" and "zzz" in p.message


def test_directive_typo_is_an_error_with_did_you_mean(tmp_path):
    write(tmp_path, "base.yaml", MATH)
    write(tmp_path, "top.yaml", """
        config_paths: [base.yaml]
        bench:
          _inherit_from: math_with_judg
          resources_servers: {}
    """)
    c = run(tmp_path, "top.yaml")
    [p] = c.problems
    assert (p.path, p.line, p.column, p.rule) == ("top.yaml", 3, 18, "config-directive")
    assert "math_with_judge" in p.hint


def test_directive_source_from_another_config_is_recorded_not_reported(tmp_path):
    write(tmp_path, "agent.yaml", """
        simulator_model:
          _copy: policy_model
          responses_api_models: {openai_model: {x: 1}}
    """)
    c = run(tmp_path, "agent.yaml")
    assert c.problems == []
    [u] = c.unresolved
    assert (u.path, u.key, u.kind) == (("simulator_model",), "policy_model", "directive")
    assert c.data["simulator_model"]["_copy"] == "policy_model"  # the body has an unknown base
    # in a complete run it is an error
    [p] = run(tmp_path, "agent.yaml", run_mode=True).problems
    assert p.rule == "config-directive" and p.line == 2


def test_directive_after_missing_include_is_not_reported_twice(tmp_path):
    write(tmp_path, "top.yaml", """
        config_paths: [nothere.yaml]
        bench:
          _inherit_from: math_with_judge
    """)
    c = run(tmp_path, "top.yaml")
    assert [p.rule for p in c.problems] == ["config-include"]
    assert [u.key for u in c.unresolved] == ["math_with_judge"]


def test_directive_to_mandatory_source_gives_mandatory(tmp_path):
    write(tmp_path, "cfg.yaml", "src: ???\ndst:\n  _inherit_from: src\n")
    c = run(tmp_path, "cfg.yaml")
    assert c.problems == [] and c.data["dst"] == "???"


def test_directives_apply_after_env_merge(tmp_path):
    write(tmp_path, "cfg.yaml", """
        policy_model:
          responses_api_models:
            openai_model: {entrypoint: app.py}
        judge:
          _copy: policy_model
    """)
    c = run(tmp_path, "cfg.yaml", env="policy_model:\n  responses_api_models:\n    openai_model:\n      openai_model: m\n")
    assert c.data["judge"]["responses_api_models"]["openai_model"] == {"entrypoint": "app.py", "openai_model": "m"}
    assert c.origins[("judge", "responses_api_models", "openai_model", "openai_model")].path == "env.yaml"


# -- the real corpus ----------------------------------------------------------------


def _repo_files() -> set[str]:
    return set((CORPUS / "FILES.txt").read_text().split())


# The one include in the sample that names a file the NeMo Gym repository does not have.
GENUINE_MISSING_INCLUDES = {
    ("benchmarks/nemotron_3_ultra/benchmarks_no_external.yaml", "benchmarks/ruler/config_nemotron_3_256k.yaml"),
}


@needs_corpus
def test_corpus_composes_and_resolves_without_problems_beyond_sample_gaps():
    files = sorted(CORPUS.rglob("*.yaml"))
    assert len(files) > 300
    repo_files = _repo_files()
    cache: dict = {}
    display = lambda p: p.relative_to(CORPUS).as_posix()  # noqa: E731
    missing = set()
    for file in files:
        c = compose([file], roots=[CORPUS], env=None, display=display, cache=cache)
        r = resolve(c, {})
        assert r.problems == [], (file, r.problems)
        for p in c.problems:
            assert p.rule == "config-include" and p.severity == Severity.ERROR, p
            entry = re.search(r"entry '([^']+)'", p.message).group(1)
            missing.add((p.path, entry))
    gaps = {m for m in missing if m[1] in repo_files}
    assert missing - gaps == GENUINE_MISSING_INCLUDES
    assert gaps  # the sample does leave out some included files


@needs_corpus
def test_corpus_benchmark_with_its_include_present(tmp_path):
    """math-500 composed with the real (sample-absent) include shape, as NeMo Gym would."""
    write(tmp_path, "resources_servers/math_with_judge/configs/math_with_judge.yaml", MATH)
    bench = tmp_path / "benchmarks/math-500/config.yaml"
    bench.parent.mkdir(parents=True)
    bench.write_text((CORPUS / "benchmarks/math-500/config.yaml").read_text())
    c = run(tmp_path, "benchmarks/math-500/config.yaml")
    assert c.problems == [] and c.unresolved == []
    assert set(c.data) == {"config_paths", "math_500_math_with_judge_resources_server", "math_500_math_with_judge_simple_agent"}


def _compose_both_ways(files, root, env, monkeypatch):
    """compose() as it runs (a union where it can) and with every merge done in full."""
    from gym_scaffold.config import compose as module

    quick = compose(files, roots=[root], env=env, display=lambda p: p.relative_to(root).as_posix())
    with monkeypatch.context() as patched:
        patched.setattr(module, "_union", lambda sources: None)
        full = compose(files, roots=[root], env=env, display=lambda p: p.relative_to(root).as_posix())
    return quick, full


@pytest.mark.parametrize("with_env", [False, True])
def test_union_shortcut_equals_a_full_merge_on_the_corpus(corpus_tree, tmp_path, monkeypatch, with_env):
    env = None
    if with_env:
        env_path = write(tmp_path, "env.yaml", "policy_base_url: https://api.example.com/v1\npolicy_api_key: x\n")
        env = load_env_file(env_path, "env.yaml")
    shortcuts = 0
    for path in sorted(corpus_tree.rglob("*.yaml")):
        if not path.stat().st_size:
            continue
        quick, full = _compose_both_ways([path], corpus_tree, env, monkeypatch)
        shortcuts += not isinstance(quick.origins, dict)
        assert quick.data == full.data, path
        assert dict(quick.origins) == dict(full.origins), path
        assert dict(quick.key_origins) == dict(full.key_origins), path
        assert quick.problems == full.problems and quick.env_keys == full.env_keys, path
    assert shortcuts > 100  # the shortcut is taken, so the comparison means something


def test_union_shortcut_not_taken_when_files_share_a_key(tmp_path, monkeypatch):
    write(tmp_path, "base.yaml", "policy_model:\n  responses_api_models:\n    openai_model: {a: 1}\n")
    top = write(
        tmp_path,
        "top.yaml",
        "config_paths: [base.yaml]\npolicy_model:\n  responses_api_models:\n    openai_model: {b: 2}\n",
    )
    quick, full = _compose_both_ways([top], tmp_path, None, monkeypatch)
    assert quick.data["policy_model"]["responses_api_models"]["openai_model"] == {"a": 1, "b": 2}
    assert quick.data == full.data and dict(quick.origins) == dict(full.origins)


# -- NeMo Gym's dummy_model merge -------------------------------------------------------


DUMMY = """
policy_model:
  responses_api_models:
    dummy_model:
      entrypoint: app.py
      openai_model: from_dummy
      extra_body: {a: 1, b: 2}
    openai_model:
      openai_model: own
      extra_body: {b: 3}
"""


def test_dummy_model_is_merged_under_the_other_implementation(tmp_path):
    write(tmp_path, "cfg.yaml", DUMMY)
    cache: dict = {}
    c = run(tmp_path, "cfg.yaml", cache=cache)
    model = c.data["policy_model"]["responses_api_models"]
    assert model == {"openai_model": {"entrypoint": "app.py", "openai_model": "own", "extra_body": {"a": 1, "b": 3}}}
    path = ("policy_model", "responses_api_models", "openai_model")
    assert c.origins[path + ("entrypoint",)].line == 4  # where the dummy wrote it
    assert c.origins[path + ("extra_body", "b")].line == 9
    assert c.problems == []
    # The document's own tree is shared by every config including it: left as it was.
    again = run(tmp_path, "cfg.yaml", cache=cache)
    assert again.data == c.data


def test_a_lone_dummy_model_stays(tmp_path):
    write(tmp_path, "cfg.yaml", "policy_model:\n  responses_api_models:\n    dummy_model:\n      entrypoint: app.py\n")
    c = run(tmp_path, "cfg.yaml")
    assert c.data["policy_model"]["responses_api_models"] == {"dummy_model": {"entrypoint": "app.py"}}
