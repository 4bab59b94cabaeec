"""`show`: the composed, resolved config of one run, where each value came from, secrets masked.

The run is composed and checked exactly as `validate --config A --config B` checks it
(validate.Validator.check_run: includes, env.yaml, directives, interpolations, then the
rules), so what `show` prints and what `validate` reports cannot disagree. On top of that:

- fields a server block leaves out get their default from the server's config class in
  `app.py` (gym_scaffold/defaults.py), marked as such;
- each leaf gets its origin (gym_scaffold/config/provenance.py, which `doctor` uses too);
- whatever cannot be resolved is shown in place, annotated, and its problem is listed;
- key-like fields and key-shaped values are masked to `****...last4`.

Click-free: commands/show.py parses options and prints `render_yaml` / `render_json`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gym_scaffold.config.loader import DataPath
from gym_scaffold.config.model import MANDATORY, ConfigView, Unresolved, iter_servers
from gym_scaffold.problem import Problem, Severity
from gym_scaffold.secrets import looks_like_secret, redact, scrub

MASK = "****"
# Names of fields that hold keys, with `_` or `-` before them (`x-api-key` is a header):
# api_key, apiKey, access_key, hf_token, client_secret, password, Authorization; not
# max_tokens, answer_key (whose values are shown unless they look like a key).
_SECRET_NAME = re.compile(
    r"(?:^|[_\-])(?:api[_\-]?key|access[_\-]?key|secret[_\-]?key|private[_\-]?key|key[_\-]?secret"
    r"|token|access[_\-]?token|secret|password|passwd|authorization)$",
    re.IGNORECASE,
)


class ShowError(Exception):
    """A command line that names something not there (exit code 2)."""


@dataclass
class ShowOptions:
    configs: list[Path] = field(default_factory=list)  # one run, as `ng_run +config_paths=[...]`
    env_file: Path | None = None
    select: str | None = None  # DOTTED.PATH: print this subtree only
    cwd: Path = field(default_factory=Path.cwd)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    defaults: bool = True  # add the defaults of each server's config class


@dataclass
class Shown:
    """The config to print: data and a parallel tree of origin texts (same shape)."""

    data: Any
    origins: Any
    problems: list[Problem]
    selected: DataPath = ()

    @property
    def failed(self) -> bool:
        return any(p.severity is Severity.ERROR for p in self.problems)


def is_secret_name(key: Any) -> bool:
    """Field names that hold keys: api_key, openai_api_key, hf_token, client_secret ... (not max_tokens)."""
    return isinstance(key, str) and bool(_SECRET_NAME.search(key))


def mask(value: Any) -> str:
    """`****...last4`: the most of a key any output may show."""
    text = value if isinstance(value, str) else str(value)
    shown = redact(text)
    return MASK + shown if shown.startswith("...") else MASK


# --------------------------------------------------------------------------------------


def run_show(options: ShowOptions) -> Shown:
    from gym_scaffold.validate import ValidateOptions, Validator

    validator = Validator(
        ValidateOptions(
            configs=list(options.configs),
            env_file=options.env_file,
            cwd=options.cwd,
            environ=options.environ,
            check_git=False,
            use_cache=False,
        )
    )
    env = validator.load_env()
    if options.configs:
        view = validator.check_run(list(options.configs), env)
        validator.check_env(env)
    else:
        view = validator.check_env(env) or validator.empty_view()
    result = validator.finish()
    builder = _Builder(view, options.environ, validator)
    if options.defaults:
        builder.add_defaults()
    data, origins = builder.build()
    if options.configs and isinstance(data, dict):
        data["config_paths"], origins["config_paths"] = _config_paths(options.configs, view, result.problems)
    problems = [_scrubbed(p, builder.secrets) for p in result.sorted_problems() if p.severity is not Severity.NOTE]
    selected: DataPath = ()
    if options.select is not None:
        selected = _select_path(data, options.select)
        for key in selected:
            data, origins = data[key], origins[key]
    return Shown(data, origins, problems, selected)


def _config_paths(configs: list[Path], view: ConfigView, problems: list[Problem]) -> tuple[list, list]:
    """`config_paths` as NeMo Gym records it for a run: the files given, then every entry
    of the files loaded, in load order, each once. (Merged, the key would hold only the
    last file's list: lists replace.) An entry not found says so in place."""
    from gym_scaffold.config.includes import CONFIG_PATHS, RULE_INCLUDE

    refused = {(p.path, p.line, p.column) for p in problems if p.rule == RULE_INCLUDE and p.severity is Severity.ERROR}
    entries: list[str] = [str(config) for config in configs]
    origins: list[str] = ["--config"] * len(entries)
    seen = set(entries)
    for document in view.composed.documents:
        listed = document.data.get(CONFIG_PATHS) if isinstance(document.data, dict) else None
        for i, entry in enumerate(listed if isinstance(listed, list) else []):
            if not isinstance(entry, str) or entry in seen:
                continue
            seen.add(entry)
            line, column = document.value_positions.get((CONFIG_PATHS, i), (0, 0))
            refused_here = (document.path, line, column) in refused
            entries.append(f"{entry} (not included: see the problems below)" if refused_here else entry)
            origins.append(f"{document.path}:{line}")
    return entries, origins


def _select_path(data: Any, text: str) -> DataPath:
    from gym_scaffold.config.provenance import _locate
    from gym_scaffold.config.resolvers import split_key

    keys = split_key(text.strip())
    if not keys:
        raise ShowError(f"{text!r} is not a dotted path such as policy_model.responses_api_models")
    located = _locate(data, (), keys)
    if located is None:
        walked: list[str] = []
        node = data
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                break
            walked.append(key)
            node = node[key]
        where = ".".join(walked) or "the config"
        choices = ", ".join(str(k) for k in node) if isinstance(node, dict) else f"a {type(node).__name__}"
        raise ShowError(f"{text}: no such key in {where} (it has: {choices or 'nothing'})")
    return located


def _scrubbed(problem: Problem, secrets: list[str]) -> Problem:
    message = scrub(problem.message, secrets)
    hint = scrub(problem.hint, secrets) if problem.hint else problem.hint
    if message == problem.message and hint == problem.hint:
        return problem
    return Problem(problem.path, problem.line, problem.column, problem.severity, problem.rule, message, hint)


class _Builder:
    """Walks the resolved config beside the composed one, building the printed trees."""

    def __init__(self, view: ConfigView, environ: Mapping[str, str], validator: Any) -> None:
        self.view = view
        self.composed = view.composed
        self.resolved = view.resolved
        self.environ = environ
        self.validator = validator
        self.secrets: list[str] = []
        self.defaults: dict[DataPath, str] = {}  # path -> origin text, for values added from app.py
        self.unresolved: dict[DataPath, list[Unresolved]] = {}
        for item in [*self.resolved.unresolved, *self.composed.unresolved]:
            self.unresolved.setdefault(item.path, []).append(item)
        self.data: Any = self.resolved.data

    # -- defaults of the config classes -------------------------------------------------

    def add_defaults(self) -> None:
        from gym_scaffold.defaults import field_defaults
        from gym_scaffold.discover import entrypoint_file

        root = self.view.root
        if root is None or not isinstance(self.data, dict):
            return
        shared: dict = {}
        added = False
        for server in list(iter_servers(self.data)):
            app = entrypoint_file(root, server.server_type, server.implementation, server.body.get("entrypoint"))
            if not app.is_file():
                continue
            for name, default in field_defaults(app, root, shared).items():
                if name in server.body:
                    continue
                if not added:  # the resolved tree may share containers with the composed one
                    self.data = _copy_tree(self.data)
                    added = True
                body = self.data[server.instance][server.server_type][server.implementation]
                body[name] = default.value
                where = self.validator.display(default.path)
                self.defaults[server.path + (name,)] = (
                    f"default of {default.class_name}.{name} ({where}:{default.line})"
                )

    # -- the printed trees --------------------------------------------------------------

    def build(self) -> tuple[Any, Any]:
        return self.walk(self.data, ())

    def walk(self, value: Any, path: DataPath) -> tuple[Any, Any]:
        if path in self.defaults:
            return self.leaf(value, path, self.defaults[path])
        if isinstance(value, dict):
            data, origins = {}, {}
            for key, item in value.items():
                data[key], origins[key] = self.walk(item, path + (key,))
            return data, origins
        if isinstance(value, list):
            pairs = [self.walk(item, path + (i,)) for i, item in enumerate(value)]
            return [p[0] for p in pairs], [p[1] for p in pairs]
        return self.leaf(value, path, None)

    def leaf(self, value: Any, path: DataPath, origin: str | None) -> tuple[Any, str]:
        if origin is None:
            origin = self.origin_text(path)
        shown = self.in_place(value, path)
        if shown is not value:
            return shown, scrub(origin, self.secrets)
        key = next((k for k in reversed(path) if isinstance(k, str)), None)
        if value is not None and value != "" and not isinstance(value, bool) and (
            is_secret_name(key) or looks_like_secret(value)
        ):
            self.secrets.append(str(value))
            return mask(value), scrub(origin, self.secrets)
        if isinstance(value, str) and "${" in value:
            value = scrub(value, self.secrets)
        return value, scrub(origin, self.secrets)

    def in_place(self, value: Any, path: DataPath) -> Any:
        """What stands for a value that is not there yet or is broken (else `value` itself)."""
        if not isinstance(value, str):
            return value
        deferred = path in self.resolved.deferred
        if value == MANDATORY and deferred:
            return f"??? (unfilled: set it in env.yaml or with +{_dotted(path)}=...)"
        found = self.unresolved.get(path)
        if found:
            reasons = []
            for item in found:
                if item.kind == "env":
                    reasons.append(f"${item.key} is not set")
                elif item.kind == "missing":
                    reasons.append(f"'{item.key}' is ??? (unfilled)")
                elif item.kind == "directive":
                    reasons.append(f"'{item.key}' does not exist")
                else:
                    reasons.append(f"'{item.key}' is not defined: set it in env.yaml")
            return f"{scrub(value, self.secrets)} (unresolved: {'; '.join(dict.fromkeys(reasons))})"
        if deferred:
            return f"{scrub(value, self.secrets)} (unresolved: depends on an unresolved value)"
        if "${" in value:
            from gym_scaffold.config.provenance import value_at

            if value_at(self.composed.data, path) == value:  # resolution failed: a problem says why
                return f"{scrub(value, self.secrets)} (not resolved: see the problems below)"
        return value

    def origin_text(self, path: DataPath, depth: int = 0) -> str:
        """The origin of the leaf at `path` of the resolved tree, which may lie inside a
        container an interpolation brought (then the container's source is followed)."""
        from gym_scaffold.config.provenance import MISSING, provenance, value_at

        if value_at(self.composed.data, path) is not MISSING or depth > 8:
            return str(provenance(self.composed, path, self.environ))
        for i in range(len(path) - 1, -1, -1):
            holder = value_at(self.composed.data, path[:i])
            if holder is MISSING:
                continue
            if not isinstance(holder, str):
                break
            chain = provenance(self.composed, path[:i], self.environ)
            vias = "".join(f" via {s.via}" for s in reversed(chain.steps) if s.via and s.via != "oc.env")
            return self.origin_text(chain.source.path + path[i:], depth + 1) + vias
        return str(provenance(self.composed, path, self.environ))


def _copy_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_tree(v) for v in value]
    return value


