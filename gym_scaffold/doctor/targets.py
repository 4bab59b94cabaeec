"""Which endpoints to check, and where each of their values was written.

Three sources, as NeMo Gym itself would see them:
- `--config` files, composed with env.yaml and resolved like `validate` does: every
  OpenAI-compatible model server instance (openai_model, litellm_model, azure_openai_model,
  vllm_model, inference_provider field names);
- no `--config`: env.yaml's policy_base_url / policy_api_key / policy_model_name;
- flags `--base-url`, `--model`, `--api-key-env NAME` override either (or stand alone).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gym_scaffold.doctor.classify import Where
from gym_scaffold.doctor.results import Check, Status, Target
from gym_scaffold.secrets import Secret

# implementation -> (base url field, key field, model field, API, concurrency field or None)
FIELDS: dict[str, tuple[str, str, str, str, str | None]] = {
    "openai_model": ("openai_base_url", "openai_api_key", "openai_model", "responses", "max_concurrent_requests"),
    "litellm_model": ("openai_base_url", "openai_api_key", "openai_model", "responses", "max_concurrent_requests"),
    "azure_openai_model": ("openai_base_url", "openai_api_key", "openai_model", "chat", "num_concurrent_requests"),
    "vllm_model": ("base_url", "api_key", "model", "chat", None),
    "inference_provider": ("base_url", "api_key", "model", "chat", "num_concurrent_requests"),
}
ENV_FIELDS = ("policy_base_url", "policy_api_key", "policy_model_name")


class UsageError(Exception):
    """Bad input that is the caller's to fix (exit code 2)."""


@dataclass
class Overrides:
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None


@dataclass
class Found:
    targets: list[Target] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    env_path: Path | None = None


def _is_unresolved(value: Any) -> bool:
    return isinstance(value, str) and ("${" in value or value.strip() == "???")


def git_toplevel(cwd: Path) -> Path | None:
    """The work tree root above `cwd` (the nearest directory holding `.git`), without running git:
    a subprocess costs more than the rest of a 401 diagnosis outside the SDK import."""
    try:
        here = cwd.resolve()
    except OSError:
        return None
    for directory in (here, *here.parents):
        if (directory / ".git").exists():
            return directory
    return None


def find_env_file(env_file: Path | None, cwd: Path) -> tuple[Path | None, list[Path]]:
    """The env.yaml in effect and the roots configs resolve against."""
    roots = [cwd]
    top = git_toplevel(cwd)
    if top is not None and top.resolve() != cwd.resolve():
        roots.append(top)
    if env_file is not None:
        if not env_file.is_file():
            raise UsageError(f"--env-file {env_file}: no such file")
        return env_file, roots
    for root in roots:
        candidate = root / "env.yaml"
        if candidate.is_file():
            return candidate, roots
    return None, roots


def _display(cwd: Path) -> Any:
    def display(path: Path) -> str:
        try:
            return str(Path(path).resolve().relative_to(cwd.resolve()))
        except ValueError:
            return str(path)

    return display


def _api_key_from_env(name: str, environ: Mapping[str, str]) -> tuple[Secret | None, str]:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise UsageError(f"--api-key-env takes the NAME of an environment variable, not {name[:3]}...")
    value = environ.get(name)
    return (Secret(value) if value is not None else None), f"environment variable {name}"


def _where_phrase(name: str, origin: Any | None) -> str:
    if origin is None:
        return name
    return f"{name} in {origin.path}:{origin.line}"


