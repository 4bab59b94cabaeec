"""Run the doctor: find targets, check them, return a DoctorResult. No click here."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gym_scaffold.doctor.classify import Category, Diagnosis
from gym_scaffold.doctor.results import Check, DoctorResult, ServerResult, Status
from gym_scaffold.doctor.static import provider_of_host, run_static
from gym_scaffold.doctor.targets import (
    Overrides,
    UsageError,
    find_env_file,
    from_configs,
    from_env_yaml,
)
from gym_scaffold.secrets import Secret, looks_like_secret
from gym_scaffold.urls import split_url

_SECRET_NAME = re.compile(r"(?:api_key|token|secret|password)$", re.IGNORECASE)

DEFAULT_TIMEOUT = 20.0
MAX_LOG_BYTES = 64 * 1024 * 1024

__all__ = ["DEFAULT_TIMEOUT", "Options", "UsageError", "run"]


@dataclass
class Options:
    configs: list[Path] = field(default_factory=list)
    env_file: Path | None = None
    server: str | None = None
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    no_inference: bool = False
    timeout: float = DEFAULT_TIMEOUT
    log: str | None = None  # a path, or "-" for stdin
    cwd: Path | None = None
    environ: Mapping[str, str] | None = None
    # True when this process is the gym-scaffold command: --timeout then counts from process start
    whole_process: bool = False


# Kept back from --timeout for writing the report and leaving the interpreter.
EXIT_MARGIN_S = 0.15


def process_age() -> float:
    """Seconds since this process started (interpreter start and imports), 0 if unknown.

    --timeout bounds the whole command, so the probes' deadline counts from process start.
    """
    try:
        with open("/proc/self/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
        with open("/proc/uptime", "rb") as fh:
            uptime = float(fh.read().split()[0])
        ticks = os.sysconf("SC_CLK_TCK")
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
        age = uptime - start_ticks / ticks
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0
    return age if 0.0 <= age < 60.0 else 0.0


def run(opts: Options) -> DoctorResult:
    started = time.monotonic()
    if not (opts.timeout > 0):
        raise UsageError("--timeout must be a positive number of seconds")
    age = process_age() if opts.whole_process else 0.0
    deadline = started + max(0.1, opts.timeout - age - EXIT_MARGIN_S)
    environ = dict(os.environ if opts.environ is None else opts.environ)
    cwd = opts.cwd or Path.cwd()
    if opts.log is not None:
        result = _run_log(opts, environ, cwd)
    else:
        result = _run_probes(opts, environ, cwd, deadline)
    result.elapsed_s = time.monotonic() - started
    return result


def _read_log(source: str) -> str:
    if source == "-":
        data = sys.stdin.buffer.read(MAX_LOG_BYTES) if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    else:
        path = Path(source)
        if not path.is_file():
            raise UsageError(f"--log {source}: no such file")
        try:
            with path.open("rb") as fh:
                data = fh.read(MAX_LOG_BYTES)
        except OSError as exc:
            raise UsageError(f"--log {source}: cannot read: {exc.strerror or exc}") from None
    return data.decode("utf-8", errors="replace")


def _run_log(opts: Options, environ: Mapping[str, str], cwd: Path) -> DoctorResult:
    from gym_scaffold.doctor.logscan import iter_diagnoses, scan

    result = DoctorResult(log_mode=True)
    text = _read_log(opts.log or "-")
    # keys the user has at hand are scrubbed from the output even if a log echoes them whole
    if opts.api_key_env and environ.get(opts.api_key_env):
        result.secrets.append(Secret(environ[opts.api_key_env]))
    try:
        env_path, _ = find_env_file(opts.env_file, cwd)
    except UsageError:
        env_path = None
    if env_path is not None:
        from gym_scaffold.config.loader import load_file

        data = load_file(env_path).data  # never raises: problems land in the Document
        if isinstance(data, dict):
            # Only keys: scrubbing every env.yaml value (base URLs, model names) would mangle
            # the log's own text, e.g. the provider's help URL.
            result.secrets.extend(
                Secret(value)
                for name, value in data.items()
                if isinstance(value, str)
                and len(value) >= 4
                and (_SECRET_NAME.search(str(name)) or looks_like_secret(value))
            )
    for source, d in iter_diagnoses(scan(text)):
        result.log_diagnoses.append((source, d))
    return result


def _run_probes(opts: Options, environ: Mapping[str, str], cwd: Path, deadline: float) -> DoctorResult:
    ov = Overrides(base_url=opts.base_url, model=opts.model, api_key_env=opts.api_key_env)
    env_path, roots = find_env_file(opts.env_file, cwd)
    if opts.configs:
        found = from_configs(opts.configs, env_path, roots, cwd, opts.server, ov, environ)
    else:
        if opts.server is not None:
            raise UsageError("--server selects an instance of --config files; no --config given")
        if env_path is None and not (opts.base_url or opts.model or opts.api_key_env):
            raise UsageError(
                "nothing to check: no env.yaml in the working directory or git root; "
                "pass --config FILES, --env-file PATH, or --base-url/--model/--api-key-env"
            )
        found = from_env_yaml(env_path, cwd, ov, environ)

    result = DoctorResult(checks=list(found.checks))
    needs_network: list[ServerResult] = []
    for target in found.targets:
        parts = split_url(target.base_url) if isinstance(target.base_url, str) else None
        host = parts.hostname if parts is not None else None
        target.where.provider = target.provider_hint or provider_of_host(host, target.implementation)
        if target.implementation in ("env.yaml", "flags"):
            target.api = "responses" if target.where.provider == "openai" else "chat"
        if target.api_key is not None and "api_key" not in target.unresolved:
            result.secrets.append(target.api_key)
        res = ServerResult(target)
        result.servers.append(res)
        diagnosis = run_static(res, environ)
        if diagnosis is not None:
            res.diagnosis = diagnosis
        else:
            needs_network.append(res)

    if needs_network:
        try:
            import openai  # noqa: F401 - the one place the SDK is loaded
        except Exception as exc:  # noqa: BLE001
            for res in needs_network:
                res.diagnosis = Diagnosis(Category.UNEXPECTED_RESPONSE, f"the openai SDK cannot be imported: {exc}",
                                          "Reinstall gym-scaffold (pip install gym-scaffold) in this environment.")
            needs_network = []
        from gym_scaffold.doctor import probes

        running = [probes.probe(res, deadline, opts.no_inference) for res in needs_network]
        probes.wait(running, deadline)

    for res in result.servers:
        done = {c.id.rpartition("/")[2] for c in res.checks}
        stopped = res.diagnosis is not None and not res.diagnosis.ok
        for step in ("network", "auth", "model", "inference"):
            if step not in done:
                why = "a static check failed" if res not in needs_network else "stopped at the first failure"
                if stopped:
                    res.add(step, Status.SKIPPED, f"not run: {why}")
        if res.diagnosis is None:  # cannot happen; keep the one-diagnosis promise regardless
            res.diagnosis = Diagnosis(Category.UNEXPECTED_RESPONSE, "no result", "Run again with --format json.")
    if not result.servers and not any(c.status is Status.FAILURE for c in result.checks):
        result.checks.append(Check("config", Status.FAILURE, "no model server to check"))
    return result
