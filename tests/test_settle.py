"""Adopting validate on a repository: project configuration, inline suppressions and the
baseline (gym_scaffold/settle/), run through the real CLI on real files."""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import _clean_env, run_cli
from git_support import git, make_repo, needs_git
from test_validate_cli import CONFIG, KEY, model_config, write_tree

from gym_scaffold.settle.baseline import _hashable, key_path
from gym_scaffold.settle.globs import GlobError, compile_glob

BAD_URL = "https://api.openai.com/v1/chat/completions"
OTHER = "responses_api_models/openai_model/configs/other.yaml"
BENCH = "benchmarks/bench/config.yaml"


@pytest.fixture
def validate(tmp_path):
    """Run `gym-scaffold validate ARGS` in `cwd` with a cache of this test's own."""
    cache = tmp_path / "xdg-cache"

    def run(*args: str, cwd: Path):
        return run_cli("validate", *args, cwd=cwd, env=_clean_env(XDG_CACHE_HOME=str(cache), NO_COLOR="1"))

    return run


def lines_with(proc, rule: str) -> list[str]:
    return [line for line in proc.stdout.splitlines() if line.endswith(f"[{rule}]")]


def pyproject(root: Path, table: str) -> None:
    (root / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n[tool.gym-scaffold]\n{table}')


def bad_url_tree(root: Path, **extra: str) -> Path:
    return write_tree(root, {CONFIG: model_config(base_url=BAD_URL), **extra})


# --- project configuration -------------------------------------------------------------


def test_without_configuration_the_problem_is_reported(tmp_path, validate):
    proc = validate(cwd=bad_url_tree(tmp_path))
    assert proc.returncode == 1
    assert lines_with(proc, "base-url")


def test_ignore_turns_a_rule_off(tmp_path, validate):
    root = bad_url_tree(tmp_path)
    pyproject(root, 'ignore = ["base-url"]\n')
    proc = validate(cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not lines_with(proc, "base-url")


def test_select_keeps_only_the_named_rules(tmp_path, validate):
    root = write_tree(tmp_path, {CONFIG: model_config(base_url=BAD_URL, api_key="??")})
    pyproject(root, 'select = ["double-question-mark"]\n')
    proc = validate(cwd=root)
    assert proc.returncode == 1
    assert lines_with(proc, "double-question-mark") and not lines_with(proc, "base-url")


def test_per_file_ignores_apply_to_matching_files_only(tmp_path, validate):
    root = bad_url_tree(tmp_path, **{OTHER: model_config(base_url=BAD_URL).replace("policy_model", "other_model")})
    pyproject(root, '[tool.gym-scaffold.per-file-ignores]\n"**/other.yaml" = ["base-url"]\n')
    proc = validate(cwd=root)
    assert [line.split(":")[0] for line in lines_with(proc, "base-url")] == [CONFIG]


def test_exclude_never_checks_a_path_even_when_named(tmp_path, validate):
    root = bad_url_tree(tmp_path, **{"resources_servers/legacy/configs/broken.yaml": "a: [\n"})
    pyproject(root, 'exclude = ["resources_servers/legacy", "openai_model.yaml"]\n')
    proc = validate("--format", "json", cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["files_checked"] == []
    assert [p for p in report["problems"] if p["severity"] != "note"] == []
    named = validate(CONFIG, cwd=root)  # as pre-commit passes it
    assert named.returncode == 0 and not lines_with(named, "base-url")


def test_severity_changes_errors_to_warnings_and_strict_makes_them_count(tmp_path, validate):
    root = bad_url_tree(tmp_path)
    pyproject(root, 'severity = {"base-url" = "warning"}\n')
    proc = validate(cwd=root)
    assert proc.returncode == 0
    assert lines_with(proc, "base-url")[0].startswith(f"{CONFIG}:5:24: warning:")
    pyproject(root, 'severity = {"base-url" = "warning"}\nstrict = true\n')
    assert validate(cwd=root).returncode == 1


def test_severity_off_hides_the_rule(tmp_path, validate):
    root = bad_url_tree(tmp_path)
    pyproject(root, 'severity = {"base-url" = "off"}\n')
    assert validate(cwd=root).returncode == 0


def test_a_configuration_change_is_seen_by_a_cached_run(tmp_path, validate):
    # settling happens after the result cache: the cached problem is settled afresh
    root = bad_url_tree(tmp_path)
    assert validate(cwd=root).returncode == 1
    pyproject(root, 'ignore = ["base-url"]\n')
    assert validate(cwd=root).returncode == 0
    pyproject(root, "")
    assert lines_with(validate(cwd=root), "base-url")


def test_a_parsed_configuration_is_remembered_and_a_damaged_memo_parsed_again(tmp_path):
    root = bad_url_tree(tmp_path / "repo")
    env = _clean_env(XDG_CACHE_HOME=str(tmp_path / "cache"), NO_COLOR="1", PYTHONPROFILEIMPORTTIME="1")
    assert run_cli("validate", "--baseline", "b.json", "--update-baseline", cwd=root, env=env).returncode == 0
    pyproject(root, 'ignore = ["base-url"]\nbaseline = "b.json"\n')
    first = run_cli("validate", cwd=root, env=env)
    assert first.returncode == 0 and "| tomllib" in first.stderr and "| json" in first.stderr
    second = run_cli("validate", cwd=root, env=env)
    assert second.returncode == 0, second.stderr
    assert "| tomllib" not in second.stderr and "| json" not in second.stderr  # both remembered
    (memo,) = (tmp_path / "cache" / "gym-scaffold" / "parsed").glob("pyproject-*")
    for damaged in (b"", b"\xe9", memo.read_bytes()[:5], marshal.dumps(7)):
        memo.write_bytes(damaged)
        proc = run_cli("validate", cwd=root, env=env)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    pyproject(root, 'ignore = ["base-ur"]\n')  # new bytes: parsed and checked afresh
    assert run_cli("validate", cwd=root, env=env).returncode == 2


def test_gym_scaffold_toml_is_read_without_pyproject(tmp_path, validate):
    root = bad_url_tree(tmp_path)
    (root / ".gym-scaffold.toml").write_text('ignore = ["base-url"]\n')
    assert validate(cwd=root).returncode == 0


def test_command_line_select_and_ignore(tmp_path, validate):
    root = write_tree(tmp_path, {CONFIG: model_config(base_url=BAD_URL, api_key="??")})
    proc = validate("--ignore", "base-url,double-question-mark", cwd=root)
    assert proc.returncode == 0, proc.stdout
    proc = validate("--select", "base-url", cwd=root)
    assert lines_with(proc, "base-url") and not lines_with(proc, "double-question-mark")
    proc = validate("--select", "base-urls", cwd=root)
    assert proc.returncode == 2
    assert "--select: error: unknown rule 'base-urls'; did you mean 'base-url'?" in proc.stderr


def test_output_file_takes_the_report_in_every_format(tmp_path, validate):
    root = bad_url_tree(tmp_path)
    for fmt in ("text", "json", "github", "sarif"):
        target = tmp_path / f"report.{fmt}"
        proc = validate("--format", fmt, "--output-file", str(target), cwd=root)
        assert proc.returncode == 1 and proc.stdout == ""
        assert "base-url" in target.read_text()
    sarif = json.loads((tmp_path / "report.sarif").read_text())
    rules = {rule["id"]: rule for rule in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["base-url"]["helpUri"].endswith("docs/rules.md#base-url")


# --- configuration errors, at their place -------------------------------------------------


@pytest.mark.parametrize(
    ("table", "where", "message"),
    [
        ('ignore = ["base-url"]\nignor = ["x"]\n', "6:1", "unknown key 'ignor'; did you mean 'ignore'?"),
        ('ignore = [\n  "base-url",\n  "base-ulr",\n]\n', "7:3", "unknown rule 'base-ulr'; did you mean 'base-url'?"),
        ('exclude = ["ok/**", "[abc"]\n', "5:21", "bad glob '[abc' in exclude: a '[' without its ']'"),
        ('exclude = ["/abs/path"]\n', "5:12", "bad glob '/abs/path' in exclude"),
        ('severity = {"base-url" = "fatal"}\n', "5:13", "severity of base-url must be one of error, warning, off"),
        ('severity = {"bse-url" = "off"}\n', "5:13", "unknown rule 'bse-url'"),
        ("strict = 1\n", "5:1", "strict must be true or false"),
        ("[tool.gym-scaffold.per-file-ignores]\n\"b/**\" = [\"nope\"]\n", "6:11", "unknown rule 'nope'"),
        ("ignore = [\n", "6:1", "not valid TOML"),
    ],
)
def test_configuration_errors_are_reported_at_their_line_and_exit_2(tmp_path, validate, table, where, message):
    root = bad_url_tree(tmp_path)
    pyproject(root, table)
    proc = validate(cwd=root)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"pyproject.toml:{where}: error: {message}" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    rules = run_cli("rules", cwd=root)  # `rules` shows severities under the same config
    assert rules.returncode == 2 and f"pyproject.toml:{where}: error:" in rules.stderr


def test_another_tools_pyproject_is_left_alone_even_when_broken(tmp_path, validate):
    root = bad_url_tree(tmp_path)
    (root / "pyproject.toml").write_text('[project]\nname = "nemo-gym"\n[tool.ruff\n')
    proc = validate(cwd=root)
    assert proc.returncode == 1 and lines_with(proc, "base-url"), proc.stderr


def test_unreadable_configuration_is_an_error(tmp_path, validate):
    root = bad_url_tree(tmp_path)
    (root / ".gym-scaffold.toml").write_bytes(b"ignore = ['\xff']\n")
    proc = validate(cwd=root)
    assert proc.returncode == 2 and ".gym-scaffold.toml: error: cannot read" in proc.stderr


def test_two_configuration_files_are_an_error(tmp_path, validate):
    root = bad_url_tree(tmp_path)
    pyproject(root, "strict = true\n")
    (root / ".gym-scaffold.toml").write_text("strict = false\n")
    proc = validate(cwd=root)
    assert proc.returncode == 2 and "keep one" in proc.stderr


def test_rules_shows_effective_severities_with_their_reason(tmp_path):
    root = bad_url_tree(tmp_path)
    pyproject(root, 'ignore = ["server-port"]\nseverity = {"unknown-key" = "warning"}\n')
    proc = run_cli("rules", cwd=root)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert next(line for line in lines if line.startswith("server-port ")).split()[1:3] == ["off", "(ignore)"]
    assert next(line for line in lines if line.startswith("unknown-key ")).split()[1:3] == ["warning", "(severity)"]
    missing = lines.index(next(line for line in lines if line.startswith("missing-key ")))
    assert "warning for an implementation key when a file is checked on its own" in lines[missing + 1]
    assert "error in a --config run" in lines[missing + 1]
    entries = json.loads(run_cli("rules", "--format", "json", cwd=root).stdout)["rules"]
    port = next(entry for entry in entries if entry["id"] == "server-port")
    assert (port["severity"], port["effective_severity"], port["configured_by"]) == ("error", "off", "ignore")


# --- inline suppressions ------------------------------------------------------------------


def suppressed_config(comment_line: str = "", same_line: str = "", top: str = "") -> str:
    text = model_config(base_url=BAD_URL)
    url_line = f"      openai_base_url: {BAD_URL}"
    replacement = (comment_line + "\n" if comment_line else "") + url_line + (f"  {same_line}" if same_line else "")
    return top + text.replace(url_line, replacement)


@pytest.mark.parametrize(
    "config",
    [
        suppressed_config(same_line="# gym-scaffold: ignore[base-url]"),
        suppressed_config(same_line="# gym-scaffold: ignore[unknown-key, base-url]  # why: legacy"),
        suppressed_config(comment_line="      # gym-scaffold: ignore[base-url]"),
        suppressed_config(top="# gym-scaffold: ignore-file[base-url]\n"),
    ],
    ids=["same-line", "two-ids", "line-above", "file"],
)
def test_suppression_hides_the_named_rule(tmp_path, validate, config):
    root = write_tree(tmp_path, {CONFIG: config})
    proc = validate(cwd=root)
    assert not lines_with(proc, "base-url"), proc.stdout
    unused = lines_with(proc, "unused-suppression")
    if "unknown-key, base-url" in config:  # unknown-key hides nothing there
        assert len(unused) == 1 and "the suppression of unknown-key hides nothing" in unused[0]
        assert proc.returncode == 0
    else:
        assert not unused and proc.returncode == 0, proc.stdout


def test_suppression_hides_only_its_own_line_and_rule(tmp_path, validate):
    config = suppressed_config(comment_line="      # gym-scaffold: ignore[double-question-mark]")
    root = write_tree(tmp_path, {CONFIG: "# gym-scaffold: ignore[base-url]\n" + config})
    proc = validate(cwd=root)
    assert proc.returncode == 1
    assert lines_with(proc, "base-url")
    assert len(lines_with(proc, "unused-suppression")) == 2


def test_unused_suppression_is_a_warning_at_the_comment(tmp_path, validate):
    config = model_config().replace("entrypoint: app.py", "entrypoint: app.py  # gym-scaffold: ignore[base-url]")
    root = write_tree(tmp_path, {CONFIG: config})
    proc = validate(cwd=root)
    assert proc.returncode == 0
    assert lines_with(proc, "unused-suppression") == [
        f"{CONFIG}:4:27: warning: the suppression of base-url hides nothing on its line [unused-suppression]"
    ]
    assert validate("--strict", cwd=root).returncode == 1


def test_suppression_of_a_rule_the_config_turns_off_is_not_unused(tmp_path, validate):
    config = model_config().replace("entrypoint: app.py", "entrypoint: app.py  # gym-scaffold: ignore[base-url]")
    root = write_tree(tmp_path, {CONFIG: config})
    pyproject(root, 'ignore = ["base-url"]\n')
    assert not lines_with(validate(cwd=root), "unused-suppression")


AGENT = "responses_api_agents/simple_agent/configs/simple_agent.yaml"
AGENT_CONFIG = """\
my_agent:
  responses_api_agents:
    simple_agent:
      entrypoint: app.py
      model_server:
        type: responses_api_models
        name: judge_model  # gym-scaffold: ignore[server-reference]
"""


def test_a_run_of_several_configs_reports_no_unused_suppression(tmp_path, validate):
    # The suppression hides what validate says of the file on its own (no config of the
    # checkout defines judge_model); a run that adds a judge_model meets no such problem.
    root = write_tree(tmp_path, {
        AGENT: AGENT_CONFIG,
        "responses_api_agents/simple_agent/app.py": "",
        "responses_api_agents/simple_agent/requirements.txt": "-e nemo-gym[dev] @ ../../\n",
        "judge.yaml": model_config(base_url="http://127.0.0.1:8000/v1").replace("policy_model", "judge_model"),
        "env.yaml": f"policy_api_key: {KEY}\npolicy_model_name: gpt-4.1\n",
        ".gitignore": "env.yaml\n",
    })
    whole = validate(cwd=root)
    assert whole.returncode == 0 and not lines_with(whole, "server-reference"), whole.stdout
    assert not lines_with(whole, "unused-suppression"), whole.stdout
    (root / AGENT).write_text(AGENT_CONFIG.replace("  # gym-scaffold: ignore[server-reference]", ""))
    assert lines_with(validate(cwd=root), "server-reference"), "the suppression hid a real problem"
    (root / AGENT).write_text("# gym-scaffold: ignore-file[base-ulr]\n" + AGENT_CONFIG)
    run = validate("--config", AGENT, "--config", "judge.yaml", cwd=root)
    assert not lines_with(run, "unused-suppression"), run.stdout
    assert lines_with(run, "invalid-suppression"), "a refused suppression is reported in every run"


def test_a_suppression_only_a_run_needs_is_not_unused_in_the_files_own_check(tmp_path, validate):
    # An unset environment variable is reported only in a --config run (where the config
    # runs, it may be set): the file's own check meets nothing there to hide.
    config = model_config(model="${oc.env:GYM_TEST_MODEL_NAME}  # gym-scaffold: ignore[unresolved-interpolation]")
    root = write_tree(tmp_path, {CONFIG: config, "env.yaml": f"policy_base_url: http://127.0.0.1:8000/v1\n"
                                 f"policy_api_key: {KEY}\n", ".gitignore": "env.yaml\n"})
    alone = validate(cwd=root)
    assert alone.returncode == 0 and not lines_with(alone, "unused-suppression"), alone.stdout
    run = validate("--config", CONFIG, cwd=root)
    assert run.returncode == 0 and not lines_with(run, "unresolved-interpolation"), run.stdout
    (root / CONFIG).write_text(config.split("  #")[0] + "\n")
    assert lines_with(validate("--config", CONFIG, cwd=root), "unresolved-interpolation"), "the suppression hid it"
    # A rule that reports the same either way keeps its check (base-url hides nothing here).
    (root / CONFIG).write_text(config.replace("entrypoint: app.py", "entrypoint: app.py  # gym-scaffold: ignore[base-url]"))
    assert len(lines_with(validate(cwd=root), "unused-suppression")) == 1


def test_the_rules_a_run_reports_more_of_are_those_the_docs_name():
    from gym_scaffold.rules import all_rules, unused_suppression

    dependent = sorted(rule.id for rule in all_rules() if rule.run_dependent)
    named = unused_suppression.__doc__.split("reports\nmore in a run (")[1].split(")")[0]
    assert dependent == named.split(", ")


@pytest.mark.parametrize(
    ("comment", "message"),
    [
        ("# gym-scaffold: ignore", "a bare ignore hides every rule: name the rules it hides"),
        ("# gym-scaffold: ignore-file", "a bare ignore-file hides every rule"),
        ("# gym-scaffold: ignore[]", "ignore[] names no rule"),
        ("# gym-scaffold: ignore[base-ulr]", "unknown rule 'base-ulr'; did you mean 'base-url'?"),
        ("# gym-scaffold: disable[base-url]", "unknown directive 'disable'"),
    ],
)
def test_a_suppression_without_known_rule_ids_is_refused(tmp_path, validate, comment, message):
    root = write_tree(tmp_path, {CONFIG: suppressed_config(same_line=comment)})
    proc = validate(cwd=root)
    assert proc.returncode == 1
    assert lines_with(proc, "base-url"), "a refused suppression hides nothing"
    refused = lines_with(proc, "invalid-suppression")
    assert len(refused) == 1 and f"{CONFIG}:5:" in refused[0] and message in refused[0], proc.stdout


def test_a_skipped_files_note_can_be_suppressed_file_wide(tmp_path, validate):
    prompt = "resources_servers/quiz/prompts/system.yaml"
    root = write_tree(tmp_path, {CONFIG: model_config(), prompt: "# gym-scaffold: ignore-file[not-a-config]\ntext: hi\n"})
    proc = validate("-v", cwd=root)  # notes are shown with -v only
    assert proc.returncode == 0 and not lines_with(proc, "not-a-config"), proc.stdout
    (root / prompt).write_text("text: hi\n")
    assert lines_with(validate("-v", cwd=root), "not-a-config")


def test_suppression_comments_are_read_again_on_a_cached_run(tmp_path, validate):
    root = write_tree(tmp_path, {CONFIG: suppressed_config(same_line="# gym-scaffold: ignore[base-url]")})
    for _ in range(2):  # the second run takes the file's problems from the cache
        proc = validate(cwd=root)
        assert proc.returncode == 0 and not lines_with(proc, "base-url"), proc.stdout
    (root / CONFIG).write_text(model_config(base_url=BAD_URL))
    assert lines_with(validate(cwd=root), "base-url")


# --- baseline ---------------------------------------------------------------------------


def baseline_entries(path: Path) -> list[dict]:
    data = json.loads(path.read_text())
    assert data["version"] == 1
    return data["problems"]


def test_baseline_write_read_and_summary(tmp_path, validate):
    root = write_tree(tmp_path, {CONFIG: model_config(base_url=BAD_URL, api_key="??")})
    written = validate("--baseline", "baseline.json", "--update-baseline", cwd=root)
    assert written.returncode == 0, written.stdout + written.stderr
    assert "wrote 2 problems to the baseline" in written.stderr
    text = (root / "baseline.json").read_text()
    entries = baseline_entries(root / "baseline.json")
    assert [(e["rule"], e["key"][-1]) for e in entries] == [
        ("base-url", "openai_base_url"),
        ("double-question-mark", "openai_api_key"),
    ]
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"  # sorted, stable

    proc = validate("--baseline", "baseline.json", cwd=root)
    assert proc.returncode == 0
    assert "0 errors, 0 warnings, 2 baselined; checked 1 file" in proc.stdout
    report = json.loads(validate("--baseline", "baseline.json", "--format", "json", cwd=root).stdout)
    assert [p for p in report["problems"] if p["severity"] != "note"] == []  # (not a git repository)
    assert report["summary"]["baselined"] == 2
    assert [p["rule"] for p in report["baselined"]] == ["base-url", "double-question-mark"]


def test_baseline_survives_a_move_and_catches_a_changed_value_and_a_new_problem(tmp_path, validate):
    root = bad_url_tree(tmp_path)
    pyproject(root, 'baseline = ".gym-scaffold-baseline.json"\n')
    assert validate("--update-baseline", cwd=root).returncode == 0
    assert len(baseline_entries(root / ".gym-scaffold-baseline.json")) == 1

    moved = "# a comment\n" * 10 + "other_model:\n  responses_api_models:\n    openai_model:\n      entrypoint: app.py\n"
    (root / CONFIG).write_text(moved + model_config(base_url=BAD_URL))
    proc = validate(cwd=root)
    assert proc.returncode == 0, proc.stdout  # fifteen lines down, still baselined
    assert "1 baselined" in proc.stdout

    (root / CONFIG).write_text(model_config(base_url=BAD_URL.replace("chat/completions", "responses")))
    proc = validate(cwd=root)
    assert proc.returncode == 1 and lines_with(proc, "base-url"), "a changed bad value is new"

    (root / CONFIG).write_text(model_config(base_url=BAD_URL, api_key="??"))
    proc = validate(cwd=root)
    assert proc.returncode == 1
    reported = [line for line in proc.stdout.splitlines() if ": error: " in line or ": warning: " in line]
    assert len(reported) == 1 and reported[0].endswith("[double-question-mark]"), proc.stdout


def test_update_baseline_drops_fixed_problems(tmp_path, validate):
    root = write_tree(tmp_path, {CONFIG: model_config(base_url=BAD_URL, api_key="??")})
    validate("--baseline", "b.json", "--update-baseline", cwd=root)
    (root / CONFIG).write_text(model_config(api_key="??"))
    assert validate("--baseline", "b.json", "--update-baseline", cwd=root).returncode == 0
    assert [e["rule"] for e in baseline_entries(root / "b.json")] == ["double-question-mark"]


def test_baseline_counts_repeated_problems(tmp_path, validate):
    two = "config_paths:\n- a.yaml\n- a.yaml\n"
    root = write_tree(tmp_path, {BENCH: two})
    validate("--baseline", "b.json", "--update-baseline", cwd=root)
    assert [e["count"] for e in baseline_entries(root / "b.json")] == [2]
    (root / BENCH).write_text(two + "- a.yaml\n")
    proc = validate("--baseline", "b.json", cwd=root)
    assert proc.returncode == 1 and len(lines_with(proc, "config-include")) == 1


def test_baseline_holds_no_key_material(tmp_path, validate):
    root = write_tree(tmp_path, {CONFIG: model_config(api_key=KEY, base_url=BAD_URL)})
    (root / "env.yaml").write_text(f"policy_api_key: {KEY} \npolicy_base_url: {BAD_URL}\n")
    validate("--baseline", "b.json", "--update-baseline", cwd=root)
    text = (root / "b.json").read_text()
    rules = {e["rule"] for e in baseline_entries(root / "b.json")}
    assert "literal-secret" in rules, text
    for secret in (KEY, KEY.strip()):
        for size in (8, 16, 64):
            assert hashlib.sha256(secret.encode()).hexdigest()[:size] not in text
            assert hashlib.blake2b(secret.encode(), digest_size=8).hexdigest()[: size // 2] not in text
    assert KEY[-4:] not in text and "sk-" not in text
    secret_entries = [e for e in baseline_entries(root / "b.json") if e["rule"] == "literal-secret"]
    assert all("value" not in e for e in secret_entries)
    assert all("value" not in e for e in baseline_entries(root / "b.json") if e["path"] == "env.yaml")


def test_baseline_errors_exit_2(tmp_path, validate):
    root = bad_url_tree(tmp_path)
    proc = validate("--baseline", "missing.json", cwd=root)
    assert proc.returncode == 2 and "no such baseline file; write it with --update-baseline" in proc.stderr
    (root / "bad.json").write_text("[1, 2]")
    proc = validate("--baseline", "bad.json", cwd=root)
    assert proc.returncode == 2 and "not a gym-scaffold baseline" in proc.stderr
    proc = validate("--update-baseline", cwd=root)
    assert proc.returncode == 2 and "--update-baseline needs --baseline FILE" in proc.stderr
    os.mkfifo(root / "fifo.json")
    proc = validate("--baseline", "fifo.json", cwd=root)  # read without blocking
    assert proc.returncode == 2 and "cannot read the baseline" in proc.stderr
    pyproject(root, 'baseline = "responses_api_models"\n')  # a directory
    proc = validate(cwd=root)
    assert proc.returncode == 2 and "cannot read the baseline" in proc.stderr and "Traceback" not in proc.stderr
    proc = validate("--update-baseline", cwd=root)
    assert proc.returncode == 2 and "cannot write the baseline" in proc.stderr and "Traceback" not in proc.stderr
    assert not list(root.glob(".*.tmp"))


def test_baseline_paths_are_relative_to_the_root_whatever_the_cwd(tmp_path, validate):
    root = bad_url_tree(tmp_path)
    validate("--baseline", "b.json", "--update-baseline", cwd=root)
    assert baseline_entries(root / "b.json")[0]["path"] == CONFIG
    inner = root / "responses_api_models"
    proc = validate("openai_model", "--baseline", str(root / "b.json"), cwd=inner)
    assert proc.returncode == 0 and "1 baselined" in proc.stdout, proc.stdout


@needs_git
def test_in_a_git_repository_a_fresh_clone_keeps_the_baseline(tmp_path, validate):
    origin = bad_url_tree(make_repo(tmp_path / "origin", {".gitignore": "env.yaml\n"}))
    pyproject(origin, 'baseline = ".gym-scaffold-baseline.json"\n')
    assert validate("--update-baseline", cwd=origin).returncode == 0
    git(origin, "add", "--all")
    git(origin, "commit", "-q", "-m", "adopt gym-scaffold")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    proc = validate(cwd=clone)
    assert proc.returncode == 0 and "1 baselined" in proc.stdout, proc.stdout + proc.stderr


# --- the pieces on their own ----------------------------------------------------------------


def test_key_path_follows_indentation_and_lists():
    text = """\
top:
  # comment
  inner:
    key: value  # trailing
  items:
  - name: a
    url: x
  - plain
other: 1
""".splitlines()
    assert key_path(text, 4) == (("top", "inner", "key"), "value")
    assert key_path(text, 7) == (("top", "items", "url"), "x")
    assert key_path(text, 8) == (("top", "items"), "plain")
    assert key_path(text, 9) == (("other",), "1")
    assert key_path(text, 0) == ((), None)


@pytest.mark.parametrize(
    ("glob", "matching", "not_matching"),
    [
        ("benchmarks/**", ["benchmarks/a.yaml", "benchmarks/x/y.yaml"], ["resources_servers/benchmarks.yaml"]),
        ("**/configs/*.yaml", ["a/configs/b.yaml", "configs/c.yaml"], ["a/configs/d/e.yaml"]),
        ("prompts", ["a/prompts/b.yaml"], ["a/prompt/b.yaml"]),
        ("*.json", ["a/b.json"], ["a/b.yaml"]),
        ("resources_servers/legacy", ["resources_servers/legacy/c/d.yaml"], ["resources_servers/legacy2/a.yaml"]),
        ("a/[bc]?.yaml", ["a/bx.yaml"], ["a/dx.yaml"]),
    ],
)
def test_globs(glob, matching, not_matching):
    compiled = compile_glob(glob)
    assert all(compiled.matches(path) for path in matching)
    assert not any(compiled.matches(path) for path in not_matching)


@pytest.mark.parametrize("glob", ["", "/abs", "a/../b", "a\\b", "[ab", "C:/x"])
def test_bad_globs(glob):
    with pytest.raises(GlobError):
        compile_glob(glob)


def test_settling_imports_no_rule_module_it_does_not_need():
    # the config and suppressions check ids by module name; importing every rule would
    # load the YAML reader and the schema engine on a run answered from the cache
    code = "import sys, gym_scaffold.settle as s; print(sorted(m for m in sys.modules if 'yaml' in m or 'schemas' in m))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ), check=True)
    assert proc.stdout.strip() == "[]"


def test_on_the_real_sample_a_baseline_passes_and_a_new_typo_fails(corpus_tree, tmp_path, validate):
    root = tmp_path / "gym"
    shutil.copytree(corpus_tree, root, symlinks=True)
    before = validate(cwd=root)
    assert before.returncode == 1
    assert validate("--baseline", "baseline.json", "--update-baseline", cwd=root).returncode == 0
    after = validate("--baseline", "baseline.json", cwd=root)
    assert after.returncode == 0, after.stdout
    assert after.stdout.splitlines()[-1].startswith("0 errors, 0 warnings, ")
    assert " baselined; " in after.stdout.splitlines()[-1]

    config = root / "responses_api_models/openai_model/configs/OpenAI/gpt-4.1-2025-04-14.yaml"
    config.write_text(config.read_text().replace("      entrypoint: app.py\n", "      entrypoint: app.py\n      max_tokns: 5\n"))
    proc = validate("--baseline", "baseline.json", cwd=root)
    assert proc.returncode == 1
    reported = [line for line in proc.stdout.splitlines() if ": error: " in line or ": warning: " in line]
    assert len(reported) == 1, proc.stdout
    assert reported[0].startswith(f"{config.relative_to(root)}:5:7: error: unknown key 'max_tokns'")


@pytest.mark.parametrize(
    "value",
    [
        KEY,
        "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
        "nvapi-AbCdEf1234567890",
        "hf_abcdefghijklmnopqrstuvwxyzabcdef",
        "'Bearer abcdefghijklmnopqrstuvwxyzAB'",
    ],
)
def test_values_shaped_like_keys_are_never_hashed(value):
    assert not _hashable("configs/a.yaml", ("policy_model", "url"), value)


def test_ordinary_values_are_hashed_but_never_in_env_yaml_or_under_credential_keys():
    for value in ("https://api.openai.com/v1/chat/completions", "gpt-4.1-2025-04-14", "99999", "${policy_key}"):
        assert _hashable("configs/a.yaml", ("model", "base_url"), value)
    assert not _hashable("env.yaml", ("policy_base_url",), "https://api.openai.com/v1")
    assert not _hashable("configs/a.yaml", ("model", "openai_api_key"), "??")
