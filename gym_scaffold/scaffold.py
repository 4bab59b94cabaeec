"""`gym-scaffold new`: render a Copier template into a NeMo Gym checkout, safely.

No click here: `commands/new.py` parses options and prints; this module does the work.

Guarantees:
- an existing server directory is never touched;
- the destination ends up either fully changed (server directory, env.yaml, .gitignore) or
  exactly as it was: the template renders into a temporary directory inside the destination
  and is moved into place, and every later change is undone if a step fails;
- env.yaml is created only when missing, and a key read from the environment is never printed.

The answers file records as the template source the git repository `template_repo` keeps
(under `~`, so the path means the same on every machine) and the template's version as the tag:
what Copier would record had it rendered from there, and what `gym-scaffold update` reads.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gym_scaffold import gitcheck, template_repo
from gym_scaffold.answers import PRESETS, ServerAnswers, env_keys
from gym_scaffold.problem import Severity
from gym_scaffold.secrets import redact
from gym_scaffold.template_repo import TemplateError, TemplateRef

SERVER_TYPE_DIR = "responses_api_models"
ENV_FILE = "env.yaml"

EXIT_PROBLEMS = 1
EXIT_USAGE = 2


class ScaffoldError(Exception):
    """A reason to stop before (or instead of) changing anything; carries the exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_PROBLEMS) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def server_dir_taken(dest: Path, name: str) -> bool:
    path = dest / SERVER_TYPE_DIR / name
    return path.exists() or path.is_symlink()


def free_server_name(dest: Path, name: str) -> str:
    """`name`, or the first of name_2, name_3, ... whose directory does not exist yet."""
    if not server_dir_taken(dest, name):
        return name
    number = 2
    while server_dir_taken(dest, f"{name}_{number}"):
        number += 1
    return f"{name}_{number}"


# --- env.yaml and .gitignore -------------------------------------------------------------


def _yaml_str(value: str) -> str:
    # JSON strings are YAML double-quoted scalars: safe for any URL, model or key.
    return json.dumps(value, ensure_ascii=False)


def env_yaml_text(answers: ServerAnswers, api_key: str | None, api_key_env: str) -> str:
    url_key, key_key, model_key = env_keys(answers.env_prefix)
    local_key = PRESETS[answers.provider].local_key
    if api_key:
        key_line, origin = f"{key_key}: {_yaml_str(api_key)}", f"from ${api_key_env}"
    elif local_key:
        key_line = f"{key_key}: {_yaml_str(local_key)}"
        origin = f"any value works unless the server was started with --api-key (${api_key_env} was not set)"
    else:
        key_line, origin = f"{key_key}: ???", f"??? = not set yet (${api_key_env} was not set)"
    urls = [url.strip() for url in answers.base_url.split(",")]
    # Several URLs (vLLM data-parallel replicas) are a list, which ${..._base_url} passes on whole.
    base_url = _yaml_str(urls[0]) if len(urls) == 1 else "[" + ", ".join(_yaml_str(u) for u in urls) + "]"
    return (
        "# Endpoints and keys for NeMo Gym; read from the checkout root. Never commit this file.\n"
        f"{url_key}: {base_url}\n"
        f"{key_line}  # {origin}\n"
        f"{model_key}: {_yaml_str(answers.model)}\n"
    )


def _describe_existing_env(path: Path, answers: ServerAnswers) -> tuple[list[str], list[str]]:
    """What an existing env.yaml lacks for this server: notes, and the keys it lacks."""
    from gym_scaffold.config.loader import load_file

    url_key, key_key, model_key = keys = env_keys(answers.env_prefix)
    doc = load_file(path, ENV_FILE)
    if doc.problems or not isinstance(doc.data, dict):
        why = doc.problems[0].message if doc.problems else "it is not a mapping"
        return [f"{ENV_FILE} exists but cannot be read ({why}); left unchanged: check it by hand"], []
    data = doc.data
    notes = []
    missing = [k for k in keys if k not in data]
    if missing:
        notes.append(f"{ENV_FILE} exists; left unchanged. It lacks: {', '.join(missing)}")
    else:
        notes.append(f"{ENV_FILE} exists and has {', '.join(keys)}; left unchanged")
    key = data.get(key_key)
    if key_key in data and (key in (None, "", "???") or not isinstance(key, str)):
        notes.append(f"{ENV_FILE}: {key_key} is not set yet ({redact(key) if isinstance(key, str) else key!r})")
    urls = [url.strip() for url in answers.base_url.split(",")]
    for env_key, answer in ((url_key, urls[0] if len(urls) == 1 else urls), (model_key, answers.model)):
        if env_key in data and data[env_key] != answer:
            notes.append(f"{ENV_FILE}: {env_key} is {data[env_key]!r}; the server will use that, not {answer!r}")
    return notes, missing


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


