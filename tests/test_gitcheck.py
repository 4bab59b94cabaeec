"""env.yaml and git, checked against real repositories in temporary directories."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from git_support import git, isolate_git_config, make_repo, needs_git, write

from gym_scaffold import gitcheck
from gym_scaffold.gitcheck import check_env_ignored, find_repo_root
from gym_scaffold.problem import Problem, Severity
from gym_scaffold.rules import env_gitignore, env_tracked, rule_by_id

pytestmark = needs_git

CONFIG_DIR = "responses_api_models/openai_model/configs"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate_git_config(monkeypatch, tmp_path / "home")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    monkeypatch.chdir(root)  # problems are displayed relative to the working directory
    return root


def rules_of(problems: list[Problem]) -> list[tuple[str, str, Severity]]:
    return [(p.path, p.rule, p.severity) for p in problems]


# --- finding the repository ------------------------------------------------------------


def test_find_repo_root_from_directory_file_and_missing_path(repo: Path) -> None:
    write(repo, f"{CONFIG_DIR}/openai_model.yaml", "x: 1\n")
    top = Path(os.path.realpath(repo))
    assert find_repo_root(repo) == top
    assert find_repo_root(repo / CONFIG_DIR) == top
    assert find_repo_root(repo / CONFIG_DIR / "openai_model.yaml") == top
    assert find_repo_root(repo / "not" / "there" / "env.yaml") == top


def test_find_repo_root_outside_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert find_repo_root(plain) is None


def test_find_repo_root_inside_dot_git_is_none(repo: Path) -> None:
    assert find_repo_root(repo / ".git") is None


# --- not ignored -----------------------------------------------------------------------


def test_env_yaml_not_ignored_and_absent(repo: Path) -> None:
    write(repo, ".gitignore", "__pycache__/\n")
    problems = check_env_ignored(repo, [])
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.path, problem.line, problem.column) == ("env.yaml", 0, 0)
    assert problem.severity is Severity.ERROR
    assert problem.rule == "env-gitignore"
    assert "not ignored" in problem.message
    assert problem.hint == 'add the line "env.yaml" to .gitignore'


def test_env_yaml_not_ignored_and_present(repo: Path) -> None:
    write(repo, "env.yaml", "policy_api_key: sk-test\n")
    problems = check_env_ignored(repo, [])
    assert rules_of(problems) == [("env.yaml", "env-gitignore", Severity.ERROR)]


def test_no_gitignore_at_all(repo: Path) -> None:
    assert rules_of(check_env_ignored(repo)) == [("env.yaml", "env-gitignore", Severity.ERROR)]


def test_key_never_appears_in_problems(repo: Path) -> None:
    write(repo, "env.yaml", "policy_api_key: sk-proj-abcdefghijklmnop1234\n")
    git(repo, "add", "-f", "env.yaml")
    for problem in check_env_ignored(repo):
        assert "abcdefghijklmnop" not in f"{problem.message} {problem.hint}"


# --- ignored by git's rules ------------------------------------------------------------


@pytest.mark.parametrize("present", [True, False])
def test_ignored_by_root_gitignore(repo: Path, present: bool) -> None:
    write(repo, ".gitignore", "__pycache__/\nenv.yaml\n")
    if present:
        write(repo, "env.yaml", "policy_api_key: sk-test\n")
    env_in_configs = repo / CONFIG_DIR / "env.yaml"
    assert check_env_ignored(repo, [env_in_configs]) == []


def test_anchored_pattern_covers_only_the_root(repo: Path) -> None:
    write(repo, ".gitignore", "/env.yaml\n")
    problems = check_env_ignored(repo, [repo / CONFIG_DIR / "env.yaml"])
    assert rules_of(problems) == [(f"{CONFIG_DIR}/env.yaml", "env-gitignore", Severity.ERROR)]
    assert problems[0].hint == 'add the line "env.yaml" to .gitignore'


def test_ignored_by_nested_gitignore_only_where_it_applies(repo: Path) -> None:
    write(repo, f"{CONFIG_DIR}/.gitignore", "env.yaml\n")
    problems = check_env_ignored(repo, [repo / CONFIG_DIR / "env.yaml"])
    # the nested file covers its own directory; the root env.yaml is still exposed
    assert rules_of(problems) == [("env.yaml", "env-gitignore", Severity.ERROR)]


def test_ignored_through_an_ignored_parent_directory(repo: Path) -> None:
    write(repo, ".gitignore", "env.yaml\nlocal/\n")
    write(repo, "local/env.yaml", "a: 1\n")
    assert check_env_ignored(repo, [repo / "local" / "env.yaml"]) == []


def test_ignored_by_info_exclude(repo: Path) -> None:
    write(repo, ".git/info/exclude", "# local\nenv.yaml\n")
    assert check_env_ignored(repo, [repo / CONFIG_DIR / "env.yaml"]) == []


def test_ignored_by_global_excludes_file_from_home_gitconfig(repo: Path, home: Path) -> None:
    write(home, ".gitconfig", "[core]\n\texcludesFile = ~/.gitignore_global\n")
    write(home, ".gitignore_global", "*.swp\nenv.yaml\n")
    assert check_env_ignored(repo, [repo / CONFIG_DIR / "env.yaml"]) == []


def test_ignored_by_default_global_excludes_file(repo: Path, home: Path) -> None:
    # no core.excludesFile: git reads $XDG_CONFIG_HOME/git/ignore
    write(home, ".config/git/ignore", "env.yaml\n")
    assert check_env_ignored(repo) == []


def test_git_config_global_variable_is_honoured(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIT_CONFIG_GLOBAL says where the user's config is, not which repository: kept.
    excludes = write(tmp_path, "elsewhere/excludes", "env.yaml\n")
    config = write(tmp_path, "elsewhere/gitconfig", f"[core]\n\texcludesFile = {excludes}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    assert check_env_ignored(repo) == []


# --- negations -------------------------------------------------------------------------


def test_negation_after_pattern_is_reported_at_its_line(repo: Path) -> None:
    write(repo, ".gitignore", "__pycache__/\nenv.yaml\n!env.yaml\n")
    problems = check_env_ignored(repo)
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.path, problem.line, problem.column) == (".gitignore", 3, 1)
    assert problem.rule == "env-gitignore"
    assert problem.severity is Severity.ERROR
    assert '"!env.yaml"' in problem.message
    assert problem.message.startswith("env.yaml is not ignored")
    assert problem.hint == 'remove the line "!env.yaml" from .gitignore (line 3)'


def test_pattern_after_negation_ignores_again(repo: Path) -> None:
    write(repo, ".gitignore", "!env.yaml\nenv.yaml\n")
    assert check_env_ignored(repo) == []


def test_negation_in_nested_gitignore_overrides_root(repo: Path) -> None:
    write(repo, ".gitignore", "env.yaml\n")
    write(repo, f"{CONFIG_DIR}/.gitignore", "# keep the sample\n!env.yaml\n")
    problems = check_env_ignored(repo, [repo / CONFIG_DIR / "env.yaml"])
    assert [(p.path, p.line, p.column) for p in problems] == [(f"{CONFIG_DIR}/.gitignore", 2, 1)]
    assert problems[0].message.startswith(f"{CONFIG_DIR}/env.yaml is not ignored")


def test_negation_in_info_exclude_suggests_gitignore_too(repo: Path) -> None:
    write(repo, ".git/info/exclude", "!env.yaml\n")
    problems = check_env_ignored(repo)
    assert [(p.path, p.line) for p in problems] == [(".git/info/exclude", 1)]
    assert 'add the line "env.yaml" to .gitignore' in problems[0].hint
    # and the hint is right: a .gitignore rule outranks info/exclude
    write(repo, ".gitignore", "env.yaml\n")
    assert check_env_ignored(repo) == []


def test_negation_in_global_excludes_points_at_that_file(repo: Path, home: Path) -> None:
    write(home, ".gitconfig", "[core]\n\texcludesFile = ~/.gitignore_global\n")
    write(home, ".gitignore_global", "!env.yaml\n")
    problems = check_env_ignored(repo)
    assert [(p.path, p.line) for p in problems] == [(str(home / ".gitignore_global"), 1)]


def test_escaped_bang_is_not_a_negation(repo: Path) -> None:
    write(repo, ".gitignore", "env.yaml\n\\!env.yaml\n")
    assert check_env_ignored(repo) == []


# --- tracked ---------------------------------------------------------------------------


def test_tracked_env_yaml_although_ignored(repo: Path) -> None:
    write(repo, ".gitignore", "env.yaml\n")
    write(repo, "env.yaml", "policy_api_key: sk-test\n")
    git(repo, "add", "-f", "env.yaml", ".gitignore")
    git(repo, "commit", "-q", "-m", "oops")
    problems = check_env_ignored(repo)
    assert rules_of(problems) == [("env.yaml", "env-tracked", Severity.ERROR)]
    assert problems[0].hint.startswith("git rm --cached env.yaml, then commit")


def test_staged_env_yaml_counts_as_tracked(repo: Path) -> None:
    write(repo, ".gitignore", "env.yaml\n")
    write(repo, f"{CONFIG_DIR}/env.yaml", "a: 1\n")
    git(repo, "add", "-f", f"{CONFIG_DIR}/env.yaml")
    problems = check_env_ignored(repo, [repo / CONFIG_DIR / "env.yaml"])
    assert rules_of(problems) == [(f"{CONFIG_DIR}/env.yaml", "env-tracked", Severity.ERROR)]
    assert problems[0].hint.startswith(f"git rm --cached {CONFIG_DIR}/env.yaml,")


def test_tracked_and_not_ignored_gives_both(repo: Path) -> None:
    write(repo, "env.yaml", "a: 1\n")
    git(repo, "add", "env.yaml")
    git(repo, "commit", "-q", "-m", "oops")
    problems = check_env_ignored(repo)
    assert sorted(p.rule for p in problems) == ["env-gitignore", "env-tracked"]


def test_tracked_file_removed_from_disk_is_still_tracked(repo: Path) -> None:
    write(repo, ".gitignore", "env.yaml\n")
    write(repo, "env.yaml", "a: 1\n")
    git(repo, "add", "-f", "env.yaml")
    (repo / "env.yaml").unlink()
    assert [p.rule for p in check_env_ignored(repo)] == ["env-tracked"]


def test_untracking_fixes_it(repo: Path) -> None:
    write(repo, ".gitignore", "env.yaml\n")
    write(repo, "env.yaml", "a: 1\n")
    git(repo, "add", "-f", "env.yaml", ".gitignore")
    git(repo, "commit", "-q", "-m", "oops")
    git(repo, "rm", "-q", "--cached", "env.yaml")
    assert check_env_ignored(repo) == []


def test_similar_names_are_not_mistaken_for_tracked(repo: Path) -> None:
    write(repo, ".gitignore", "env.yaml\n")
    write(repo, "env.yaml.example", "a: 1\n")
    write(repo, "[e]nv.yaml", "a: 1\n")
    git(repo, "add", "env.yaml.example", "[e]nv.yaml", ".gitignore")
    git(repo, "commit", "-q", "-m", "samples")
    assert check_env_ignored(repo) == []


# --- outside a repository, without git, with hostile environments ---------------------


def test_outside_a_repository_is_a_skipped_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    problems = check_env_ignored(find_repo_root(plain), [plain / "env.yaml"])
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.severity, problem.rule, problem.path) == (
        Severity.NOTE,
        "env-gitignore",
        "env.yaml",
    )
    assert "skipped" in problem.message and "not inside a git repository" in problem.message


def test_root_that_is_not_a_repository_is_a_note(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    problems = check_env_ignored(plain)
    assert [(p.severity, p.rule) for p in problems] == [(Severity.NOTE, "env-gitignore")]
    assert "skipped" in problems[0].message


@pytest.mark.parametrize(
    "variables",
    [
        {"GIT_INDEX_FILE": "bogus-index", "GIT_DIR": "nowhere/.git"},
        {"GIT_DIR": ".git", "GIT_WORK_TREE": "..", "GIT_PREFIX": "sub/"},
        {"GIT_INDEX_FILE": ".git/index.lock", "GIT_OBJECT_DIRECTORY": "objects"},
        {"GIT_CEILING_DIRECTORIES": "/", "GIT_NAMESPACE": "x", "GIT_COMMON_DIR": "c"},
    ],
)
def test_hook_variables_do_not_confuse_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]
) -> None:
    write(repo, ".gitignore", "env.yaml\n")
    write(repo, f"{CONFIG_DIR}/env.yaml", "a: 1\n")
    git(repo, "add", "-f", f"{CONFIG_DIR}/env.yaml")
    expected = check_env_ignored(repo, [repo / CONFIG_DIR / "env.yaml"])
    assert [p.rule for p in expected] == ["env-tracked"]
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(repo / CONFIG_DIR)
    assert find_repo_root(Path.cwd()) == Path(os.path.realpath(repo))
    monkeypatch.chdir(repo)
    assert check_env_ignored(repo, [repo / CONFIG_DIR / "env.yaml"]) == expected


def test_hook_variables_of_another_repository(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The way pytest would run inside this project's own pre-commit hook: the variables
    # are real and absolute, but belong to a different repository.
    other = make_repo(tmp_path / "other", {"env.yaml": "a: 1\n"}, commit=True)
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    write(repo, ".gitignore", "env.yaml\n")
    assert check_env_ignored(repo) == []


def test_no_git_on_path_is_a_note(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert find_repo_root(repo) is None
    problems = check_env_ignored(repo)
    assert [(p.severity, p.rule) for p in problems] == [(Severity.NOTE, "env-gitignore")]
    assert "git not found" in problems[0].message
    # and without a repository root either
    assert "git not found" in check_env_ignored(None)[0].message


def test_timeout_is_a_note(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gitcheck, "GIT_TIMEOUT", 1e-9)
    problems = check_env_ignored(repo)
    assert [(p.severity, p.rule) for p in problems] == [(Severity.NOTE, "env-gitignore")]
    assert "did not answer" in problems[0].message
    assert find_repo_root(repo) is None


def test_dubious_ownership_style_refusal_is_a_note(repo: Path, home: Path) -> None:
    # A repository git refuses to open (a broken HEAD here) must not raise.
    (repo / ".git" / "HEAD").write_text("garbage\n")
    problems = check_env_ignored(repo)
    assert [(p.severity, p.rule) for p in problems] == [(Severity.NOTE, "env-gitignore")]


# --- locations -------------------------------------------------------------------------


def test_at_most_two_git_processes(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(command, *args, **kwargs):
        calls.append(list(command))
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(gitcheck.subprocess, "run", counting_run)
    write(repo, ".gitignore", "env.yaml\n")
    paths = [repo / d / "env.yaml" for d in ("a", "b/c", "d", "e/f/g", CONFIG_DIR)]
    assert check_env_ignored(repo, paths) == []
    assert len(calls) == 2
    calls.clear()
    assert list(env_gitignore.check_repo(repo, paths)) == []
    assert list(env_tracked.check_repo(repo, paths)) == []
    assert len(calls) == 2


def test_duplicates_and_relative_paths_are_checked_once(repo: Path) -> None:
    problems = check_env_ignored(repo, [Path("env.yaml"), repo / "env.yaml", Path("./env.yaml")])
    assert [p.path for p in problems] == ["env.yaml"]


def test_paths_with_spaces_and_unicode(repo: Path) -> None:
    write(repo, ".gitignore", "/env.yaml\n")
    odd = repo / "my configs" / "modèle" / "env.yaml"
    problems = check_env_ignored(repo, [odd])
    assert [p.path for p in problems] == ["my configs/modèle/env.yaml"]
    assert problems[0].hint == 'add the line "env.yaml" to .gitignore'
    write(repo, "my configs/.gitignore", "env.yaml\n")
    assert check_env_ignored(repo, [odd]) == []
    write(repo, "my configs/modèle/env.yaml", "a: 1\n")
    git(repo, "add", "-f", "my configs/modèle/env.yaml")
    problems = check_env_ignored(repo, [odd])
    assert [p.rule for p in problems] == ["env-tracked"]
    assert problems[0].hint.startswith("git rm --cached 'my configs/modèle/env.yaml', then")


def test_other_env_file_name_gets_an_anchored_line(repo: Path) -> None:
    write(repo, ".gitignore", "env.yaml\n")
    problems = check_env_ignored(repo, [repo / "secrets" / "local-env.yaml"])
    assert [p.path for p in problems] == ["secrets/local-env.yaml"]
    assert problems[0].hint == 'add the line "/secrets/local-env.yaml" to .gitignore'
    write(repo, ".gitignore", "env.yaml\n/secrets/local-env.yaml\n")
    assert check_env_ignored(repo, [repo / "secrets" / "local-env.yaml"]) == []


def test_path_outside_the_repository_is_a_note(repo: Path, tmp_path: Path) -> None:
    write(repo, ".gitignore", "env.yaml\n")
    outside = tmp_path / "elsewhere" / "env.yaml"
    problems = check_env_ignored(repo, [outside])
    assert [(p.path, p.severity) for p in problems] == [(str(outside), Severity.NOTE)]
    assert "outside the git repository" in problems[0].message


def test_path_through_a_symlinked_directory(repo: Path, tmp_path: Path) -> None:
    write(repo, ".gitignore", "/env.yaml\n")
    (repo / "real").mkdir()
    (repo / "link").symlink_to(repo / "real", target_is_directory=True)
    # git refuses paths beyond a symbolic link; the real location is checked instead
    problems = check_env_ignored(repo, [repo / "link" / "env.yaml"])
    assert [(p.path, p.rule) for p in problems] == [("real/env.yaml", "env-gitignore")]
    (tmp_path / "outside").mkdir()
    (repo / "out").symlink_to(tmp_path / "outside", target_is_directory=True)
    problems = check_env_ignored(repo, [repo / "out" / "env.yaml"])
    assert [p.severity for p in problems] == [Severity.NOTE]


def test_nested_repository_is_a_note(repo: Path) -> None:
    write(repo, ".gitignore", "env.yaml\n")
    make_repo(repo / "vendor" / "gym")
    problems = check_env_ignored(repo, [repo / "vendor" / "gym" / "configs" / "env.yaml"])
    assert [(p.severity, p.rule) for p in problems] == [(Severity.NOTE, "env-gitignore")]
    assert "nested repository vendor/gym" in problems[0].message


def test_display_function_is_used(repo: Path) -> None:
    problems = check_env_ignored(repo, display=lambda p: f"<{p.name}>")
    assert [p.path for p in problems] == ["<env.yaml>"]
    assert problems[0].hint == 'add the line "env.yaml" to <.gitignore>'


def test_display_is_relative_to_the_working_directory(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo / ".git")
    assert [p.path for p in check_env_ignored(repo)] == [str(repo / "env.yaml")]
    (repo / CONFIG_DIR).mkdir(parents=True)
    monkeypatch.chdir(repo.parent)
    assert [p.path for p in check_env_ignored(repo)] == ["repo/env.yaml"]


# --- the rule modules ------------------------------------------------------------------


def test_rule_modules_split_the_problems(repo: Path) -> None:
    write(repo, "env.yaml", "a: 1\n")
    git(repo, "add", "env.yaml")
    assert [p.rule for p in env_gitignore.check_repo(repo, [])] == ["env-gitignore"]
    assert [p.rule for p in env_tracked.check_repo(repo, [])] == ["env-tracked"]


def test_rule_modules_outside_a_repository(tmp_path: Path) -> None:
    assert [p.severity for p in env_gitignore.check_repo(None, [])] == [Severity.NOTE]
    assert list(env_tracked.check_repo(None, [])) == []


@pytest.mark.parametrize("module", [env_gitignore, env_tracked])
def test_rule_documentation(module) -> None:
    rule = rule_by_id(module.ID)
    assert rule is not None and rule.module is module
    assert rule.severity == "error"
    assert rule.summary and "\n" not in rule.summary
    assert "Failing:" in rule.doc and "Passing:" in rule.doc
    assert not rule.checks_configs  # the pipeline calls check_repo itself


@pytest.mark.parametrize("ignored", [False, True])
def test_whole_checkout_run_reports_what_git_says(repo: Path, ignored: bool) -> None:
    # Enough configs for the run to be split across processes: git is asked in another one.
    from gym_scaffold.validate import PARALLEL_MIN_FILES, ValidateOptions, run_validate

    for index in range(PARALLEL_MIN_FILES + 6):
        write(repo, f"benchmarks/b{index}/config.yaml", f"note_{index}: just a value\n")
    if ignored:
        write(repo, ".gitignore", "env.yaml\n")
    result = run_validate(ValidateOptions(cwd=repo, environ={}, use_cache=False))
    gitignore = [p for p in result.problems if p.rule == "env-gitignore"]
    assert [(p.path, p.severity) for p in gitignore] == ([] if ignored else [("env.yaml", Severity.ERROR)])
