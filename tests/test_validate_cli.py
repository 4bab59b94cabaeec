"""`gym-scaffold validate` run for real on files in temporary trees."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import REPO
from corpus_support import KNOWN_BUGS
from git_support import make_repo

KEY = "sk-proj-Q8wErT5yUi9oPa3sDf7gHj2kLz6xCv4bNm1Q"

MODEL = """\
policy_model:
  responses_api_models:
    openai_model:
      entrypoint: app.py
      openai_base_url: {base_url}
      openai_api_key: {api_key}
      openai_model: {model}
"""


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """A NeMo Gym tree: the openai_model implementation directory, and `files`."""
    (root / "responses_api_models" / "openai_model" / "configs").mkdir(parents=True, exist_ok=True)
    (root / "responses_api_models" / "openai_model" / "app.py").write_text("")
    (root / "responses_api_models" / "openai_model" / "requirements.txt").write_text("-e nemo-gym[dev] @ ../../\n")
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def model_config(base_url="${policy_base_url}", api_key="${policy_api_key}", model="${policy_model_name}"):
    return MODEL.format(base_url=base_url, api_key=api_key, model=model)


CONFIG = "responses_api_models/openai_model/configs/openai_model.yaml"


def rules_of(proc) -> list[str]:
    return [line.rsplit("[", 1)[1].rstrip("]") for line in proc.stdout.splitlines() if line.endswith("]")]


def test_clean_tree_exits_zero(tmp_path, cli):
    write_tree(tmp_path, {CONFIG: model_config()})
    proc = cli("validate", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 errors, 0 warnings; checked 1 file" in proc.stdout


@pytest.mark.parametrize(
    ("fields", "rule", "line", "column"),
    [
        ({"api_key": "??"}, "double-question-mark", 6, 23),
        ({"api_key": "sk-your-api-key"}, "placeholder-value", 6, 23),
        ({"api_key": "'<api_key>'"}, "placeholder-value", 6, 23),
        ({"base_url": "http://<host_url>:<port>/v1"}, "placeholder-value", 5, 24),
        ({"base_url": "https://api.openai.com/v1/chat/completions"}, "base-url", 5, 24),
        ({"base_url": "https://api.openai.com/v1/responses"}, "base-url", 5, 24),
        ({"base_url": "api.openai.com/v1"}, "base-url", 5, 24),
        ({"api_key": '"Bearer abcdefghijklmnopqrstu"'}, "api-key-format", 6, 23),
        ({"api_key": '"abc\\n"'}, "api-key-format", 6, 23),
        ({"api_key": KEY}, "literal-secret", 6, 23),
        ({"api_key": '""', "base_url": "https://api.openai.com/v1"}, "placeholder-value", 6, 23),
    ],
)
def test_value_mistakes_are_errors_at_their_line(tmp_path, cli, fields, rule, line, column):
    write_tree(tmp_path, {CONFIG: model_config(**fields)})
    proc = cli("validate", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{CONFIG}:{line}:{column}: error:" in proc.stdout
    assert rule in rules_of(proc)


@pytest.mark.parametrize(
    "fields",
    [
        {"api_key": "EMPTY", "base_url": "http://127.0.0.1:8000/v1"},
        {"api_key": "dummy", "base_url": "http://localhost:8000/v1"},
        {"api_key": '""', "base_url": "http://127.0.0.1:8000/v1"},
        {"api_key": "???"},
        {"api_key": "${oc.env:OPENAI_API_KEY}"},
        {"model": "nvidia/Nemotron-3-Nano-Omni-30B-A3B-Reasoning-BF16"},
    ],
)
def test_legitimate_values_pass(tmp_path, cli, fields):
    write_tree(tmp_path, {CONFIG: model_config(**fields)})
    proc = cli("validate", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout


def test_base_url_without_path_is_a_warning_and_strict_fails(tmp_path, cli):
    write_tree(tmp_path, {CONFIG: model_config(base_url="https://api.openai.com")})
    proc = cli("validate", cwd=tmp_path)
    assert proc.returncode == 0
    assert "warning: base URL has no path" in proc.stdout
    assert cli("validate", "--strict", cwd=tmp_path).returncode == 1


def test_the_key_is_never_printed(tmp_path, cli):
    write_tree(tmp_path, {CONFIG: model_config(api_key=KEY)})
    for fmt in ("text", "json", "github", "sarif"):
        proc = cli("validate", "--format", fmt, cwd=tmp_path)
        output = proc.stdout + proc.stderr
        assert proc.returncode == 1
        # Every 8-character piece of the key's random part (the provider prefix is public).
        secret = KEY[len("sk-proj-") :]
        pieces = {secret[i : i + 8] for i in range(len(secret) - 7)}
        assert not [piece for piece in pieces if piece in output], fmt
        assert KEY[-4:] in output


ENV_PARTIAL = "policy_base_url: https://api.openai.com/v1\npolicy_model_name: gpt-4o-mini\n"


def test_without_env_yaml_references_are_accepted(tmp_path, cli):
    config = model_config() + "judge:\n  x: ${judge_base_url}\n"
    write_tree(tmp_path, {CONFIG: config})
    assert cli("validate", cwd=tmp_path).returncode == 0


def test_env_yaml_configuring_an_endpoint_in_part_is_an_error(tmp_path, cli):
    write_tree(tmp_path, {CONFIG: model_config(), "env.yaml": ENV_PARTIAL})
    proc = cli("validate", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout
    assert f"{CONFIG}:6:23: error:" in proc.stdout
    assert "policy_api_key" in proc.stdout and "unresolved-interpolation" in rules_of(proc)


def test_near_miss_gets_did_you_mean(tmp_path, cli):
    env = ENV_PARTIAL + "policy_api_key: " + KEY + "\n"
    write_tree(tmp_path, {CONFIG: model_config(model="${policy_model_nme}"), "env.yaml": env})
    proc = cli("validate", cwd=tmp_path)
    assert proc.returncode == 1
    assert "did you mean 'policy_model_name'" in proc.stdout


def test_endpoint_not_configured_at_all_is_a_note(tmp_path, cli):
    env = ENV_PARTIAL + "policy_api_key: " + KEY + "\n"
    config = model_config() + "judge_base: ${judge_base_url}\n"
    write_tree(tmp_path, {CONFIG: config, "env.yaml": env})
    proc = cli("validate", "-v", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    (line,) = [line for line in proc.stdout.splitlines() if "judge_base_url" in line and not line.startswith(" ")]
    assert line.startswith(f"{CONFIG}:") and ": note: " in line and "does not configure the 'judge' endpoint" in line


def test_an_endpoint_env_yaml_does_not_configure_is_a_note_except_in_a_config_run(tmp_path, cli):
    # env.yaml configures the policy only; the judge config is for another machine.
    judge = "resources_servers/judge/configs/judge.yaml"
    judge_config = (
        "judge_model:\n  responses_api_models:\n    openai_model:\n      entrypoint: app.py\n"
        "      openai_base_url: ${judge_base_url}\n      openai_api_key: ${judge_api_key}\n"
        "      openai_model: ${judge_model_name}\n"
    )
    env = ENV_PARTIAL + "policy_api_key: " + KEY + "\n"
    write_tree(tmp_path, {CONFIG: model_config(), judge: judge_config, "env.yaml": env})
    (tmp_path / "responses_api_models/openai_model/app.py").write_text("")
    for args in ((), (judge,)):
        proc = cli("validate", "--format", "json", "-v", *args, cwd=tmp_path)
        found = {(p["line"], p["severity"]) for p in json.loads(proc.stdout)["problems"] if p["path"] == judge}
        assert proc.returncode == 0 and found == {(5, "note"), (6, "note"), (7, "note")}, proc.stdout
    assert "judge" not in cli("validate", cwd=tmp_path).stdout  # hidden by default
    proc = cli("validate", "--config", judge, cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout.count("error:") == 3, proc.stdout
    # An endpoint env.yaml configures in part is a mistake wherever it is checked.
    (tmp_path / "env.yaml").write_text(env + "judge_base_url: https://api.openai.com/v1\n")
    proc = cli("validate", judge, cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout.count("error:") == 2, proc.stdout


def test_mandatory_marker_in_env_yaml_is_a_warning_and_an_error_in_a_config_run(tmp_path, cli):
    # What `new --no-input` writes without a key.
    write_tree(tmp_path, {CONFIG: model_config(), "env.yaml": ENV_PARTIAL + "policy_api_key: ???\n"})
    proc = cli("validate", cwd=tmp_path)
    assert proc.returncode == 0
    assert "env.yaml:3:17: warning:" in proc.stdout and "missing-value" in rules_of(proc)
    assert cli("validate", "--strict", cwd=tmp_path).returncode == 1
    proc = cli("validate", "--config", CONFIG, cwd=tmp_path)
    assert proc.returncode == 1
    assert "env.yaml:3:17: error:" in proc.stdout and "env.yaml:3:17: warning:" not in proc.stdout
    # The always-run hook guards git hygiene, not values still to fill in.
    make_repo(tmp_path)
    (tmp_path / ".gitignore").write_text("env.yaml\n")
    proc = cli("validate", "--env-check-only", cwd=tmp_path)
    assert proc.returncode == 0 and "missing-value" not in proc.stdout, proc.stdout
    (tmp_path / ".gitignore").write_text("")
    proc = cli("validate", "--env-check-only", cwd=tmp_path)
    assert proc.returncode == 1 and rules_of(proc) == ["env-gitignore"], proc.stdout


def test_config_run_reports_every_unresolved_key(tmp_path, cli):
    write_tree(tmp_path, {CONFIG: model_config()})
    proc = cli("validate", "--config", CONFIG, cwd=tmp_path)
    assert proc.returncode == 1
    assert rules_of(proc).count("unresolved-interpolation") == 3


def test_prompt_files_are_skipped_with_a_note_shown_with_verbose(tmp_path, cli):
    write_tree(tmp_path, {CONFIG: model_config(), "resources_servers/x/prompts/p.yaml": "user: hi\n"})
    proc = cli("validate", cwd=tmp_path)
    assert proc.returncode == 0
    assert "note:" not in proc.stdout  # a checkout has dozens of prompt files: counted, not listed
    assert proc.stdout.endswith("skipped 1 (not NeMo Gym configs); 2 notes not shown (-v shows them)\n")
    verbose = cli("validate", "-v", cwd=tmp_path).stdout
    assert "resources_servers/x/prompts/p.yaml: note: skipped: not a NeMo Gym config" in verbose
    assert ":0:0:" not in verbose and "notes not shown" not in verbose
    assert "note:" not in cli("validate", "-v", "-q", cwd=tmp_path).stdout
    def formatted(fmt, *flags):
        return cli("validate", "--format", fmt, *flags, cwd=tmp_path).stdout

    report, verbose_report = json.loads(formatted("json")), json.loads(formatted("json", "-v"))
    assert report["problems"] == [] and report["summary"]["notes"] == 2  # counted, not listed
    assert {p["severity"] for p in verbose_report["problems"]} == {"note"}
    sarif, verbose_sarif = (json.loads(formatted("sarif", *f))["runs"][0]["results"] for f in ((), ("-v",)))
    assert sarif == [] and {r["level"] for r in verbose_sarif} == {"note"}
    assert "::notice" not in formatted("github") and "::notice" in formatted("github", "-v")


def test_missing_path_is_reported(tmp_path, cli):
    proc = cli("validate", "nope.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert "nope.yaml: error: no such file or directory [unreadable]" in proc.stdout


def test_usage_errors_exit_two(tmp_path, cli):
    assert cli("validate", "--format", "xml", cwd=tmp_path).returncode == 2
    assert cli("validate", "a.yaml", "--config", "b.yaml", cwd=tmp_path).returncode == 2


def test_json_report_counts(tmp_path, cli):
    write_tree(tmp_path, {CONFIG: model_config(api_key="??")})
    report = json.loads(cli("validate", "--format", "json", cwd=tmp_path).stdout)
    assert report["summary"]["errors"] == 1
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert [(p["rule"], p["line"], p["column"]) for p in errors] == [("double-question-mark", 6, 23)]


def test_bundled_example(cli):
    proc = cli("validate", cwd=REPO / "examples" / "nemo-gym")
    assert proc.returncode == 1
    out = proc.stdout
    assert "benchmarks/broken_example/config.yaml:10:24: error:" in out  # /chat/completions
    assert "benchmarks/broken_example/config.yaml:11:23: error:" in out  # ??
    assert "benchmarks/broken_example/config.yaml:20:23: error:" in out  # literal key
    assert "responses_api_models/openai_model/configs/openai_model.yaml" not in out


def test_corpus_has_only_the_known_bugs(corpus_tree, cli):
    proc = cli("validate", "-q", cwd=corpus_tree)
    errors = sorted(
        {line.split(":")[0] for line in proc.stdout.splitlines() if ": error:" in line}
    )
    assert errors == sorted(KNOWN_BUGS), proc.stdout


def test_inside_git_env_yaml_must_be_ignored(tmp_path, cli):
    write_tree(tmp_path, {CONFIG: model_config()})
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    proc = cli("validate", cwd=tmp_path)
    assert proc.returncode == 1 and "env-gitignore" in rules_of(proc)
    (tmp_path / ".gitignore").write_text("env.yaml\n")
    assert cli("validate", cwd=tmp_path).returncode == 0


def test_cached_results_follow_every_input(tmp_path, cli):
    """A second run reuses results, but a change to the file, an include, env.yaml or an
    environment variable read through oc.env is seen at once."""
    cache_env = {**_env(), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    include = "responses_api_models/openai_model/configs/base.yaml"
    config = "benchmarks/b/config.yaml"
    files = {
        include: "shared_url: https://api.openai.com/v1\n",
        config: f"config_paths: [{include}]\n" + model_config(base_url="${shared_url}"),
    }
    write_tree(tmp_path / "repo", files)
    repo = tmp_path / "repo"
    assert cli("validate", cwd=repo, env=cache_env).returncode == 0
    assert cli("validate", cwd=repo, env=cache_env).returncode == 0  # from the cache
    assert (tmp_path / "cache" / "gym-scaffold").is_dir()
    (repo / config).write_text((repo / config).read_text().replace("${policy_api_key}", "??"))
    assert cli("validate", cwd=repo, env=cache_env).returncode == 1
    (repo / config).write_text((repo / config).read_text().replace("??", "${policy_api_key}"))
    assert cli("validate", cwd=repo, env=cache_env).returncode == 0
    (repo / "env.yaml").write_text(ENV_PARTIAL)  # now policy_api_key is missing in part
    assert cli("validate", cwd=repo, env=cache_env).returncode == 1
    (repo / "env.yaml").unlink()
    assert cli("validate", cwd=repo, env=cache_env).returncode == 0


def _env():
    from conftest import _clean_env

    return _clean_env()


LONG = 100_000  # characters of one value; a key can have up to 1,024 (YAML's limit)


@pytest.mark.parametrize(
    ("base_url", "rule_message", "hint"),
    [
        (
            "https://api.openai.com/" + "a" * LONG + "/chat/completions",
            "base URL ends in the endpoint path /chat/completions",
            "use https://api.openai.com/" + "a" * 34 + "...",
        ),
        ("https://" + "h" * LONG + ".com", "base URL has no path", "did you mean https://" + "h" * 49 + ".../v1?"),
        ("h" * LONG + ".com:1", "base URL needs an http:// or https:// scheme", "write https://" + "h" * 57 + "..."),
    ],
)
def test_a_long_base_url_is_shortened_in_the_message_and_hint(tmp_path, cli, base_url, rule_message, hint):
    write_tree(tmp_path, {CONFIG: model_config(base_url=base_url)})
    proc = cli("validate", "--format", "json", cwd=tmp_path)
    (problem,) = [p for p in json.loads(proc.stdout)["problems"] if p["rule"] == "base-url"]
    assert rule_message in problem["message"]
    assert problem["hint"] == hint


def test_values_and_keys_of_any_length_are_shortened_in_every_line(tmp_path, cli):
    """Each rule that quotes a key or value the user wrote keeps the line short."""
    key = "k" * 1000
    config = model_config(base_url="https://api.openai.com/" + "a" * LONG + "/responses", model="${" + "z" * LONG + "}")
    config = config.replace("openai_model: $", f"{key}_api_key: <{'p' * LONG}>\n      openai_model: $")
    config = config.replace("entrypoint: app.py", f"entrypoint: {'e' * LONG}.py")  # longer than a file name may be
    config += (
        f"agent:\n  responses_api_agents:\n    {key}:\n      entrypoint: app.py\n"
        f"      port: 0x{'f' * 20_000}\n"
        f"      resources_server: {{type: resources_servers, name: {'r' * LONG}}}\n"
        f"      model_server: {{type: responses_api_models, name: {key}}}\n"
        f"      {key}: ??\n"
    )
    env = ENV_PARTIAL + "policy_api_key: " + KEY + "\n" + f"{key}: ???\n"
    write_tree(tmp_path, {CONFIG: config, "env.yaml": env})
    proc = cli("validate", "-v", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rules = set(rules_of(proc))
    assert rules >= {
        "base-url",
        "unresolved-interpolation",
        "placeholder-value",
        "server-directory",
        "server-reference",
        "invalid-value",
        "double-question-mark",
        "missing-value",
    }, proc.stdout[:3000]
    longest = max(proc.stdout.splitlines(), key=len)
    assert len(longest) <= 400, longest[:500]
    assert "got null" not in proc.stdout
    assert "entrypoint 'eeee" in proc.stdout and "port must be an integer between 1 and 65535, got 0xffff" in proc.stdout


def test_env_file_given_with_paths_is_checked_too(tmp_path, cli):
    write_tree(tmp_path, {CONFIG: model_config(), "local/env.yaml": ENV_PARTIAL + "policy_api_key: ???\n"})
    proc = cli("validate", "--env-file", "local/env.yaml", CONFIG, cwd=tmp_path)
    assert proc.returncode == 0
    assert "local/env.yaml:3:17: warning:" in proc.stdout and "missing-value" in rules_of(proc)


def test_whole_report_reaches_a_file_and_a_closed_pipe_is_no_error(tmp_path):
    # validate ends without the interpreter's teardown: its output must still be flushed.
    import sys

    from conftest import _clean_env

    for index in range(300):
        write_tree(tmp_path, {f"benchmarks/b{index}/config.yaml": f"note_{index}: just a value\n"})
    report = tmp_path / "report.txt"
    with report.open("w") as out:
        proc = subprocess.run(
            [sys.executable, "-m", "gym_scaffold", "validate", "--no-cache", "-v"],
            cwd=tmp_path, env=_clean_env(), stdout=out, stderr=subprocess.PIPE, text=True, timeout=60,
        )
    assert proc.returncode == 0, proc.stderr
    lines = report.read_text().splitlines()
    assert len(lines) == 302 and lines[-1].startswith("0 errors, 0 warnings; checked 0 files, skipped 300")
    head = subprocess.run(
        f"'{sys.executable}' -m gym_scaffold validate --no-cache -v | head -1",
        shell=True, cwd=tmp_path, env=_clean_env(), capture_output=True, text=True, timeout=60,
    )
    assert head.stdout.count("\n") == 1 and "Traceback" not in head.stderr, head.stderr
