"""`gym-scaffold new`: render a Copier template into a NeMo Gym checkout, safely.

No click here: `commands/new.py` parses options and prints; this module does the work.

Guarantees:
- an existing server directory is never touched;
- the destination ends up either fully changed (server directory, env.yaml, .gitignore) or
  exactly as it was: the template renders into a temporary directory inside the destination
  and is moved into place, and every later change is undone if a step fails;
- env.yaml is created only when missing, and a key read from the environment is never printed.

`copier update` needs the template to be a git repository, and the installed package's
template directory is not one. So each template version the package carries is committed
and tagged in a local git repository (`template_home()`), and the answers file records that
repository and tag, exactly what Copier would record had it rendered from there.
"""

from __future__ import annotations

import hashlib
import json
import keyword
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from gym_scaffold import __version__, gitcheck
from gym_scaffold.problem import Severity
from gym_scaffold.secrets import redact

TEMPLATE_NAME = "openai-model"
SERVER_TYPE_DIR = "responses_api_models"
ENV_FILE = "env.yaml"
ENV_KEYS = ("policy_base_url", "policy_api_key", "policy_model_name")
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"
TEMPLATE_HOME_ENV = "GYM_SCAFFOLD_TEMPLATE_HOME"

EXIT_PROBLEMS = 1
EXIT_USAGE = 2

# The same rules as the validators in templates/openai-model/copier.yml (a test keeps them equal).
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INSTANCE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_MODEL = re.compile(r"^\S+$")
_URL = re.compile(
    r"^https?://(?:[^/?#@\s]*@)?(?:\[[0-9A-Fa-f:.]+\]|[^/?#:@\s\[\]]+)(?::[0-9]{1,5})?(?:[/?#]\S*)?$"
)
# Top-level keys NeMo Gym reads as settings, plus the env.yaml keys the config interpolates.
RESERVED_TOP_LEVEL = frozenset(
    [
        "config_paths",
        "default_host",
        "head_server",
        "disallowed_ports",
        "head_server_deps",
        "python_version",
        "pip_install_verbose",
        "use_absolute_ip",
        "uv_pip_set_python",
        "skip_venv_if_present",
        "hf_token",
        "ray_head_node_address",
        "port_range_low",
        "port_range_high",
        "dry_run",
        "model_endpoint_readiness_timeout_seconds",
        "allow_openai_version_skew",
        "uv_cache_dir",
        "uv_venv_dir",
        "results_dir",
        "cache_dir",
        "nemo_gym_log_dir",
        "verbose",
        "json",
        "query",
        "observability_enabled",
        "model_call_capture_dir",
        "token_id_capture",
        "component_name",
        "skip_verification",
        "skip_verification_reward",
        "entrypoint",
        "_inherit_from",
        "_copy",
    ]
    + list(ENV_KEYS)
)


@dataclass(frozen=True)
class Question:
    name: str  # answer key in copier.yml
    option: str  # CLI option
    prompt: str


QUESTIONS: tuple[Question, ...] = (
    Question("server_name", "--name", "Server name (Python identifier)"),
    Question("instance_name", "--instance", "Instance name"),
    Question("model", "--model", "Model"),
    Question("base_url", "--base-url", "Base URL of the OpenAI-compatible API"),
    Question(
        "max_concurrent_requests",
        "--max-concurrent-requests",
        "Max concurrent upstream requests (empty for no cap)",
    ),
)
QUESTION_BY_NAME = {q.name: q for q in QUESTIONS}


class AnswersError(ValueError):
    """An answer that the template would refuse; names the question."""

    def __init__(self, question: str, message: str) -> None:
        self.question = question
        self.message = message
        q = QUESTION_BY_NAME.get(question)
        label = f"{question} ({q.option})" if q else question
        super().__init__(f"invalid answer to {label}: {message}")


