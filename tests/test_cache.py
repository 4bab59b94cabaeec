"""The result cache answers exactly what a fresh run would: everything an outcome depends
on is recorded where it is read (the resolver's environment, the view's file system and
checkout index), never guessed from the file's text."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_profiles import PROFILE

from gym_scaffold.validate import ValidateOptions, run_validate

IMPL = "responses_api_models/openai_model"
CONFIG = f"{IMPL}/configs/openai_model.yaml"

BODY = """\
policy_model:
  responses_api_models:
    openai_model:
      entrypoint: app.py
      port: {port}
      openai_base_url: https://api.openai.com/v1
      openai_api_key: ???
      openai_model: gpt-4o-mini
"""


def tree(root: Path, port: str, *, implementation: bool = True) -> Path:
    if implementation:
        (root / IMPL).mkdir(parents=True, exist_ok=True)
        (root / IMPL / "app.py").write_text("")
        (root / IMPL / "requirements.txt").write_text("nemo-gym\n")
    (root / IMPL / "configs").mkdir(parents=True, exist_ok=True)
    (root / CONFIG).write_text(BODY.format(port=port))
    return root


def problems(root: Path, environ: dict[str, str], *, cache: Path | None) -> list[tuple]:
    environ = {**environ, "XDG_CACHE_HOME": str(cache)} if cache else dict(environ)
    options = ValidateOptions(cwd=root, environ=environ, check_git=False, use_cache=cache is not None)
    found = run_validate(options).problems
    return sorted((p.path, p.line, p.column, p.rule, p.message, p.hint) for p in found if p.severity.value != "note")


def rules(found: list[tuple]) -> set[str]:
    return {problem[3] for problem in found}


def test_a_quoted_oc_env_variable_is_followed(tmp_path):
    root = tree(tmp_path / "repo", '${oc.env:"MYPORT"}')
    cache = tmp_path / "cache"
    assert "invalid-value" in rules(problems(root, {"MYPORT": "99999"}, cache=cache))
    assert problems(root, {"MYPORT": "8000"}, cache=cache) == problems(root, {"MYPORT": "8000"}, cache=None) == []
    assert "invalid-value" in rules(problems(root, {"MYPORT": "99999"}, cache=cache))


def test_a_variable_named_by_another_variable_is_followed(tmp_path):
    # Which variable is read depends on another one: no reading of the text can know it.
    root = tree(tmp_path / "repo", "${oc.env:${oc.env:WHICH,A}}")
    cache = tmp_path / "cache"
    assert problems(root, {"A": "8000"}, cache=cache) == []
    assert "invalid-value" in rules(problems(root, {"A": "99999"}, cache=cache))
    assert "invalid-value" in rules(problems(root, {"WHICH": "B", "A": "8000", "B": "99999"}, cache=cache))


def test_an_implementation_directory_that_appears_is_seen(tmp_path):
    root = tree(tmp_path / "repo", "8000", implementation=False)
    cache = tmp_path / "cache"
    assert "server-directory" in rules(problems(root, {}, cache=cache))
    (root / IMPL / "app.py").write_text("")
    (root / IMPL / "requirements.txt").write_text("nemo-gym\n")
    assert problems(root, {}, cache=cache) == problems(root, {}, cache=None) == []


def test_a_did_you_mean_follows_the_directories_beside_it(tmp_path):
    root = tree(tmp_path / "repo", "8000")
    config = root / "benchmarks" / "b" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(BODY.format(port="8000").replace("    openai_model:\n", "    openai_modl_x:\n", 1))
    cache = tmp_path / "cache"
    assert any("did you mean 'openai_model'" in (p[5] or "") for p in problems(root, {}, cache=cache))
    (root / "responses_api_models" / "openai_modl_y").mkdir()  # a nearer name appears
    assert problems(root, {}, cache=cache) == problems(root, {}, cache=None)
    assert any("did you mean 'openai_modl_y'" in (p[5] or "") for p in problems(root, {}, cache=cache))


PORTS = st.sampled_from(["8000", "99999", "${oc.env:P}", '${oc.env:"P"}', "${oc.env:P,8000}", "${oc.env:'Q',99999}"])
VALUES = st.one_of(st.none(), st.sampled_from(["8000", "99999", "0", "x"]))


@settings(PROFILE, deadline=None)
@given(
    port=PORTS,
    before=st.fixed_dictionaries({"P": VALUES, "Q": VALUES}),
    after=st.fixed_dictionaries({"P": VALUES, "Q": VALUES}),
    implementation=st.tuples(st.booleans(), st.booleans()),
)
def test_a_cached_run_reports_what_an_uncached_one_does(tmp_path_factory, port, before, after, implementation):
    base = tmp_path_factory.mktemp("cache-property")
    root = tree(base / "repo", port, implementation=implementation[0])
    cache = base / "cache"
    first = {name: value for name, value in before.items() if value is not None}
    second = {name: value for name, value in after.items() if value is not None}
    assert problems(root, first, cache=cache) == problems(root, first, cache=None)
    if implementation[1] and not implementation[0]:  # the directory appears between runs
        tree(root, port)
    assert problems(root, second, cache=cache) == problems(root, second, cache=None)


def test_rules_ask_the_file_system_only_through_the_view():
    """What a rule reads outside the view goes unrecorded, and the cache would answer
    stale: every file-system or environment question goes through ConfigView. (The
    schema deriver, in schemas.py, hands the sources it read to `view.files_read`.)"""
    import re

    import gym_scaffold

    package = Path(gym_scaffold.__file__).parent
    direct = re.compile(
        r"os\.path\.(?:isdir|isfile|exists|getsize)|os\.(?:scandir|listdir|stat|environ|getenv)\b"
        r"|(?<!view)\.(?:is_dir|is_file|exists|glob|rglob|iterdir|read_text|read_bytes)\(|\bopen\("
    )
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted((package / "rules").glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if direct.search(line)
    ]
    assert offenders == []
