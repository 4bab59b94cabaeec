"""Property: `validate --fix` changes only the lines that had a problem.

Generated NeMo Gym configs with comments, blank lines, random indentation, quoting, CRLF
or LF, a BOM or not, a final newline or not, and some of the mistakes that have a fix.
In each round of fixes (safe and unsafe) every line without a problem stays identical and
the file keeps its number of lines; once done, a further --fix changes nothing.

Profiles: tests/hypothesis_profiles.py.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_profiles import PROFILE

from gym_scaffold.fix_run import plan, run_fix, write
from gym_scaffold.validate import ValidateOptions, Validator

CONFIG = "responses_api_models/openai_model/configs/openai_model.yaml"
FIXED = {"double-question-mark", "base-url", "server-shape", "unknown-key"}

comments = st.one_of(
    st.just(""),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=12).map(
        lambda text: "  # " + text
    ),
)


def quoted(value: str) -> st.SearchStrategy[str]:
    """`value` plain, 'single-quoted' or "double-quoted"."""
    return st.sampled_from([value, "'" + value + "'", '"' + value + '"'])


urls = st.sampled_from(
    [
        "${policy_base_url}",
        "https://api.openai.com/v1",
        "https://api.openai.com/v1/chat/completions",
        "http://localhost:8000/v1/responses/",
        "https://integrate.api.nvidia.com/v1/completions",
    ]
).flatmap(quoted)
keys = st.sampled_from(["${policy_api_key}", "??", "???"]).flatmap(quoted)
server_types = st.sampled_from(["responses_api_models", "responses_api_model", "responses_api_modles"])
extra = st.sampled_from(["", "max_concurrent_requests: 8", "max_concurent_requests: 8"])


@st.composite
def configs(draw: st.DrawFn) -> tuple[bytes, str]:
    indent = " " * draw(st.sampled_from([2, 4]))
    body = [
        ("", "entrypoint: app.py"),
        ("", f"openai_base_url: {draw(urls)}"),
        ("", f"openai_api_key: {draw(keys)}"),
        ("", "openai_model: gpt-4o-mini"),
    ]
    if line := draw(extra):
        body.insert(draw(st.integers(0, len(body))), ("", line))
    lines = []
    if draw(st.booleans()):
        lines.append("# a config" + draw(comments))
    lines.append("policy_model:" + draw(comments))
    lines.append(indent + draw(server_types) + ":" + draw(comments))
    lines.append(indent * 2 + "openai_model:" + draw(comments))
    for _, line in body:
        if draw(st.integers(0, 5)) == 0:
            lines.append(draw(st.sampled_from(["", indent * 3 + "# note"])))
        lines.append(indent * 3 + line + draw(comments))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    return bom + text.encode("utf-8"), newline


def run(root: Path) -> None:
    options = ValidateOptions(paths=[root / CONFIG], cwd=root, environ={}, use_cache=False, check_git=False)
    run_fix(options, unsafe=True, diff_only=False)


@settings(PROFILE)
@given(configs())
def test_lines_without_a_problem_stay_identical(generated):
    raw, newline = generated
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / ".git").mkdir()  # the root of the checkout, for discover (git itself is not asked)
        config = root / CONFIG
        config.parent.mkdir(parents=True)
        (config.parent.parent / "app.py").write_text("")
        (config.parent.parent / "requirements.txt").write_text("")
        config.write_bytes(raw)
        options = ValidateOptions(paths=[config], cwd=root, environ={}, use_cache=False, check_git=False)
        # Round by round, as --fix works: a fix may uncover a problem (a server type spelled
        # right gets its fields checked) that the next round fixes.
        for _ in range(5):
            before = config.read_bytes()
            validator = Validator(options)
            found = validator.run()
            problem_lines = {p.line for p in found.problems if p.path == CONFIG and p.line > 0}
            outcome, state = plan(validator, found, unsafe=True)
            write(outcome, state)
            after = config.read_bytes()
            if after == before:
                break
            assert after[:3] == before[:3] or not raw.startswith(b"\xef\xbb\xbf")
            before_lines = before.decode("utf-8").split(newline)
            after_lines = after.decode("utf-8").split(newline)
            assert len(after_lines) == len(before_lines)
            for number, (old, new) in enumerate(zip(before_lines, after_lines, strict=True), start=1):
                if number not in problem_lines:
                    assert new == old, (number, old, new)

        left = {p.rule for p in Validator(options).run().problems if p.path == CONFIG}
        assert not left & FIXED, left  # every mistake the generator makes has a fix

        run(root)
        assert config.read_bytes() == after  # a further --fix changes nothing
