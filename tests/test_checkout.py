"""A whole NeMo Gym checkout: references between configs, implementation directories,
ports, datasets, and the acceptance on the real sample (../shared/corpus)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from conftest import CORPUS
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_profiles import PROFILE

from gym_scaffold.checkout import build_index, scan_text
from gym_scaffold.config.model import SERVER_TYPES
from gym_scaffold.discover import CONFIG_DIRS
from gym_scaffold.validate import ValidateOptions, run_validate

# Every real bug of the corpus (its README, plus the two found since): file -> {(line, rule)}.
KNOWN_BUGS = {
    **{
        f"benchmarks/tau2/configs/{name}.yaml": {(10, "double-question-mark")}
        for name in ("tau2", "banking_alltools", "banking_bm25_grep_artificial_analysis", "banking_terminal_use")
    },
    "resources_servers/spartqa/configs/spartqa.yaml": {(24, "invalid-value"), (29, "invalid-value")},
    **{
        f"resources_servers/ns_tools/configs/ns_tools_{name}.yaml": {(3, "server-directory")}
        for name in ("arxiv", "coolprop", "particle", "periodictable", "radioactivedecay", "wikipedia")
    },
    "responses_api_agents/langgraph_agent/configs/reflection_agent.yaml": {(3, "server-directory")},
    "resources_servers/jailbreak_detection/configs/safety_judge_model.yaml": {
        (5, "placeholder-value"),
        (6, "placeholder-value"),
    },
    "responses_api_agents/mini_swe_agent_2/configs/mini_swe_agent_2.yaml": {(59, "duplicate-key")},
    "benchmarks/nemotron_3_ultra/benchmarks_no_external.yaml": {(9, "config-include")},
}


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


def test_index_follows_directives(tmp_path):
    (tmp_path / "a.yaml").write_text("base:\n  resources_servers:\n    x: {}\n")
    (tmp_path / "b.yaml").write_text("child:\n  _copy: base\ngrandchild:\n  _inherit_from: child\n")
    index = build_index([tmp_path / "a.yaml", tmp_path / "b.yaml"])
    assert index["grandchild"] == frozenset({"resources_servers"})


# -- the index scan against a line-by-line reference ---------------------------------------
# scan_text reads the lines that matter with one regex over the whole text. The reference is
# the line-by-line scan it replaced, kept here as the definition of what the index reads.

_REF_TOP = re.compile(r"^(?P<name>[A-Za-z0-9_][\w.\-]*)\s*:\s*(?P<rest>.*)$")
_REF_CHILD = re.compile(r"^(?P<indent>[ \t]+)(?P<key>[A-Za-z_][\w\-]*)\s*:\s*(?P<value>[^#]*)")
_REF_FLOW_TYPE = re.compile(r"\{\s*(" + "|".join(SERVER_TYPES) + r")\s*:")


def reference_scan(text: str) -> tuple[dict[str, set[str]], dict[str, str]]:
    types: dict[str, set[str]] = {}
    sources: dict[str, str] = {}
    current = child_indent = None
    for line in text.splitlines():
        if not line or line.lstrip().startswith("#"):
            continue  # blank and comment lines change nothing
        if line[0] not in " \t":  # a top-level line ends the block before it
            current, child_indent = None, None
            top = _REF_TOP.match(line)
            if top is None:
                continue
            rest = top.group("rest").split("#", 1)[0].strip()
            if not rest:
                current = top.group("name")
            elif flow := _REF_FLOW_TYPE.match(rest):
                types.setdefault(top.group("name"), set()).add(flow.group(1))
            continue
        if current is None or (child := _REF_CHILD.match(line)) is None:
            continue
        if child_indent is None:  # the block's first nested key sets the indentation of its keys
            child_indent = child.group("indent")
        if child.group("indent") != child_indent:
            continue
        key = child.group("key")
        if key in SERVER_TYPES:
            types.setdefault(current, set()).add(key)
        elif key in ("_inherit_from", "_copy"):
            value = child.group("value").strip().strip("'\"")
            if value:
                sources[current] = value.split(".")[0]
    return types, sources


# Every character str.splitlines breaks a line at ("\r\n" too counts as one break).
LINE_BREAKS = ["\n", "\x0b", "\x0c", "\r", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]

TRICKY_TEXTS = [
    "",
    "\n\n",
    "a:",
    "a:\n  responses_api_models: {}",  # no final line break
    # comment and blank lines, at the top level or indented, do not end a block
    "a:\n# note\n\n  resources_servers:\n    x: {}\n",
    "a:\n  # note\n   \n\t\n  _copy: b\n",
    "a:\n\xa0# a comment after a no-break space\n  resources_servers: {}\n",
    "a:\n \xa0# note\n  resources_servers: {}\n",
    # a line of whitespace other than spaces and tabs is a top-level line: it ends the block
    "a:\n\xa0\n  resources_servers: {}\n",
    "a:\n\u3000\n  resources_servers: {}\n",
    "a:\n\x1f \n  resources_servers: {}\n",
    "a:\n\xa0b:\n  resources_servers: {}\n",
    "a:\n  x: 1\n\xa0\n  resources_servers: {}\n",
    "a:\n  x: 1\n\xa0\n# note\n  resources_servers: {}\n",
    "a:\n  x: 1\n\u3000# note\n  resources_servers: {}\n",
    # tabs and spaces: only the indentation of the first nested key counts
    "a:\n\tresources_servers: {}\n",
    "a:\n  x: 1\n\tresources_servers: {}\n",
    "a:\n\tx: 1\n  resources_servers: {}\n\t_copy: b\n",
    "a:\n \tx: 1\n \tresources_servers: {}\n\t responses_api_agents: {}\n",
    # the first nested key: deeper and shallower keys after it are not the block's
    "a:\n    x: 1\n  resources_servers: {}\n",
    "a:\n  x:\n    responses_api_models: {}\n  _inherit_from: b\n",
    "a:\n  - item\n  resources_servers: {}\n",
    "a:\n      - item\n  resources_servers: {}\n",
    'a:\n  "quoted": 1\n    resources_servers: {}\n',
    "a:\n  ключ: 1\n    resources_servers: {}\n",
    "a:\n  _ключ: 1\n    resources_servers: {}\n",
    "a:\n  key without colon\n    resources_servers: {}\n",
    "a:\n  x : 1\n  _copy  : b\n",
    "a:\n  responses_api_models_2: {}\n  resources_servers-x: {}\n  _copy_of: b\n  __copy: c\n",
    "a:\n  resources_servers\xa0: {}\n",
    # nested keys outside a block
    "  responses_api_models: {}\na:\n  _copy: b\n",
    "a: 1\n  responses_api_models: {}\n",
    "- a:\n  responses_api_models: {}\n",
    "---\na:\n  resources_servers: {}\n---\n  responses_api_agents: {}\n",
    "a b:\n  resources_servers: {}\n",
    "'a':\n  resources_servers: {}\n",
    # top-level names
    "a.b-c_1:\n  resources_servers: {}\n9lives:\n  _copy: a.b-c_1\n_x:\n  _copy: 9lives\n",
    "ключ:\n  resources_servers: {}\n",
    "a::\n  resources_servers: {}\n",
    "a : \t# note\n  resources_servers: {}\n",
    "a:\xa0\n  resources_servers: {}\n",
    "a:\u3000# note\n  resources_servers: {}\n",
    "a\n:\n  resources_servers: {}\n",
    "a: b: c\n  resources_servers: {}\n",
    # flow style
    "a: {responses_api_models: {x: {}}}\n",
    "a:{ resources_servers : {}}\n",
    "a : {responses_api_agents:{}}  # note\n",
    "a: {x: 1, responses_api_models: {}}\n",
    "a: # {responses_api_models: {}}\n  _copy: b\n",
    "a: {responses_api_models # : {}}\n",
    "a: {responses_api_models\n",
    "a: [responses_api_models: {}]\n",
    "a: {responses_api_models: {}}\n  resources_servers: {}\n",
    # directive values: comments, quotes, sources split at the first dot
    "a:\n  _copy: b # note\n",
    "a:\n  _copy: # b\n",
    "a:\n  _copy:b\n",
    "a:\n  _inherit_from: 'b.c' # note\n",
    'a:\n  _inherit_from: "b.c.d"\n',
    "a:\n  _copy: ''\n",
    "a:\n  _copy: '\"'\n",
    "a:\n  _copy: .b\n",
    "a:\n  _copy: b\xa0# note\n",
    "a:\n  _copy:\xa0b\xa0\n",
    "a:\n  _copy: b c#d\n",
    "a:\n  _copy:\n    b\n",
    "a:\n  _copy: b\n  _inherit_from: c\na:\n  _copy: d\n",
    "a:\n  _copy: b\na:\n  x: 1\n",
    # line breaks other than "\n"
    "a:\r\n  responses_api_models: {}\r\nb:\r\n  _copy: a\r\n",
    "a:\r  responses_api_models: {}\rb:\r  _copy: a\r",
    "a:\r\r\n  responses_api_models: {}\n\rb:\n\r  _copy: a # x\r\n",
    "a:\n  _copy: b\r  c: 1\r\n  resources_servers: {}",
    "a:\n  _copy: 'b\x1c'\n",
    "a: {responses_api_models\x85: {}}\nb:\n  _copy: x\u2028  resources_servers: {}\n",
    "a:\x0b  resources_servers: {}\x0cb:\x1d\t_copy: a\x1e",
    # NUL characters
    "a:\n  resources_servers: {}\x00\n\x00b:\n  _copy: a\n",
]


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_scan_reads_tricky_texts_as_the_line_by_line_reference(text):
    assert scan_text(text) == reference_scan(text)


def test_tricky_texts_are_not_trivially_empty():
    # a scan that finds nothing would agree with the reference on the cases that find nothing
    found = [reference_scan(text) for text in TRICKY_TEXTS]
    assert sum(bool(types) for types, _ in found) > len(found) // 3
    assert sum(bool(sources) for _, sources in found) > len(found) // 4


@pytest.mark.parametrize("brk", LINE_BREAKS, ids=lambda c: f"U+{ord(c):04X}")
def test_scan_splits_lines_at_every_line_break_of_splitlines(brk):
    lines = ["a:", "  responses_api_models: {}", "b:", "  # note", "\t_copy: a", "c: {resources_servers: {}}"]
    text = brk.join(lines)
    assert scan_text(text) == reference_scan(text) == (
        {"a": {"responses_api_models"}, "c": {"resources_servers"}},
        {"b": "a"},
    )
    for breaks in (brk + "\n", "\n" + brk, brk + brk):
        assert scan_text(breaks.join(lines)) == reference_scan(breaks.join(lines))


def test_line_breaks_are_every_one_of_splitlines():
    every_character = "".join(map(chr, range(sys.maxunicode + 1)))
    assert [line[-1] for line in every_character.splitlines(keepends=True)][:-1] == LINE_BREAKS


@pytest.mark.parametrize(
    "text",
    [
        "a:\n" + "  # note\n" * 20_000 + "b: 1\n",
        "a:\n" + "  - item\n" * 20_000,
        "a:\n" + "\n" * 20_000 + "\xa0\n",
        "a:\n" + "# note\n  - item\n\n" * 10_000 + "  _copy: b\n",
        "a:\n" * 20_000,
        "a:\n  _copy" + " " * 20_000 + "b",
        "a" * 20_000 + " b:\n",
    ],
    ids=["comments", "items", "blank-lines", "mixed", "blocks", "spaces", "long-name"],
)
def test_scan_takes_linear_time_where_no_key_follows(text):
    # a regex that retries the lines before it in other ways would not finish
    assert scan_text(text) == reference_scan(text)


def _corpus_texts():
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    paths = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    assert paths
    return [(str(p.relative_to(CORPUS)), p.read_bytes().decode("utf-8", errors="replace")) for p in paths]


def test_scan_reads_every_corpus_file_as_the_line_by_line_reference():
    found = 0
    for rel, text in _corpus_texts():
        expected = reference_scan(text)
        found += len(expected[0]) + len(expected[1])
        assert scan_text(text) == expected, rel
        # the same file with other line breaks and tab indentation
        for variant in (text.replace("\n", "\r\n"), text.replace("\n", "\r"), text.replace("\n", "\u2028"),
                        text.replace("  ", "\t"), text.replace("\n", "\n\n# note\n")):
            assert scan_text(variant) == reference_scan(variant), rel
    assert found > 300  # the corpus defines hundreds of instances


def test_index_of_the_corpus_is_the_one_the_reference_scan_builds(monkeypatch):
    from gym_scaffold import checkout

    blobs = {Path(rel): text.encode() for rel, text in _corpus_texts()}
    index = build_index(blobs, blobs.get)
    monkeypatch.setattr(checkout, "scan_text", reference_scan)
    expected = build_index(blobs, blobs.get)
    assert len(expected) > 300 and index == expected


_LINE_PIECES = st.sampled_from(
    ["", " ", "  ", "\t", "\xa0", "\u3000", "\x1f", "#", ":", " : ", ": ", "{", "}", "'", '"', ".", "-", ",",
     "a", "b.c", "ключ", "_x", "1", *SERVER_TYPES, "_inherit_from", "_copy"]
)
_KEY_LINES = st.builds(
    lambda indent, key, value, comment: f"{indent}{key}:{value}{comment}",
    st.sampled_from(["", "", " ", "  ", "    ", "\t", " \t", "\xa0"]),
    st.sampled_from(["a", "b", "a.b", "x", "ключ", "_copy", "_inherit_from", *SERVER_TYPES]),
    st.sampled_from(["", " ", "\xa0", " b", " 'a.b'", ' "b"', " {}", " {resources_servers: {}}", " [a]", " 1"]),
    st.sampled_from(["", " # c", "#", " #: x", "\xa0#"]),
)
_LINE_BREAK_CHOICES = st.sampled_from(["\n", "\n", "\n", "\r\n", *LINE_BREAKS])
_TEXTS = st.lists(
    st.tuples(st.one_of(_KEY_LINES, st.lists(_LINE_PIECES, max_size=8).map("".join), st.text(max_size=6)),
              _LINE_BREAK_CHOICES),
    max_size=14,
).map(lambda lines: "".join(line + brk for line, brk in lines))


@settings(PROFILE)
@given(_TEXTS)
def test_scan_agrees_with_the_line_by_line_reference_on_generated_texts(text):
    assert scan_text(text) == reference_scan(text)


@settings(PROFILE)
@given(st.text())
def test_scan_agrees_with_the_line_by_line_reference_on_any_text(text):
    assert scan_text(text) == reference_scan(text)


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