def describe(composed: Any, path: tuple, environ: Mapping[str, str] | None = None) -> str:
    """Where a person changes the value at `path`: the source of its value, followed through
    `${key}` and `${oc.env:VAR}` as `show --show-origin` follows them (config/provenance.py)."""
    from gym_scaffold.config.provenance import dotted, provenance

    chain = provenance(composed, path, environ if environ is not None else {})
    first, source = chain.steps[0], chain.source
    here = _where_phrase(dotted(first.path), first.origin)
    if source.inherited is not None and len(chain.steps) == 1:
        return f"{here} (from {source.inherited.directive}: {source.inherited.target})"
    if source.env_var is not None:
        read_by = here if source is first else f"{_where_phrase(dotted(source.path), source.origin)}, read by {here}"
        return f"environment variable {source.env_var} (read by {read_by})"
    if source.missing:
        return f"{dotted(source.path)} in env.yaml (not defined anywhere; read by {here})"
    if source is first:
        return here
    return f"{_where_phrase(dotted(source.path), source.origin)} (read by {here})"


def from_env_yaml(env_path: Path | None, cwd: Path, ov: Overrides, environ: Mapping[str, str]) -> Found:
    found = Found(env_path=env_path)
    data: dict = {}
    composed = None
    display = _display(cwd)
    env_name = display(env_path) if env_path else "env.yaml"
    if env_path is not None:
        from gym_scaffold.config.compose import compose, load_env_file

        env = load_env_file(env_path, env_name)
        for p in env.document.problems:
            found.checks.append(Check("config", Status.FAILURE, f"{p.path}:{p.line}: {p.message}", p.hint))
        data = env.data
        composed = compose([], roots=[], env=env, display=display)
    elif not (ov.base_url and ov.model):
        found.checks.append(
            Check("config", Status.WARNING, "no env.yaml found (looked in the working directory and the git root)",
                  "Pass --env-file PATH, --config FILES, or --base-url/--model/--api-key-env.")
        )

    def where_of(key: str) -> str:
        if composed is None or key not in data:
            return f"{key} in {env_name}"
        return describe(composed, (key,), environ)  # as `show` names it

    target = Target(
        server="policy" if env_path is not None else "endpoint",
        implementation="env.yaml" if env_path is not None else "flags",
        base_url=data.get("policy_base_url"),
        api_key=None,
        model=data.get("policy_model_name"),
        where=Where(key=where_of("policy_api_key"), base_url=where_of("policy_base_url"),
                    model=where_of("policy_model_name"),
                    concurrency="max_concurrent_requests of the model server"),
    )
    raw_key = data.get("policy_api_key")
    _set_key(target, raw_key)
    for fld, value in (("base_url", target.base_url), ("model", target.model)):
        if _is_unresolved(value):
            target.unresolved[fld] = value
    _apply_overrides(target, ov, environ)
    found.targets.append(target)
    return found


def _set_key(target: Target, raw_key: Any) -> None:
    if raw_key is None:
        target.api_key = None
    elif isinstance(raw_key, str):
        if _is_unresolved(raw_key):
            target.unresolved["api_key"] = raw_key
        target.api_key = Secret(raw_key)
    else:
        target.raw_key = raw_key
        target.api_key = None


def _apply_overrides(target: Target, ov: Overrides, environ: Mapping[str, str]) -> None:
    if ov.base_url is not None:
        target.base_url = ov.base_url
        target.unresolved.pop("base_url", None)
        target.where.base_url = "--base-url"
    if ov.model is not None:
        target.model = ov.model
        target.unresolved.pop("model", None)
        target.where.model = "--model"
    if ov.api_key_env is not None:
        secret, where = _api_key_from_env(ov.api_key_env, environ)
        target.api_key = secret
        target.raw_key = None
        target.unresolved.pop("api_key", None)
        target.where.key = where


