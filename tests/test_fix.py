"""`validate --fix` / `--diff` / `--unsafe-fixes`, run for real on files in real git repositories.

Every fix is checked byte for byte on the whole file: only the intended span changes,
whatever surrounds it (comments on every line, CRLF, a BOM, no final newline, flow style,
anchors, an `_inherit_from` block).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from git_support import git, make_repo, needs_git

pytestmark = needs_git

CONFIG = "responses_api_models/openai_model/configs/openai_model.yaml"
KEY = "sk-proj-Xq7fT2mZk9LpR4vW8yB3nC6dJ1hG5sA0"
ENV_KEY = "sk-abc123def456ghi789jkl012mno345"
ENV_YAML = f"policy_base_url: https://api.openai.com/v1\npolicy_api_key: {ENV_KEY}\npolicy_model_name: gpt-4o-mini\n"
SERVER = {
    "responses_api_models/openai_model/app.py": "",
    "responses_api_models/openai_model/requirements.txt": "-e nemo-gym[dev] @ ../../\n",
    ".gitignore": "__pycache__/\nenv.yaml\n",
}


def repo_with(root: Path, files: dict[str, str | bytes], *, base: dict | None = None) -> Path:
    make_repo(root)
    for relative, content in {**(SERVER if base is None else base), **files}.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


def no_key_in(output: str, *keys: str) -> None:
    for key in keys:
        assert key not in output and key[:-4] not in output and key[-12:] not in output, output


# -- one fix, whole files compared byte for byte ------------------------------------------------

MODEL = (
    "policy_model:  # the model\n"
    "  responses_api_models:  # server type\n"
    "    openai_model:  # implementation\n"
    "      entrypoint: app.py  # entry\n"
    "      openai_base_url: {url}  # where\n"
    "      openai_api_key: {key}  # which key\n"
    "      openai_model: gpt-4o-mini  # model\n"
)


def model(url: str = "${policy_base_url}", key: str = "${policy_api_key}") -> str:
    return MODEL.format(url=url, key=key)


SAFE_CASES = {
    # name: (file, before, after)
    "?? with comments on every line": (CONFIG, model(key="??"), model(key="???")),
    "?? single-quoted": (CONFIG, model(key="'??'"), model(key="'???'")),
    "?? double-quoted": (CONFIG, model(key='"??"'), model(key='"???"')),
    "?? with CRLF endings": (
        CONFIG,
        model(key="??").replace("\n", "\r\n"),
        model(key="???").replace("\n", "\r\n"),
    ),
    "?? after a BOM, no final newline": (
        CONFIG,
        b"\xef\xbb\xbf" + model(key="??").rstrip("\n").encode(),
        b"\xef\xbb\xbf" + model(key="???").rstrip("\n").encode(),
    ),
    "?? in flow style": (
        CONFIG,
        "policy_model:\n  responses_api_models:\n    openai_model: {entrypoint: app.py, "
        'openai_base_url: "${policy_base_url}", openai_api_key: "??", openai_model: x}  # flow\n',
        "policy_model:\n  responses_api_models:\n    openai_model: {entrypoint: app.py, "
        'openai_base_url: "${policy_base_url}", openai_api_key: "???", openai_model: x}  # flow\n',
    ),
    "?? in an anchor shared through an alias": (
        CONFIG,
        "defaults: &defaults  # shared\n  openai_api_key: &key ??  # one place\n"
        + model().replace("      openai_api_key: ${policy_api_key}  # which key\n", "      openai_api_key: *key\n"),
        "defaults: &defaults  # shared\n  openai_api_key: &key ???  # one place\n"
        + model().replace("      openai_api_key: ${policy_api_key}  # which key\n", "      openai_api_key: *key\n"),
    ),
    "?? inside an _inherit_from block": (
        CONFIG,
        model()
        + "judge_model:  # the judge\n  _inherit_from: policy_model\n  responses_api_models:\n"
        "    openai_model:\n      openai_api_key: ??   # its own key\n",
        model()
        + "judge_model:  # the judge\n  _inherit_from: policy_model\n  responses_api_models:\n"
        "    openai_model:\n      openai_api_key: ???   # its own key\n",
    ),
    "base URL ending in /chat/completions/": (
        CONFIG,
        model(url="'https://api.openai.com/v1/chat/completions/'"),
        model(url="'https://api.openai.com/v1'"),
    ),
    "base URL ending in /responses, plain, CRLF": (
        CONFIG,
        model(url="https://api.openai.com/v1/responses").replace("\n", "\r\n"),
        model(url="https://api.openai.com/v1").replace("\n", "\r\n"),
    ),
    "base URL with spaces around it": (
        CONFIG,
        model(url='" http://localhost:8000/v1 "'),
        model(url='"http://localhost:8000/v1"'),
    ),
    "misspelled server type": (
        CONFIG,
        model().replace("responses_api_models:", "responses_api_model:"),
        model(),
    ),
    "Bearer key in env.yaml": (
        "env.yaml",
        f'# mine\npolicy_base_url: https://api.openai.com/v1  # url\npolicy_api_key: "Bearer {ENV_KEY}"  # key\n'
        "policy_model_name: gpt-4o-mini\n",
        f'# mine\npolicy_base_url: https://api.openai.com/v1  # url\npolicy_api_key: "{ENV_KEY}"  # key\n'
        "policy_model_name: gpt-4o-mini\n",
    ),
    "key with spaces and a newline around it in env.yaml": (
        "env.yaml",
        f'policy_base_url: https://api.openai.com/v1\npolicy_api_key: "  {ENV_KEY}\\n"  # pasted\npolicy_model_name: x\n',
        f'policy_base_url: https://api.openai.com/v1\npolicy_api_key: "{ENV_KEY}"  # pasted\npolicy_model_name: x\n',
    ),
    "key in quote characters in env.yaml, CRLF, no final newline": (
        "env.yaml",
        f"policy_base_url: https://api.openai.com/v1\r\npolicy_api_key: '\"{ENV_KEY}\"'\r\npolicy_model_name: x",
        f"policy_base_url: https://api.openai.com/v1\r\npolicy_api_key: '{ENV_KEY}'\r\npolicy_model_name: x",
    ),
}


def as_bytes(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else content.encode("utf-8")


@pytest.mark.parametrize("name", SAFE_CASES)
def test_a_safe_fix_changes_only_its_span(tmp_path, cli, name):
    relative, before, after = SAFE_CASES[name]
    files = {relative: before}
    if relative != CONFIG:
        files[CONFIG] = model()
    root = repo_with(tmp_path / "repo", files)
    others = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}

    preview = cli("validate", "--diff", cwd=root)
    assert preview.returncode == 1, preview.stdout + preview.stderr
    assert f"+++ b/{relative}" in preview.stdout and "(nothing written)" in preview.stderr
    assert (root / relative).read_bytes() == as_bytes(before)  # --diff writes nothing
    no_key_in(preview.stdout + preview.stderr, ENV_KEY)

    done = cli("validate", "--fix", cwd=root)
    output = done.stdout + done.stderr
    assert "Fixed 1 problem in 1 file." in done.stdout, output
    assert done.returncode == 0, output
    assert (root / relative).read_bytes() == as_bytes(after)
    for path, content in others.items():
        if path != root / relative:
            assert path.read_bytes() == content, path
    no_key_in(output, ENV_KEY)

    again = cli("validate", "--fix", cwd=root)
    assert again.returncode == 0 and "Nothing to fix." in again.stdout
    assert (root / relative).read_bytes() == as_bytes(after)
    assert cli("validate", "--diff", cwd=root).returncode == 0


def test_without_a_fix_flag_nothing_is_written(tmp_path, cli):
    root = repo_with(tmp_path / "repo", {CONFIG: model(key="??")})
    assert cli("validate", cwd=root).returncode == 1
    assert (root / CONFIG).read_text() == model(key="??")
    usage = cli("validate", "--unsafe-fixes", cwd=root)
    assert usage.returncode == 2 and "--unsafe-fixes goes with --fix or --diff" in usage.stderr


def test_fix_keeps_mode_and_follows_a_link_inside_the_checkout(tmp_path, cli):
    root = repo_with(tmp_path / "repo", {"shared/model.yaml": model(key="??")})
    (root / CONFIG).parent.mkdir(parents=True)
    os.symlink("../../../shared/model.yaml", root / CONFIG)
    os.chmod(root / "shared/model.yaml", 0o640)
    done = cli("validate", "--fix", CONFIG, cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (root / CONFIG).is_symlink()
    assert (root / "shared/model.yaml").read_text() == model(key="???")
    assert stat.S_IMODE(os.stat(root / "shared/model.yaml").st_mode) == 0o640


def test_nothing_outside_the_checkout_is_written(tmp_path, cli):
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(model(key="??"))
    root = repo_with(tmp_path / "repo", {})
    (root / CONFIG).parent.mkdir(parents=True)
    os.symlink(outside, root / CONFIG)
    done = cli("validate", "--fix", CONFIG, cwd=root)
    assert done.returncode == 1
    assert f"{CONFIG}: not written: outside the checkout" in done.stdout, done.stdout
    assert outside.read_text() == model(key="??")


def test_a_file_changed_after_it_was_read_is_not_written(tmp_path):
    from gym_scaffold.fix_run import plan, write
    from gym_scaffold.validate import ValidateOptions, Validator

    root = repo_with(tmp_path / "repo", {CONFIG: model(key="??")})
    validator = Validator(ValidateOptions(cwd=root, environ={}, use_cache=False))
    outcome, state = plan(validator, validator.run(), unsafe=False)
    assert len(outcome.accepted) == 1
    (root / CONFIG).write_text(model(key="??") + "# edited meanwhile\n")
    applied = write(outcome, state)
    assert applied.fixed == 0 and applied.refused == [(CONFIG, "changed on disk since it was read: not written")]
    assert (root / CONFIG).read_text() == model(key="??") + "# edited meanwhile\n"
    assert [p.name for p in (root / CONFIG).parent.iterdir()] == ["openai_model.yaml"]  # no temporary left


def test_a_fix_that_would_leave_a_problem_is_not_applied(tmp_path, cli):
    # Cutting /chat/completions leaves a URL without /v1: a new problem, so no edit.
    root = repo_with(tmp_path / "repo", {CONFIG: model(url="https://api.openai.com/chat/completions")})
    done = cli("validate", "--fix", cwd=root)
    assert done.returncode == 1
    assert f"{CONFIG}:5:24: fix not applied: the edit would cause another problem" in done.stdout, done.stdout
    assert (root / CONFIG).read_text() == model(url="https://api.openai.com/chat/completions")


# -- .gitignore ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "before, after",
    [
        (None, "env.yaml\n"),
        ("__pycache__/\n", "__pycache__/\nenv.yaml\n"),
        ("__pycache__/", "__pycache__/\nenv.yaml"),
        ("# ours\r\n__pycache__/\r\n", "# ours\r\n__pycache__/\r\nenv.yaml\r\n"),
    ],
)
def test_env_yaml_is_appended_to_the_root_gitignore(tmp_path, cli, before, after):
    base = {k: v for k, v in SERVER.items() if k != ".gitignore"}
    if before is not None:
        base[".gitignore"] = before.encode()
    root = repo_with(tmp_path / "repo", {CONFIG: model(), "env.yaml": ENV_YAML}, base=base)
    env_before = (root / "env.yaml").read_bytes()
    done = cli("validate", "--fix", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (root / ".gitignore").read_bytes() == after.encode()
    assert (root / "env.yaml").read_bytes() == env_before
    assert "Fixed 1 problem in 1 file." in done.stdout
    assert git(root, "check-ignore", "env.yaml").strip() == "env.yaml"


def test_a_negation_is_left_to_a_person(tmp_path, cli):
    base = {**SERVER, ".gitignore": "env.yaml\n!env.yaml\n"}
    root = repo_with(tmp_path / "repo", {CONFIG: model()}, base=base)
    done = cli("validate", "--fix", cwd=root)
    assert done.returncode == 1 and "Nothing to fix." in done.stdout
    assert (root / ".gitignore").read_text() == "env.yaml\n!env.yaml\n"


# -- unsafe fixes ------------------------------------------------------------------------------


def test_unsafe_fixes_wait_for_their_flag(tmp_path, cli):
    config = model(url="api.openai.com/v1") + "      max_concurent_requests: 8\n"
    root = repo_with(tmp_path / "repo", {CONFIG: config})
    done = cli("validate", "--fix", cwd=root)
    assert done.returncode == 1 and "2 more fixes available with --unsafe-fixes." in done.stdout, done.stdout
    assert (root / CONFIG).read_text() == config
    done = cli("validate", "--fix", "--unsafe-fixes", cwd=root)
    assert done.returncode == 0, done.stdout
    expected = model(url="https://api.openai.com/v1") + "      max_concurrent_requests: 8\n"
    assert (root / CONFIG).read_text() == expected


INHERITED = (
    model()
    + "judge_model:  # the judge\n  _inherit_from: policy_model  # same server\n  responses_api_models:\n"
    "    openai_model:\n      @KEY@: 8   # fewer\n"
)
FLOW = (
    "policy_model:\n  responses_api_models:\n    openai_model: {{entrypoint: app.py, openai_base_url: "
    '"${{policy_base_url}}", openai_api_key: "${{policy_api_key}}", openai_model: x, {key}: 8}}  # flow\n'
)
UNSAFE_CASES = {
    "typo inside an _inherit_from block, CRLF and a BOM": (
        b"\xef\xbb\xbf" + INHERITED.replace("@KEY@", "max_concurent_requests").replace("\n", "\r\n").encode(),
        b"\xef\xbb\xbf" + INHERITED.replace("@KEY@", "max_concurrent_requests").replace("\n", "\r\n").encode(),
    ),
    "typo in flow style": (FLOW.format(key="max_concurent_requests"), FLOW.format(key="max_concurrent_requests")),
    "quoted typo, no final newline": (
        model().rstrip("\n") + "\n      'max_concurent_requests': 8  # q",
        model().rstrip("\n") + "\n      'max_concurrent_requests': 8  # q",
    ),
    "base URL without a scheme, in an anchor": (
        "base: &url api.openai.com/v1  # shared\n" + model(url="*url"),
        "base: &url https://api.openai.com/v1  # shared\n" + model(url="*url"),
    ),
}


@pytest.mark.parametrize("name", UNSAFE_CASES)
def test_an_unsafe_fix_changes_only_its_span(tmp_path, cli, name):
    before, after = UNSAFE_CASES[name]
    root = repo_with(tmp_path / "repo", {CONFIG: before})
    assert cli("validate", "--fix", cwd=root).returncode == 1
    assert (root / CONFIG).read_bytes() == as_bytes(before)
    done = cli("validate", "--fix", "--unsafe-fixes", cwd=root)
    assert done.returncode == 0 and "Fixed 1 problem in 1 file." in done.stdout, done.stdout
    assert (root / CONFIG).read_bytes() == as_bytes(after)
    assert sorted(p.name for p in (root / CONFIG).parent.iterdir()) == ["openai_model.yaml"]


def test_a_typo_is_not_renamed_onto_a_key_already_set(tmp_path, cli):
    config = model() + "      max_concurrent_requests: 8\n      max_concurent_requests: 4\n"
    root = repo_with(tmp_path / "repo", {CONFIG: config})
    done = cli("validate", "--fix", "--unsafe-fixes", cwd=root)
    assert done.returncode == 1 and "[unknown-key]" in done.stdout
    assert (root / CONFIG).read_text() == config


def test_a_far_did_you_mean_is_not_a_fix(tmp_path, cli):
    config = model() + "      max_requests: 8\n"
    root = repo_with(tmp_path / "repo", {CONFIG: config})
    done = cli("validate", "--diff", "--unsafe-fixes", cwd=root)
    assert done.returncode == 0 and done.stdout == "", done.stdout


JUDGE = (
    "judge_model:  # grades\n"
    "  responses_api_models:\n"
    "    openai_model:\n"
    "      entrypoint: app.py\n"
    "      openai_base_url: https://api.openai.com/v1\n"
    "      openai_api_key: {key}   # pasted\n"
    "      openai_model: gpt-4o-mini\n"
)


def test_a_literal_key_moves_to_a_new_env_yaml_that_git_ignores(tmp_path, cli):
    base = {k: v for k, v in SERVER.items() if k != ".gitignore"}
    base[".gitignore"] = "__pycache__/\n"
    root = repo_with(tmp_path / "repo", {CONFIG: JUDGE.format(key=KEY)}, base=base)

    preview = cli("validate", "--diff", "--unsafe-fixes", cwd=root)
    assert preview.returncode == 1
    no_key_in(preview.stdout + preview.stderr, KEY)
    assert "+      openai_api_key: ${judge_model_api_key}   # pasted" in preview.stdout
    assert "-      openai_api_key: ...5sA0   # pasted" in preview.stdout
    assert "+judge_model_api_key: ...5sA0" in preview.stdout
    assert not (root / "env.yaml").exists()

    done = cli("validate", "--fix", "--unsafe-fixes", cwd=root)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    no_key_in(output, KEY)
    assert (root / CONFIG).read_text() == JUDGE.format(key="${judge_model_api_key}")
    assert (root / "env.yaml").read_text() == f"judge_model_api_key: {KEY}\n"
    assert stat.S_IMODE(os.stat(root / "env.yaml").st_mode) == 0o600
    assert (root / ".gitignore").read_text() == "__pycache__/\nenv.yaml\n"
    assert "Fixed 2 problems in 3 files." in done.stdout  # the key, and env.yaml not ignored


def test_a_moved_key_never_overwrites_an_existing_one(tmp_path, cli):
    env = f"# keys\njudge_model_api_key: {ENV_KEY}  # the old one\n"
    root = repo_with(tmp_path / "repo", {CONFIG: JUDGE.format(key=KEY), "env.yaml": env})
    done = cli("validate", "--fix", "--unsafe-fixes", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (root / "env.yaml").read_text() == env + f"judge_model_api_key_2: {KEY}\n"
    assert (root / CONFIG).read_text() == JUDGE.format(key="${judge_model_api_key_2}")


def test_a_tracked_env_yaml_is_untracked_and_kept(tmp_path, cli):
    root = repo_with(tmp_path / "repo", {CONFIG: model(), "env.yaml": ENV_YAML})
    git(root, "add", "--force", "env.yaml")
    done = cli("validate", "--fix", cwd=root)
    assert done.returncode == 1 and "1 more fix available with --unsafe-fixes." in done.stdout
    preview = cli("validate", "--diff", "--unsafe-fixes", cwd=root)
    assert "git rm --cached env.yaml" in preview.stdout and preview.returncode == 1
    done = cli("validate", "--fix", "--unsafe-fixes", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "env.yaml" not in git(root, "ls-files")
    assert (root / "env.yaml").read_text() == ENV_YAML


# -- the real NeMo Gym sample ------------------------------------------------------------------

TAU2 = [
    f"benchmarks/tau2/configs/{name}.yaml"
    for name in ("tau2", "banking_alltools", "banking_bm25_grep_artificial_analysis", "banking_terminal_use")
]


def test_corpus_fix_changes_only_the_tau2_double_question_marks(corpus_tree, tmp_path, cli):
    root = tmp_path / "nemo-gym"
    shutil.copytree(corpus_tree, root, symlinks=True)
    # The layout has an empty stand-in for the repository's .gitignore; the real one ends
    # with the rule that ignores env.yaml.
    (root / ".gitignore").write_text("# Environment with sensitive information like API keys\nenv.yaml\n")
    make_repo(root)
    git(root, "add", "--all")
    git(root, "commit", "-q", "-m", "corpus")
    original = {path: (root / path).read_bytes() for path in TAU2}

    done = cli("validate", "--fix", cwd=root, timeout=300)
    assert "Fixed 4 problems in 4 files." in done.stdout, done.stdout[-2000:] + done.stderr
    numstat = sorted(git(root, "diff", "--numstat").splitlines())
    assert numstat == sorted(f"1\t1\t{path}" for path in TAU2)
    assert git(root, "status", "--porcelain", "--untracked-files=all").split() == [
        word for path in sorted(TAU2) for word in ("M", path)
    ]
    for path in TAU2:
        expected = original[path].replace(b"  openai_api_key: ??\n", b"  openai_api_key: ???\n", 1)
        assert expected != original[path] and (root / path).read_bytes() == expected
    assert "[double-question-mark]" not in done.stdout

    unsafe = cli("validate", "--fix", "--unsafe-fixes", cwd=root, timeout=300)
    assert unsafe.returncode == 1  # what is left has no fix: the corpus's other bugs
    after_unsafe = git(root, "diff")
    left = cli("validate", "--diff", "--unsafe-fixes", cwd=root, timeout=300)
    assert left.returncode == 0 and left.stdout == "", left.stdout
    assert "Nothing to fix." in left.stderr
    again = cli("validate", "--fix", "--unsafe-fixes", cwd=root, timeout=300)
    assert "Nothing to fix." in again.stdout
    assert git(root, "diff") == after_unsafe


def test_a_key_is_not_moved_when_env_yaml_cannot_be_written(tmp_path, cli):
    outside = tmp_path / "elsewhere" / "env.yaml"
    outside.parent.mkdir()
    outside.write_text(ENV_YAML)
    root = repo_with(tmp_path / "repo", {CONFIG: JUDGE.format(key=KEY)})
    done = cli("validate", "--fix", "--unsafe-fixes", "--env-file", str(outside), cwd=root)
    assert done.returncode == 1
    assert f"{outside}: not written: outside the checkout" in done.stdout, done.stdout
    no_key_in(done.stdout + done.stderr, KEY)
    assert (root / CONFIG).read_text() == JUDGE.format(key=KEY)  # not a reference to a key nowhere
    assert outside.read_text() == ENV_YAML


def test_a_diff_masks_keys_in_context_lines_but_not_references(tmp_path, cli):
    config = model(url="https://api.openai.com/v1/chat/completions") + JUDGE.format(key=KEY)
    root = repo_with(tmp_path / "repo", {CONFIG: config})
    shown = cli("validate", "--diff", cwd=root).stdout
    assert " " + "      openai_api_key: ${policy_api_key}  # which key" in shown  # context, as written
    assert "      openai_model: gpt-4o-mini  # model" in shown
    no_key_in(shown, KEY)


def test_fix_keeps_a_json_report_parseable(tmp_path, cli):
    import json

    root = repo_with(tmp_path / "repo", {CONFIG: model(key="??") + "      max_concurent_requests: 8\n"})
    done = cli("validate", "--fix", "--format", "json", cwd=root)
    report = json.loads(done.stdout)  # the summary goes to stderr
    assert report["summary"]["errors"] == 1 and done.returncode == 1
    assert "Fixed 1 problem in 1 file." in done.stderr
    assert "1 more fix available with --unsafe-fixes." in done.stderr