class ScaffoldError(Exception):
    """A reason to stop before (or instead of) changing anything; carries the exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_PROBLEMS) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class OpenAIModelAnswers(BaseModel):
    """The answers of the openai-model template, validated like copier.yml validates them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    server_name: str = "openai_model"
    instance_name: str = "policy_model"
    model: str = "gpt-4o-mini"
    base_url: str = "https://api.openai.com/v1"
    max_concurrent_requests: int | None = None

    @field_validator("server_name")
    @classmethod
    def _server_name(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError(
                "must be a Python identifier: letters, digits and underscores, not starting with a digit"
            )
        if keyword.iskeyword(value):
            raise ValueError("must not be a Python keyword")
        return value

    @field_validator("instance_name")
    @classmethod
    def _instance_name(cls, value: str) -> str:
        if not _INSTANCE.match(value):
            raise ValueError(
                "must start with a letter or underscore and hold only letters, digits, "
                "underscores and hyphens"
            )
        if value in RESERVED_TOP_LEVEL:
            raise ValueError("is a reserved top-level key of NeMo Gym configs")
        return value

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        if not _MODEL.match(value):
            raise ValueError("must be a non-empty model name without spaces")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not _URL.match(value):
            raise ValueError(
                "must be an http:// or https:// URL with a host, e.g. https://api.openai.com/v1"
            )
        return value

    @field_validator("max_concurrent_requests", mode="before")
    @classmethod
    def _max_concurrent_requests(cls, value: Any) -> int | None:
        if isinstance(value, str):
            text = value.strip()
            if text.lower() in ("", "none", "null", "~"):
                return None
            if not re.fullmatch(r"[+-]?[0-9]+", text):
                raise ValueError("must be a positive integer, or empty for no cap")
            value = int(text)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError("must be a positive integer, or empty for no cap")
        return value

    def copier_data(self) -> dict[str, Any]:
        return self.model_dump()


def _first_error(exc: ValidationError) -> AnswersError:
    error = exc.errors()[0]
    question = str(error["loc"][0]) if error["loc"] else "answers"
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "not a question of this template"
    message = message.removeprefix("Value error, ")
    return AnswersError(question, message)


def parse_answers(raw: Mapping[str, Any]) -> OpenAIModelAnswers:
    """Validate answers (missing ones take the defaults); raise AnswersError naming the question."""
    try:
        return OpenAIModelAnswers.model_validate(dict(raw))
    except ValidationError as exc:
        raise _first_error(exc) from None


def check_answer(name: str, value: Any) -> Any:
    """Validate one answer alone (for asking again in a terminal); returns the typed value."""
    return getattr(parse_answers({name: value}), name)


# --- template location and the git repository `copier update` reads -------------------------


def template_dir(name: str = TEMPLATE_NAME) -> Path:
    """The template shipped with the package (wheel) or in the source tree (editable install)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates" / name, here.parent / "templates" / name):
        if (candidate / "copier.yml").is_file():
            return candidate
    raise ScaffoldError(
        f"template {name!r} is missing from this installation of gym-scaffold", EXIT_USAGE
    )


def template_home(environ: Mapping[str, str] | None = None) -> Path:
    """Where the git repositories of template versions live."""
    env = os.environ if environ is None else environ
    if env.get(TEMPLATE_HOME_ENV):
        return Path(env[TEMPLATE_HOME_ENV]).expanduser()
    data_home = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "gym-scaffold" / "templates"


@dataclass(frozen=True)
class TemplateRef:
    repo: Path  # absolute path of the git repository
    tag: str  # the tag holding exactly the rendered template
    created: bool  # True when this call committed a new version


_IGNORED_PARTS = {"__pycache__", ".git", ".DS_Store"}


def _template_files(source: Path) -> list[Path]:
    files = []
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if any(part in _IGNORED_PARTS for part in rel.parts) or path.suffix in (".pyc", ".pyo"):
            continue
        if path.is_file():
            files.append(rel)
    return files


def content_hash(source: Path) -> str:
    digest = hashlib.sha256()
    for rel in _template_files(source):
        digest.update(rel.as_posix().encode() + b"\0")
        digest.update((source / rel).read_bytes() + b"\0")
    return digest.hexdigest()


def _git(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=env if env is not None else gitcheck.git_environment(),
        capture_output=True,
        text=True,
        check=False,
    )


def _git_ok(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = _git(cwd, *args, env=env)
    if done.returncode != 0:
        raise ScaffoldError(
            f"git {' '.join(args)} failed in {cwd}: {done.stderr.strip() or done.stdout.strip()}"
        )
    return done.stdout


def _next_tag(count: int) -> str:
    """A PEP 440 version, so Copier orders the tags; grows with every new template version."""
    base = re.match(r"\d+(?:\.\d+)*", __version__)
    return f"{base.group(0) if base else '0'}.post{count}"


def sync_template(
    source: Path | None = None, home: Path | None = None, name: str = TEMPLATE_NAME
) -> TemplateRef:
    """Make sure the git repository under `home` has a tag with exactly `source`'s content."""
    source = (source or template_dir(name)).resolve()
    repo = ((home or template_home()) / name).resolve()
    digest = content_hash(source)
    index_file = repo / ".git" / "gym-scaffold-versions"  # lines: "<content hash> <tag>"

    def lookup() -> str | None:
        if index_file.is_file():
            for line in index_file.read_text().splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[0] == digest:
                    return parts[1]
        return None

    tag = lookup()
    if tag is not None:  # the common case: a few file reads, no git
        return TemplateRef(repo, tag, created=False)

    repo.mkdir(parents=True, exist_ok=True)
    env = gitcheck.git_environment() | {
        "GIT_AUTHOR_NAME": "gym-scaffold",
        "GIT_AUTHOR_EMAIL": "gym-scaffold@localhost",
        "GIT_COMMITTER_NAME": "gym-scaffold",
        "GIT_COMMITTER_EMAIL": "gym-scaffold@localhost",
    }
    with _locked(repo.parent / f".{name}.lock"):
        tag = lookup()  # another process may have done it meanwhile
        if tag is not None:
            return TemplateRef(repo, tag, created=False)
        if not (repo / ".git").is_dir():
            _git_ok(repo, "init", "-q", env=env)
        for entry in repo.iterdir():
            if entry.name == ".git":
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        for rel in _template_files(source):
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / rel, repo / rel)
        _git_ok(repo, "add", "-A", env=env)
        count = len(index_file.read_text().splitlines()) + 1 if index_file.is_file() else 1
        tag = _next_tag(count)
        _git_ok(
            repo,
            "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false",
            "commit", "-q", "--allow-empty", "-m", f"{name} template from gym-scaffold {__version__}",
            env=env,
        )  # fmt: skip
        _git_ok(repo, "-c", "tag.gpgsign=false", "tag", "-f", tag, env=env)
        with index_file.open("a") as fh:
            fh.write(f"{digest} {tag}\n")
        return TemplateRef(repo, tag, created=True)