def from_configs(
    files: Sequence[Path],
    env_path: Path | None,
    roots: Sequence[Path],
    cwd: Path,
    server: str | None,
    ov: Overrides,
    environ: Mapping[str, str],
) -> Found:
    from gym_scaffold.config.compose import compose, load_env_file
    from gym_scaffold.config.model import iter_servers
    from gym_scaffold.config.resolve import resolve

    for f in files:
        if not f.is_file():
            raise UsageError(f"--config {f}: no such file")
    display = _display(cwd)
    found = Found(env_path=env_path)
    env = load_env_file(env_path, display(env_path)) if env_path is not None else None
    composed = compose(list(files), roots=list(roots), env=env, display=display)
    resolved = resolve(composed, environ)
    for doc in composed.documents:
        for p in doc.problems:
            if str(getattr(p, "severity", "error")) == "error":
                found.checks.append(Check("config", Status.FAILURE, f"{p.path}:{p.line}: {p.message}", p.hint))
    if env is not None:
        for p in env.document.problems:
            found.checks.append(Check("config", Status.FAILURE, f"{p.path}:{p.line}: {p.message}", p.hint))
    for p in list(composed.problems) + list(resolved.problems):
        if str(getattr(p, "severity", "error")) == "error":
            found.checks.append(Check("config", Status.WARNING, f"{p.path}:{p.line}: {p.message}", p.hint))

    servers = []
    names = []
    for s in iter_servers(resolved.data):
        if s.server_type != "responses_api_models":
            continue
        fields = FIELDS.get(s.implementation)
        if fields is None:
            if "openai_base_url" in s.body:
                fields = FIELDS["openai_model"]
            elif "base_url" in s.body and "model" in s.body:
                fields = FIELDS["vllm_model"]
            else:
                continue
        names.append(s.instance)
        if server is None or s.instance == server:
            servers.append((s, fields))
    if server is not None and not servers:
        available = ", ".join(names) or "none"
        raise UsageError(f"--server {server}: no such model server instance (found: {available})")
    if not servers:
        found.checks.append(
            Check("config", Status.FAILURE, "no OpenAI-compatible model server found in the given configs",
                  "Pass the config that defines the model server (e.g. responses_api_models/openai_model/configs/...yaml).")
        )
        return found

    for s, (url_f, key_f, model_f, api, conc_f) in servers:
        base = s.path
        urls = s.body.get(url_f)
        url_list = urls if isinstance(urls, list) and urls else [urls]
        for i, url in enumerate(url_list):
            label = s.instance if len(url_list) == 1 else f"{s.instance}[{i}]"
            url_path = base + ((url_f,) if len(url_list) == 1 else (url_f, i))
            conc = (
                f"{conc_f} under {'.'.join(base)}"
                if conc_f
                else "the vLLM server's --max-num-seqs"
            )
            target = Target(
                server=label,
                implementation=s.implementation,
                base_url=url,
                api_key=None,
                model=s.body.get(model_f),
                where=Where(
                    key=describe(composed, base + (key_f,), environ),
                    base_url=describe(composed, url_path, environ),
                    model=describe(composed, base + (model_f,), environ),
                    concurrency=conc,
                ),
                api=api,
            )
            _set_key(target, s.body.get(key_f))
            for fld, value in (("base_url", url), ("model", target.model)):
                if _is_unresolved(value):
                    target.unresolved[fld] = value
            # Servers made by `gym-scaffold new` say which API the upstream speaks and how it
            # takes the key (Azure: an api-key header and an api-version query parameter).
            if s.body.get("upstream_api") in ("responses", "chat_completions"):
                target.api = "responses" if s.body["upstream_api"] == "responses" else "chat"
            if str(s.body.get("api_key_header", "")).lower() == "api-key":
                target.provider_hint = "azure"
            if s.implementation == "azure_openai_model" or target.provider_hint == "azure":
                target.api_version_where = f"default_query: {{api-version: ...}} under {describe(composed, base)}"
                dq = s.body.get("default_query")
                if isinstance(dq, dict) and isinstance(dq.get("api-version"), str):
                    target.azure_api_version = dq["api-version"]
            headers = s.body.get("openai_default_headers") or s.body.get("default_headers")
            if isinstance(headers, dict):
                target.default_headers = {str(k): str(v) for k, v in headers.items() if isinstance(v, (str, int))}
            _apply_overrides(target, ov, environ)
            found.targets.append(target)
    return found