def _dotted(path: DataPath) -> str:
    from gym_scaffold.config.provenance import dotted

    return dotted(path)


# --------------------------------------------------------------------------------------
# Output


_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./\-:@+]*$")
_YAML11_WORDS = {
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
}


def yaml_scalar(value: Any) -> str:
    """A scalar as YAML that reads back as the same value and type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return _int_text(value)
    if isinstance(value, float):
        if value != value:
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML11_WORDS and not text.endswith(":"):
        return text
    return json.dumps(text, ensure_ascii=False)


def _yaml_lines(value: Any, origins: Any, indent: int, out: list[tuple[str, str | None]]) -> None:
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            sub = origins.get(key) if isinstance(origins, dict) else None
            name = yaml_scalar(key)
            if isinstance(item, dict) and item:
                out.append((f"{pad}{name}:", None))
                _yaml_lines(item, sub, indent + 2, out)
            elif isinstance(item, list) and item:
                out.append((f"{pad}{name}:", None))
                _yaml_lines(item, sub, indent + 2, out)
            else:
                out.append((f"{pad}{name}: {_inline(item)}", sub if isinstance(sub, str) else None))
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            sub = origins[i] if isinstance(origins, list) and i < len(origins) else None
            if (isinstance(item, dict) or isinstance(item, list)) and item:
                start = len(out)
                _yaml_lines(item, sub, indent + 2, out)
                first, note = out[start]
                out[start] = (f"{pad}- {first[indent + 2:]}", note)
            else:
                out.append((f"{pad}- {_inline(item)}", sub if isinstance(sub, str) else None))
        return
    out.append((f"{pad}{_inline(value)}", origins if isinstance(origins, str) else None))


def _int_text(value: int) -> str:
    """Decimal, or hex beyond the digits Python writes in decimal (YAML 1.1 reads both)."""
    try:
        return str(value)
    except ValueError:
        return hex(value)


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return yaml_scalar(value)


MAX_COMMENT_COLUMN = 72  # origins line up here at most; longer lines push theirs out


def render_yaml(shown: Shown, *, show_origin: bool) -> str:
    lines: list[tuple[str, str | None]] = []
    if isinstance(shown.data, (dict, list)) and not shown.data:
        lines.append((_inline(shown.data), None))
    else:
        _yaml_lines(shown.data, shown.origins, 0, lines)
    if show_origin:
        width = min(max((len(text) for text, note in lines if note), default=0), MAX_COMMENT_COLUMN)
        body = [f"{text.ljust(width)}  # {note}" if note else text for text, note in lines]
    else:
        body = [text for text, _ in lines]
    out = "\n".join(body) + "\n"
    if shown.problems:
        out += "\n" + "".join(f"# {line}\n" for line in problem_lines(shown.problems))
    return out


def problem_lines(problems: list[Problem]) -> list[str]:
    lines = []
    for p in problems:
        lines.append(f"{p.path}:{p.line}:{p.column}: {p.severity}: {p.message} [{p.rule}]")
        if p.hint:
            lines.append(f"  hint: {p.hint}")
    errors = sum(p.severity is Severity.ERROR for p in problems)
    warnings = sum(p.severity is Severity.WARNING for p in problems)
    lines.append(f"{errors} error{'' if errors == 1 else 's'}, {warnings} warning{'' if warnings == 1 else 's'}")
    return lines


def render_json(shown: Shown, *, show_origin: bool) -> str:
    document: dict[str, Any] = {"version": 1, "config": _json_safe(shown.data)}
    if shown.selected:
        document["path"] = _dotted(shown.selected)
    if show_origin:
        document["origins"] = _json_safe(shown.origins)
    document["problems"] = [
        {
            "path": p.path,
            "line": p.line,
            "column": p.column,
            "severity": str(p.severity),
            "rule": p.rule,
            "message": p.message,
            "hint": p.hint,
        }
        for p in shown.problems
    ]
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {_key_text(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = _int_text(value)
        return text if "x" in text else value  # json writes ints in decimal: too long ones as hex text
    if value is None or isinstance(value, (str, float, bool)):
        return value
    return str(value)  # dates and other YAML 1.1 types: as NeMo Gym would print them


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return _int_text(key)
    return yaml_scalar(key)