def rewrite_answers_source(answers_file: Path, ref: TemplateRef, environ: Mapping[str, str] | None = None) -> None:
    """Record `ref` as where the template came from, as Copier records a git template."""
    lines = answers_file.read_text().splitlines()
    out = []
    for line in lines:
        if line.startswith("_commit:"):
            continue
        if line.startswith("_src_path:"):
            out.append(f"_commit: {_answers_scalar(ref.tag)}")
            out.append(f"_src_path: {_answers_scalar(ref.src_path(environ))}")
            continue
        out.append(line)
    answers_file.write_text("\n".join(out) + "\n")


def new_server(
    dest: Path,
    answers: ServerAnswers,
    *,
    api_key_env: str | None = None,
    environ: Mapping[str, str] | None = None,
    template: Path | None = None,
    home: Path | None = None,
) -> Outcome:
    """Create responses_api_models/<name>/ under `dest`, then env.yaml and .gitignore as needed."""
    env = os.environ if environ is None else environ
    key_key = env_keys(answers.env_prefix)[1]
    if api_key_env is None:
        api_key_env = PRESETS[answers.provider].api_key_env
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
    try:
        source = (template or template_repo.templates_root(env)).resolve()
    except TemplateError as exc:
        raise ScaffoldError(str(exc), EXIT_USAGE) from None

    # Where `copier update` will read the template from (best effort: rendering does not need it).
    ref: TemplateRef | None
    try:
        ref = template_repo.sync_template(source, home if home is not None else template_repo.template_home(env))
    except (TemplateError, OSError) as exc:
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
            rewrite_answers_source(rendered / ".copier-answers.yml", ref, env)

        parent = dest / SERVER_TYPE_DIR
        if not parent.exists():
            parent.mkdir()
            undo.append(lambda: parent.rmdir())
        os.rename(rendered, server_dir)
        undo.append(lambda: shutil.rmtree(server_dir))
        files = sum(1 for p in server_dir.rglob("*") if p.is_file())
        outcome.done.append(f"created {rel_server}/ ({files} files)")

        missing_keys: list[str] = []
        if env_exists:
            env_notes, missing_keys = _describe_existing_env(env_path, answers)
            outcome.notes.extend(env_notes)
        else:
            fd = os.open(env_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            undo.append(lambda: env_path.unlink())
            with os.fdopen(fd, "w") as fh:
                fh.write(env_yaml_text(answers, api_key, api_key_env))
            if api_key:
                outcome.done.append(
                    f"created {ENV_FILE} ({key_key} from ${api_key_env}: {redact(api_key)}; mode 600)"
                )
            elif PRESETS[answers.provider].local_key:
                outcome.done.append(
                    f"created {ENV_FILE} ({key_key}: {PRESETS[answers.provider].local_key}, "
                    f"which a server started without --api-key accepts; ${api_key_env} is not set)"
                )
            else:
                outcome.done.append(
                    f"created {ENV_FILE} ({key_key}: ??? because ${api_key_env} is not set)"
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
    if missing_keys:
        # The lines to add (never the key itself: it may be on screen or in a terminal log).
        url_key, _, model_key = env_keys(answers.env_prefix)
        values = {url_key: answers.base_url, key_key: f"<your key; ${api_key_env}>", model_key: answers.model}
        lines = ", ".join(f"{k}: {values[k]}" for k in missing_keys)
        outcome.next_steps.append(f"add to {ENV_FILE}: {lines}")
    if not env_exists and not api_key and not PRESETS[answers.provider].local_key:
        outcome.next_steps.append(f"put your key in {ENV_FILE} ({key_key}, now ???)")
    outcome.next_steps.append(f"gym-scaffold doctor --config {config_rel}    # checks the endpoint, key and model")
    outcome.next_steps.append(f'ng_run "+config_paths=[{config_rel}]"')
    outcome.next_steps.append(f"ng_test +entrypoint={rel_server}")
    if ref is not None:
        outcome.next_steps.append(
            f"later, to take in template updates: gym-scaffold update {rel_server}"
        )
    return outcome