class _locked:
    """An exclusive file lock (POSIX); elsewhere, no lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: Any = None

    def __enter__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = self.path.open("a")
        try:
            import fcntl

            fcntl.flock(self.fh, fcntl.LOCK_EX)
        except ImportError:
            pass

    def __exit__(self, *exc: object) -> None:
        self.fh.close()


# --- env.yaml and .gitignore -------------------------------------------------------------


def _yaml_str(value: str) -> str:
    # JSON strings are YAML double-quoted scalars: safe for any URL, model or key.
    return json.dumps(value, ensure_ascii=False)


def env_yaml_text(answers: OpenAIModelAnswers, api_key: str | None, api_key_env: str) -> str:
    key_line = f"policy_api_key: {_yaml_str(api_key)}" if api_key else "policy_api_key: ???"
    origin = (
        f"from ${api_key_env}" if api_key else f"??? = not set yet (${api_key_env} was not set)"
    )
    return (
        "# Endpoints and keys for NeMo Gym; read from the checkout root. Never commit this file.\n"
        f"policy_base_url: {_yaml_str(answers.base_url)}\n"
        f"{key_line}  # {origin}\n"
        f"policy_model_name: {_yaml_str(answers.model)}\n"
    )


def _describe_existing_env(path: Path, answers: OpenAIModelAnswers) -> list[str]:
    """What an existing env.yaml lacks for this server, as notes."""
    from gym_scaffold.config.loader import load_file

    doc = load_file(path, ENV_FILE)
    if doc.problems or not isinstance(doc.data, dict):
        why = doc.problems[0].message if doc.problems else "it is not a mapping"
        return [f"{ENV_FILE} exists but cannot be read ({why}); left unchanged: check it by hand"]
    data = doc.data
    notes = []
    missing = [k for k in ENV_KEYS if k not in data]
    if missing:
        notes.append(f"{ENV_FILE} exists; left unchanged. It lacks: {', '.join(missing)}")
    else:
        notes.append(f"{ENV_FILE} exists and has {', '.join(ENV_KEYS)}; left unchanged")
    key = data.get("policy_api_key")
    if "policy_api_key" in data and (key in (None, "", "???") or not isinstance(key, str)):
        notes.append(
            f"{ENV_FILE}: policy_api_key is not set yet ({redact(key) if isinstance(key, str) else key!r})"
        )
    for env_key, answer in (
        ("policy_base_url", answers.base_url),
        ("policy_model_name", answers.model),
    ):
        if env_key in data and data[env_key] != answer:
            notes.append(
                f"{ENV_FILE}: {env_key} is {data[env_key]!r}; the server will use that, not {answer!r}"
            )
    return notes


def _git_ignore_state(dest: Path) -> tuple[bool | None, bool]:
    """(is env.yaml ignored by git, is it tracked); None when dest is not in a git work tree."""
    repo = gitcheck.find_repo_root(dest)
    if repo is None:
        return None, False
    rules = {problem.rule for problem in gitcheck.check_env_ignored(repo, [dest / ENV_FILE])
             if problem.severity is not Severity.NOTE}
    return gitcheck.RULE_GITIGNORE not in rules, gitcheck.RULE_TRACKED in rules


_IGNORE_LINES = {"env.yaml", "/env.yaml", "**/env.yaml"}
GITIGNORE_BLOCK = "# Local endpoints and API keys for NeMo Gym\nenv.yaml\n"


def _gitignore_mentions_env(path: Path) -> bool:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return False
    return any(line.strip() in _IGNORE_LINES for line in lines)


def _validate_generated(dest: Path, config_rel: str, environ: Mapping[str, str], outcome: Outcome) -> None:
    """Run `validate` on the new config, with the env.yaml now in place, and report the result."""
    from gym_scaffold.validate import ValidateOptions, run_validate

    result = run_validate(
        ValidateOptions(
            paths=[Path(config_rel)], cwd=dest, environ=dict(environ), check_git=False, use_cache=False
        )
    )
    found = [p for p in result.sorted_problems() if p.severity is not Severity.NOTE]
    if not found:
        outcome.done.append(f"validated {config_rel}: no problems")
    for problem in found:
        outcome.notes.append(
            f"validate: {problem.path}:{problem.line}:{problem.column}: {problem.severity}: "
            f"{problem.message} [{problem.rule}]"
        )


def _export_schemas(dest: Path, environ: Mapping[str, str], outcome: Outcome, undo: list[Callable[[], None]]) -> None:
    """The editor schemas the config's modeline points at, now naming the new server.

    Best effort: the server is complete without them (`gym-scaffold schema export` later).
    An interruption puts the schemas directory back as it was, with the rest."""
    from gym_scaffold import schema_export
    from gym_scaffold.cache import derived_schema_dir

    target = dest / schema_export.DEST
    existed = target.is_dir()
    created = [d for d in (target.parent, target) if not d.exists()]
    before = {p: p.read_bytes() for p in target.iterdir() if p.is_file()} if existed else {}

    def restore() -> None:
        if target.is_dir():
            for path in target.iterdir():
                if path not in before:
                    path.unlink()
        for path, data in before.items():
            path.write_bytes(data)
        for directory in reversed(created):
            directory.rmdir()

    undo.append(restore)
    try:
        schema_export.export(dest, target, derived_cache=derived_schema_dir(environ))
        if not existed and not schema_export.committed(dest, target):
            schema_export.set_ignored(target, True)
    except OSError as exc:
        outcome.notes.append(
            f"editor schemas not written ({exc.strerror or exc}): run `gym-scaffold schema export`"
        )
        return
    outcome.done.append(
        f"{'updated' if existed else 'wrote'} editor schemas in {schema_export.DEST.as_posix()}/"
        + ("" if existed else " (ignored by git; `gym-scaffold schema export --commit` to commit them)")
    )


# --- the command --------------------------------------------------------------------------


@dataclass
class Outcome:
    server_dir: Path
    done: list[str] = field(default_factory=list)  # what changed, one line each
    notes: list[str] = field(default_factory=list)  # what the user should know
    next_steps: list[str] = field(default_factory=list)


def _answers_scalar(value: str) -> str:
    # Plain when YAML reads it back as the same string, as Copier writes it; quoted otherwise.
    from gym_scaffold.config.loader import resolve_plain

    if (
        re.fullmatch(r"[A-Za-z0-9_./~+-][A-Za-z0-9_./~+@-]*", value)
        and resolve_plain(value) == value
    ):
        return value
    return _yaml_str(value)


def _rewrite_answers_source(answers_file: Path, ref: TemplateRef) -> None:
    lines = answers_file.read_text().splitlines()
    out = []
    for line in lines:
        if line.startswith("_commit:"):
            continue
        if line.startswith("_src_path:"):
            out.append(f"_commit: {_answers_scalar(ref.tag)}")
            out.append(f"_src_path: {_answers_scalar(str(ref.repo))}")
            continue
        out.append(line)
    answers_file.write_text("\n".join(out) + "\n")


def new_openai_model(
    dest: Path,
    answers: OpenAIModelAnswers,
    *,
    api_key_env: str = DEFAULT_API_KEY_ENV,
    environ: Mapping[str, str] | None = None,
    template: Path | None = None,
    home: Path | None = None,
) -> Outcome:
    """Create responses_api_models/<name>/ under `dest`, then env.yaml and .gitignore as needed."""
    env = os.environ if environ is None else environ
    dest = Path(dest)
    if not dest.exists():
        raise ScaffoldError(f"destination {dest} does not exist", EXIT_USAGE)
    if not dest.is_dir():
        raise ScaffoldError(f"destination {dest} is not a directory", EXIT_USAGE)
    dest = dest.resolve()
    rel_server = f"{SERVER_TYPE_DIR}/{answers.server_name}"
    server_dir = dest / SERVER_TYPE_DIR / answers.server_name
    if server_dir.exists() or server_dir.is_symlink():
        raise ScaffoldError(
            f"{rel_server}/ already exists in {dest}; nothing was changed. "
            f"Choose another name (--name) or move that directory away first."
        )
    outcome = Outcome(server_dir)
    if not (dest / "nemo_gym").is_dir() and not (dest / SERVER_TYPE_DIR).is_dir():
        outcome.notes.append(
            f"{dest} does not look like a NeMo Gym checkout (no nemo_gym/ or {SERVER_TYPE_DIR}/): "
            "generated there anyway"
        )
    source = (template or template_dir()).resolve()

    # Where `copier update` will read the template from (best effort: rendering does not need it).
    ref: TemplateRef | None
    try:
        ref = sync_template(source, home if home is not None else template_home(env))
    except (ScaffoldError, OSError) as exc:
        ref = None
        outcome.notes.append(f"`copier update` will not find this template version: {exc}")

    # Decide about env.yaml and .gitignore before changing anything.
    env_path = dest / ENV_FILE
    env_exists = env_path.exists() or env_path.is_symlink()
    raw_key = env.get(api_key_env) if api_key_env else None
    api_key = raw_key.strip() if raw_key else None
    if raw_key and api_key != raw_key:
        outcome.notes.append(
            f"${api_key_env} had surrounding whitespace; env.yaml got the key without it"
        )
    ignored, tracked = _git_ignore_state(dest)
    gitignore = dest / ".gitignore"
    needs_ignore = (not ignored) if ignored is not None else not _gitignore_mentions_env(gitignore)

    import copier  # heavy: only `new` pays for it

    undo: list[Callable[[], None]] = []
    staging = Path(tempfile.mkdtemp(prefix=".gym-scaffold-new-", dir=dest))
    try:
        try:
            copier.run_copy(
                str(source),
                str(staging),
                data=answers.copier_data(),
                defaults=True,
                quiet=True,
                unsafe=False,
                overwrite=True,
            )
        except ValueError as exc:  # a copier.yml validator refused an answer
            raise ScaffoldError(f"the template refused the answers: {exc}", EXIT_USAGE) from None
        rendered = staging / SERVER_TYPE_DIR / answers.server_name
        if ref is not None:
            _rewrite_answers_source(rendered / ".copier-answers.yml", ref)

        parent = dest / SERVER_TYPE_DIR
        if not parent.exists():
            parent.mkdir()
            undo.append(lambda: parent.rmdir())
        os.rename(rendered, server_dir)
        undo.append(lambda: shutil.rmtree(server_dir))
        files = sum(1 for p in server_dir.rglob("*") if p.is_file())
        outcome.done.append(f"created {rel_server}/ ({files} files)")

        if env_exists:
            outcome.notes.extend(_describe_existing_env(env_path, answers))
        else:
            fd = os.open(env_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            undo.append(lambda: env_path.unlink())
            with os.fdopen(fd, "w") as fh:
                fh.write(env_yaml_text(answers, api_key, api_key_env))
            if api_key:
                outcome.done.append(
                    f"created {ENV_FILE} (policy_api_key from ${api_key_env}: {redact(api_key)}; mode 600)"
                )
            else:
                outcome.done.append(
                    f"created {ENV_FILE} (policy_api_key: ??? because ${api_key_env} is not set)"
                )

        if needs_ignore:
            before = gitignore.read_bytes() if gitignore.exists() else None
            undo.append(
                lambda: gitignore.write_bytes(before) if before is not None else gitignore.unlink()
            )
            prefix = b"" if not before or before.endswith(b"\n") else b"\n"
            with gitignore.open("ab") as fh:
                fh.write(prefix + GITIGNORE_BLOCK.encode())
            outcome.done.append(
                "added env.yaml to .gitignore"
                if before is not None
                else "created .gitignore (ignores env.yaml)"
            )
            if ignored is not None and not _git_ignore_state(dest)[0]:
                outcome.notes.append(
                    ".gitignore now lists env.yaml but git still does not ignore it: look for a `!env.yaml` rule"
                )
        if tracked:
            outcome.notes.append(
                f"{ENV_FILE} is tracked by git: run `git rm --cached {ENV_FILE}` to stop committing keys"
            )
        _export_schemas(dest, env, outcome, undo)
    except BaseException:
        for step in reversed(undo):
            try:
                step()
            except OSError:
                pass
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    config_rel = f"{rel_server}/configs/{answers.server_name}.yaml"
    _validate_generated(dest, config_rel, env, outcome)
    if not env_exists and not api_key:
        outcome.next_steps.append(f"put your key in {ENV_FILE} (policy_api_key, now ???)")
    outcome.next_steps.append("gym-scaffold doctor    # checks the endpoint, key and model")
    outcome.next_steps.append(f'ng_run "+config_paths=[{config_rel}]"')
    outcome.next_steps.append(f"ng_test +entrypoint={rel_server}")
    if ref is not None:
        outcome.next_steps.append(
            f"later, to take in template updates: copier update --answers-file {rel_server}/.copier-answers.yml"
        )
    return outcome
