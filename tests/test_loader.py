"""The loader: YAML 1.1 typing as NeMo Gym (OmegaConf) reads it, positions, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from gym_scaffold.config.loader import MAX_NODES, load_file, load_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("010", 8),  # YAML 1.1 octal
        ("08", "08"),
        ("0x1F", 31),
        ("0b101", 5),
        ("1_000", 1000),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("-.inf", float("-inf")),
        ("yes", True),
        ("on", True),
        ("Off", False),
        ("~", None),
        ("null", None),
        ("0o17", "0o17"),
        ("2024-01-01", "2024-01-01"),
        ("'010'", "010"),
        ('"yes"', "yes"),
        ("!!str 5", "5"),
        ("!!float 3", 3.0),
        ("???", "???"),
        ("??", "??"),
    ],
)
def test_scalars_are_typed_as_nemo_gym_reads_them(text, expected):
    doc = load_text(f"value: {text}\n", "t.yaml")
    assert doc.problems == []
    assert doc.data == {"value": expected}
    assert type(doc.data["value"]) is type(expected)


# Plain scalars made of what YAML 1.1 typing looks at: signs, digits, dots, exponents,
# underscores, colons, and the letters of null, booleans, .inf and .nan.
_PLAIN_SCALARS = st.text(alphabet="0123456789+-._:eEoxbnNyYtTfFlLsaAuUrRiI~", min_size=1, max_size=8)


@settings(max_examples=400, deadline=None)
@given(_PLAIN_SCALARS)
def test_plain_scalars_are_typed_as_omegaconf_types_them(text):
    source = f"value: {text}\n"
    try:
        parsed = yaml.safe_load(source)
    except yaml.YAMLError:
        return  # not a plain scalar in this position
    except ValueError:  # an integer PyYAML cannot read (`0x_`): we report it instead
        assert load_text(source, "t.yaml").problems
        return
    if not isinstance(parsed, dict) or "value" not in parsed:
        return
    expected = OmegaConf.to_container(OmegaConf.create(source))["value"]
    doc = load_text(source, "t.yaml")
    if doc.problems:  # an integer too long to read: PyYAML fails on it, and so do we
        return
    got = doc.data["value"]
    assert type(got) is type(expected)
    assert got == expected or (got != got and expected != expected)  # NaN


@pytest.mark.parametrize("text", ["0x_", "0b_", "-0x__", "+0b_"])
def test_an_integer_with_no_digits_is_reported_not_read(text):
    with pytest.raises(ValueError):
        yaml.safe_load(f"value: {text}\n")  # what NeMo Gym's loader does with it
    (problem,) = load_text(f"value: {text}\n", "t.yaml").problems
    assert problem.rule == "yaml-syntax" and "no digits" in problem.message and problem.line == 1


def test_positions_of_keys_and_values_are_one_based():
    doc = load_text("a:\n  b: [1, 2]\n  c: x\n", "t.yaml")
    assert doc.key_positions[("a", "b")] == (2, 3)
    assert doc.value_positions[("a", "b")] == (2, 6)
    assert doc.value_positions[("a", "b", 1)] == (2, 10)
    assert doc.position(("a", "missing")) == doc.value_positions[("a",)]


def _only_problem(doc):
    assert len(doc.problems) == 1, doc.problems
    return doc.problems[0]


def test_duplicate_key_points_at_the_second_one():
    problem = _only_problem(load_text("a: 1\nb: 2\na: 3\n", "t.yaml"))
    assert (problem.rule, problem.line, problem.column) == ("duplicate-key", 3, 1)
    assert "line 1" in problem.message


def test_tab_indentation():
    problem = _only_problem(load_text("a:\n\tb: 1\n", "t.yaml"))
    assert problem.rule == "yaml-syntax" and problem.line == 2
    assert "tab" in problem.message


def test_syntax_error_has_a_location():
    problem = _only_problem(load_text("a: [1,\nb: 2\n", "t.yaml"))
    assert problem.rule == "yaml-syntax" and problem.line >= 1


def test_several_documents():
    problem = _only_problem(load_text("a: 1\n---\nb: 2\n", "t.yaml"))
    assert "more than one YAML document" in problem.message


def test_custom_tags_are_refused_and_never_constructed(tmp_path):
    marker = tmp_path / "pwned"
    doc = load_text(f"x: !!python/object/apply:os.system ['touch {marker}']\n", "t.yaml")
    assert _only_problem(doc).rule == "yaml-tag"
    assert not marker.exists()


def test_merge_keys_explicit_keys_win():
    doc = load_text("base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n", "t.yaml")
    assert doc.data["child"] == {"x": 1, "y": 3}
    assert doc.key_positions[("child", "y")] == (4, 3)


def test_alias_bomb_is_bounded():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    doc = load_text("\n".join(lines) + "\n", "bomb.yaml")
    assert doc.data is None
    assert str(MAX_NODES) in _only_problem(doc).message


def test_deep_nesting_is_a_problem_not_a_crash():
    doc = load_text("a: " + "[" * 5000 + "]" * 5000 + "\n", "deep.yaml")
    assert doc.problems and doc.problems[0].rule == "yaml-syntax"


def test_utf8_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    doc = load_file(path)
    assert doc.problems == [] and doc.data == {"a": 1}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_is_refused_as_nemo_gym_reads_utf8(tmp_path, encoding):
    # OmegaConf.load opens every config as UTF-8: a UTF-16 file fails in NeMo Gym.
    path = tmp_path / "x.yaml"
    raw = "a: 1\n".encode(encoding)
    path.write_bytes(raw if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else b"\xfe\xff" + raw)
    problem = _only_problem(load_file(path))
    assert (problem.rule, problem.line) == ("yaml-syntax", 1) and "UTF-16" in problem.message


def test_invalid_utf8_and_binary(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: 1\nb: \xff\n")
    problem = _only_problem(load_file(bad))
    assert (problem.line, problem.column) == (2, 4) and "UTF-8" in problem.message
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\x00\x01\x02")
    assert "binary" in _only_problem(load_file(binary)).message


def test_unreadable_path_is_a_problem(tmp_path):
    problem = _only_problem(load_file(tmp_path / "missing.yaml"))
    assert problem.rule == "unreadable"


def test_empty_file_has_no_data_and_no_problem():
    doc = load_text("# only a comment\n", "t.yaml")
    assert doc.data is None and doc.problems == []


def test_corpus_loads(corpus_tree: Path):
    problems = []
    for path in corpus_tree.rglob("*.yaml"):
        problems += load_file(path, str(path.relative_to(corpus_tree))).problems
    # The one loader-level bug in the sample: a duplicate `datasets` key.
    assert [(p.path, p.rule) for p in problems] == [
        ("responses_api_agents/mini_swe_agent_2/configs/mini_swe_agent_2.yaml", "duplicate-key")
    ]


def test_without_libyaml_the_same_values_positions_and_problems(corpus_tree: Path, monkeypatch):
    from gym_scaffold.config import loader

    texts = [path.read_text() for path in sorted(corpus_tree.rglob("*.yaml")) if path.stat().st_size][:80]
    texts += ["a: [1, {b: yes}]\nc: &x {d: 010}\ne: *x\n<<: *x\n", "a: 1\na: 2\n", "a:\n\t- b\n", "a: !!int x\n"]
    with_libyaml = [loader.load_text(text, "t.yaml") for text in texts]
    monkeypatch.setattr(loader, "_Composer", loader._PythonComposer)
    for text, expected in zip(texts, with_libyaml, strict=True):
        got = loader.load_text(text, "t.yaml")
        assert (got.data, got.value_positions, got.key_positions) == (
            expected.data,
            expected.value_positions,
            expected.key_positions,
        )
        assert [(p.line, p.column, p.rule) for p in got.problems] == [
            (p.line, p.column, p.rule) for p in expected.problems
        ]



@pytest.mark.parametrize(("levels", "reported"), [(199, False), (200, True)])
def test_nesting_limit_counts_the_scalar_at_the_bottom(levels, reported):
    text = "".join(" " * i + f"a{i}:\n" for i in range(levels)) + " " * levels + "x: y\n"
    problems = load_text(text, "deep.yaml").problems
    assert [p.message for p in problems] == (["nesting deeper than 200 levels"] if reported else [])
