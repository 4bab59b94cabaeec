"""resolve(): OmegaConf interpolation without OmegaConf, checked against OmegaConf itself."""

from __future__ import annotations

import os
import textwrap
import time
import warnings

import pytest
from corpus_support import CORPUS, needs_corpus
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from gym_scaffold.config.compose import compose, load_env_file
from gym_scaffold.config.loader import load_file
from gym_scaffold.config.model import Composed, Origin, Unresolved
from gym_scaffold.config.resolve import resolve

ENV = {"SET_VAR": "42", "EMPTY_VAR": "", "URL_VAR": "http://h:1/v1"}


def resolve_data(data: dict, environ=ENV):
    return resolve(Composed(data=data), environ)


def omegaconf_value(data: dict, path: tuple):
    """('ok', value) or ('err', name) for OmegaConf reading `path` of `data`."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(ENV)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            node = OmegaConf.create(data)
            for key in path:
                node = node[key]
            if OmegaConf.is_config(node):
                node = OmegaConf.to_container(node, resolve=True)
        return ("ok", node)
    except Exception as exc:  # noqa: BLE001 - any OmegaConf failure
        return ("err", type(exc).__name__)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def ours(data: dict, path: tuple):
    r = resolve_data(data)
    if r.problems:
        return ("err", "problem")
    if any(d[: len(path)] == path for d in r.deferred):
        return ("err", "deferred")
    value = r.data
    for key in path:
        value = value[key]
    return ("ok", value)


def same(a, b) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "err":
        return True
    return a[1] == b[1] and type(a[1]) is type(b[1])


BASE = {"a": 3, "b": {"c": "deep"}, "l": [10, 20], "s": "10", "k": "a", "k2": "c", "n": None, "m": "???",
        "f": 1.5, "t": True, "nested": {"x": "${a}", "lst": [1, "${b.c}"]}}

EXPRESSIONS = [
    # node references, typed when alone, text inside a string
    "${a}", "${s}", "${f}", "${t}", "${n}", "x${a}y", "x${n}y", "x${t}y", "${a}${a}", "${ a }",
    "${b}", "${b.c}", "${b[c]}", "${l[0]}", "${l.1}", "${l[5]}", "x${b}", "x${l}", "x${nested}",
    "${nested}", "${nested.lst}", "${${k}}", "${b.${k2}}", "${[a]}", "${.a}", "${..a}",
    # missing things
    "${zz}", "${b.zz}", "${m}", "x${m}", "${a.b}", "${n.x}", "${judge_*}",
    # oc.env
    "${oc.env:SET_VAR}", "${oc.env:NOPE}", "${oc.env:NOPE,5}", "${oc.env:NOPE,null}", "${oc.env:NOPE,''}",
    '${oc.env:NOPE,""}', "${oc.env:NOPE,${a}}", "${oc.env:SET_VAR,${zz}}", "${oc.env:NOPE,true}",
    "${oc.env:NOPE,1.5}", "${oc.env:NOPE,a b}", "${oc.env:NOPE, a b }", "${oc.env:NOPE,http://x:8/v1}",
    "${oc.env:NOPE,127.0.0.1}", "${oc.env:NOPE,01}", "${oc.env:NOPE,1_000}", "${oc.env:NOPE,1e3}",
    "${oc.env:NOPE,inf}", "${oc.env:NOPE,.5}", "${oc.env:NOPE,1.}", "${oc.env:NOPE,0x10}",
    "${oc.env:NOPE,'${a}'}", "${oc.env:NOPE,[1,2]}", "${oc.env:NOPE,[a,[b,c]]}", "${oc.env:NOPE,{k:1}}",
    "${oc.env:NOPE,{a: [1]}}", "${oc.env:NOPE,-}", "${oc.env:NOPE,a-b}", "${oc.env:NOPE,a?|}",
    "${oc.env:NOPE,'it\\'s'}", "${oc.env:NOPE,\\,}", "${oc.env:NOPE,a\\ b}", '${oc.env:NOPE,"a,b"}',
    "${oc.env:NOPE,a:b}", "${oc.env:NOPE,${oc.env:SET_VAR}}", "${oc.env:EMPTY_VAR,d}", "${oc.env:URL_VAR}",
    "${oc.env:NOPE,,}", "${oc.env:NOPE,}", "${oc.env:}", "${oc.env:NOPE,'x'}${a}", "${oc.env:NOPE,'\\\\'}",
    '${oc.env:NOPE,"${a}\\\\"}', "pre ${oc.env:NOPE,1} ${a} post", "${oc.env:SET_VAR}${oc.env:SET_VAR}",
    "${oc.env:NOPE,${oc.env:NOPE2,${oc.env:NOPE3,deep}}}",
    # oc.select
    "${oc.select:a,5}", "${oc.select:zz,5}", "${oc.select:zz}", "${oc.select:m,7}", "${oc.select:n,7}",
    "${oc.select:b.c}", "${oc.select:b.zz,${a}}", "${oc.select:judge_*,1}", "${oc.select:zz,${zz}}",
    "${oc.select:.a,3}", "${oc.select:..a,3}", "${oc.select:zz,null}", "${oc.select:zz,{x: 1, y: [2]}}",
    "${oc.select:zz,[1, {z: 3}]}", "pre ${oc.select:zz,{x: 1}}", "${oc.select:a,{x: 1}}", "${oc.select:zz,[${a}]}",
    # other resolvers
    "${oc.decode:'1'}", "${oc.decode:'[1, ${a}]'}", "${oc.create:{a: 1}}", "${foo:bar}", "${my-res:1}",
    "${oc.dict.keys:b}",
    # escapes and plain text with $
    "\\${a}", "\\\\${a}", "a\\\\b\\${a}", "q\\\\", "q\\\\\\${a}", "$a {x} $", "$${a}", "${a}$",
    # malformed
    "${unclosed", "${}", "${.}", "${a.}", "${a }x", "${a b}", "${oc.env:NOPE,#}", "${oc.env:NOPE,é}",
    "${é}", "${oc.env:NOPE,'a'b}", "${a${b}}", "}${a", "${oc.env:NOPE,[1,2}",
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_expression_matches_omegaconf(expression):
    data = dict(BASE, v=expression)
    expected = omegaconf_value(data, ("v",))
    got = ours(data, ("v",))
    assert same(expected, got), (expected, got)


@pytest.mark.parametrize("expression", ["${nested.x}", "${nested.lst[1]}"])
def test_values_inside_a_referenced_container_resolve_where_they_were_written(expression):
    data = dict(BASE, v=expression)
    assert same(omegaconf_value(data, ("v",)), ours(data, ("v",)))


def test_relative_interpolations():
    data = {"x": {"v": "${.a}", "a": 1, "up": "${..top}", "y": {"w": "${..a}"}}, "top": "T", "lst": ["${..top}"]}
    r = resolve_data(data)
    assert r.problems == [] and not r.deferred
    assert r.data == {"x": {"v": 1, "a": 1, "up": "T", "y": {"w": 1}}, "top": "T", "lst": ["T"]}
    assert OmegaConf.to_container(OmegaConf.create(data), resolve=True) == r.data


# -- hypothesis: random small configs against OmegaConf ---------------------------------

_KEYS = ["a", "b", "c", "d"]
_refs = st.sampled_from(_KEYS + ["zz", "b.a", "b.c", "d.a"])
_leaf = st.one_of(
    st.integers(-3, 30),
    st.sampled_from(["text", "???", "", "x y", None, True, 2.5]),
    _refs.map(lambda k: "${" + k + "}"),
    _refs.map(lambda k: "<${" + k + "}>"),
    st.tuples(_refs, _refs).map(lambda t: "${" + t[0] + "}:${" + t[1] + "}"),
    st.tuples(_refs, st.sampled_from(["7", "null", "''", "${a}", "x"])).map(
        lambda t: "${oc.select:" + t[0] + "," + t[1] + "}"
    ),
    st.sampled_from(["SET_VAR", "NOPE", "EMPTY_VAR"]).flatmap(
        lambda var: st.sampled_from(["${oc.env:" + var + "}", "${oc.env:" + var + ",dflt}", "${oc.env:" + var + ",${a}}"])
    ),
)
_config = st.dictionaries(
    st.sampled_from(_KEYS),
    st.one_of(_leaf, st.dictionaries(st.sampled_from(_KEYS), _leaf, max_size=3)),
    max_size=4,
)


@settings(max_examples=200, deadline=None)
@given(_config)
def test_random_configs_match_omegaconf(data):
    r = resolve_data(data)
    for key, value in data.items():
        paths = [(key, k) for k in value] if isinstance(value, dict) else [(key,)]
        for path in paths:
            expected = omegaconf_value(data, path)
            raw = data[path[0]] if len(path) == 1 else data[path[0]][path[1]]
            if any(d[: len(path)] == path for d in r.deferred):
                got = ("err", "deferred")
            elif isinstance(raw, str) and raw == "???":
                got = ("err", "mandatory")
            else:
                got = ("ok", r.data[path[0]] if len(path) == 1 else r.data[path[0]][path[1]])
            if expected[0] == "ok" and isinstance(expected[1], (dict, list)) and "'???'" in repr(expected[1]):
                expected = ("err", "holds ???")  # deferred here, like any `???`
            broken = bool(r.problems) and expected[0] == "err"
            # Known, deliberate difference: OmegaConf hands a referenced container over
            # unresolved (printed in text, passed to a resolver), so a reference back out of
            # it is no error there; we resolve containers eagerly and report the cycle.
            broken = broken or (any("cycle" in p.message for p in r.problems) and expected[0] == "ok")
            assert broken or same(expected, got), (path, expected, got, r.problems)


# -- deferred and Unresolved -----------------------------------------------------------


def test_unresolved_kinds_and_deferred_text():
    data = {
        "url": "http://${host}:${port}/v1",
        "port": 8000,
        "key": "${policy_api_key}",
        "token": "${oc.env:HF_TOKEN}",
        "needed": "???",
        "uses_needed": "${needed}",
        "chained": "${key}",
        "nested": {"deep": "${judge.base_url}"},
    }
    r = resolve_data(data, environ={})
    assert r.problems == []
    assert r.data["url"] == "http://${host}:${port}/v1"  # kept as written
    assert r.data["port"] == 8000
    assert r.deferred == {("url",), ("key",), ("token",), ("needed",), ("uses_needed",), ("chained",), ("nested", "deep")}
    assert set(r.unresolved) == {
        Unresolved(("url",), "${host}", "host", "key"),
        Unresolved(("key",), "${policy_api_key}", "policy_api_key", "key"),
        Unresolved(("token",), "${oc.env:HF_TOKEN}", "HF_TOKEN", "env"),
        Unresolved(("uses_needed",), "${needed}", "needed", "missing"),
        Unresolved(("nested", "deep"), "${judge.base_url}", "judge.base_url", "key"),
    }  # `chained` only depends on a deferred value: no Unresolved of its own


def test_env_var_from_environ_and_defaults():
    data = {"a": "${oc.env:SET_VAR}", "b": "${oc.env:NOPE,fallback}", "c": "${oc.env:NOPE,null}",
            "port": "${oc.env:NOPE,6000}"}
    r = resolve_data(data)
    assert r.data == {"a": "42", "b": "fallback", "c": None, "port": "6000"}
    assert not r.deferred and not r.unresolved


def test_env_yaml_values_are_seen(tmp_path):
    (tmp_path / "cfg.yaml").write_text(textwrap.dedent("""
        policy_model:
          responses_api_models:
            openai_model:
              openai_base_url: ${policy_base_url}
              openai_api_key: ${policy_api_key}
              openai_model: ${policy_model_name}
              port: ${oc.select:judge_port,${port}}
    """))
    (tmp_path / "env.yaml").write_text("policy_base_url: https://api.openai.com/v1\npolicy_model_name: gpt-4o\nport: 9000\n")
    env = load_env_file(tmp_path / "env.yaml", "env.yaml")
    c = compose([tmp_path / "cfg.yaml"], roots=[tmp_path], env=env, display=lambda p: p.name)
    r = resolve(c, {})
    body = r.data["policy_model"]["responses_api_models"]["openai_model"]
    assert body["openai_base_url"] == "https://api.openai.com/v1"
    assert body["openai_model"] == "gpt-4o"
    assert body["port"] == 9000  # int stays int
    assert body["openai_api_key"] == "${policy_api_key}"
    [u] = r.unresolved
    assert u.key == "policy_api_key" and u.path == ("policy_model", "responses_api_models", "openai_model", "openai_api_key")


def test_container_reference_copies_and_defers_inner_parts():
    r = resolve_data({"src": {"ok": 1, "later": "${nothere}"}, "dst": "${src}"})
    assert r.data["dst"] == {"ok": 1, "later": "${nothere}"}
    assert ("src", "later") in r.deferred and ("dst", "later") in r.deferred
    assert len(r.unresolved) == 1


# -- problems --------------------------------------------------------------------------


def _with_origins(data: dict) -> Composed:
    c = Composed(data=data)
    for i, key in enumerate(data, start=1):
        c.origins[(key,)] = Origin("cfg.yaml", i, 4)
    return c


def test_cycles_are_problems_not_hangs():
    r = resolve(_with_origins({"a": "${b}", "b": "${a}", "self": "x${self}", "c": "${a}"}), {})
    assert {(p.line, p.rule) for p in r.problems} == {(1, "interpolation"), (2, "interpolation"), (3, "interpolation")}
    assert all("cycle" in p.message for p in r.problems)
    assert r.data["c"] == "${a}" and ("c",) in r.deferred


def test_malformed_interpolation_is_a_problem_at_the_value():
    r = resolve(_with_origins({"ok": 1, "bad": "http://${host"}), {})
    [p] = r.problems
    assert (p.path, p.line, p.column, p.rule) == ("cfg.yaml", 2, 4, "interpolation")
    assert r.data["bad"] == "http://${host"


def test_unknown_resolver_and_scalar_traversal_are_problems():
    r = resolve(_with_origins({"a": "${nope:x}", "s": "str", "b": "${s.x}"}), {})
    assert [p.line for p in r.problems] == [1, 3]


def test_deep_chain_is_bounded():
    n = 5000
    data = {f"k{i}": f"${{k{i + 1}}}" for i in range(n)}
    data[f"k{n}"] = 1
    start = time.perf_counter()
    r = resolve_data(data)
    assert time.perf_counter() - start < 5
    assert r.data[f"k{n - 1}"] == 1
    assert r.problems or r.data["k0"] == 1  # either resolved or reported, never RecursionError


def test_exponential_expansion_is_bounded():
    data = {"l0": "xxxxxxxxxx"}
    for i in range(1, 40):
        data[f"l{i}"] = f"${{l{i - 1}}}${{l{i - 1}}}"
    start = time.perf_counter()
    r = resolve_data(data)
    assert time.perf_counter() - start < 5
    assert r.problems and all(p.rule == "interpolation" for p in r.problems)


def test_huge_string_is_fine():
    text = "${a}-" * 20000 + "${oc.env:NOPE,x}"
    r = resolve_data({"a": 1, "v": text})
    assert r.data["v"] == "1-" * 20000 + "x"


def test_deep_nesting_is_a_problem():
    text = "${oc.env:N," * 200 + "x" + "}" * 200
    r = resolve_data({"v": text})
    assert r.problems and r.data["v"] == text


# -- the corpus ------------------------------------------------------------------------


@needs_corpus
def test_corpus_resolves_fast_and_without_problems():
    files = sorted(CORPUS.rglob("*.yaml"))
    display = lambda p: p.relative_to(CORPUS).as_posix()  # noqa: E731
    cache = {f: load_file(f, display(f)) for f in files}
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for file in files:
            r = resolve(compose([file], roots=[CORPUS], env=None, display=display, cache=cache), {})
            assert r.problems == [], (file, r.problems)
        best = min(best, time.perf_counter() - start)
    assert best < 1.0  # typically ~0.1 s; generous for slow CI machines


def test_a_container_as_oc_env_default_is_text_as_written_like_omegaconf():
    data = {"b": 0, "c": "${oc.env:NOPE,${a}}", "a": {"a": "${b}"}}
    assert resolve_data(data).data["c"] == omegaconf_value(data, ("c",))[1] == "{'a': '${b}'}"
