"""Checks that need no network: values present and resolved, key hygiene and shape, base URL
shape, proxies and SDK environment variables in effect.

`run_static` adds one check line per value and returns the diagnosis of the first value that
stops the server (key, then base URL, then model), or None when a request may be sent.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
import urllib.request
from collections.abc import Mapping

from gym_scaffold import urls
from gym_scaffold.doctor.classify import Category, Diagnosis
from gym_scaffold.doctor.results import ServerResult, Status
from gym_scaffold.secrets import (
    KEY_AROUND_NEWLINE,
    KEY_AROUND_WHITESPACE,
    KEY_BEARER,
    KEY_INNER_WHITESPACE,
    KEY_NOT_ASCII,
    KEY_PREFIXES,
    KEY_QUOTES,
    PLACEHOLDER,
    key_faults,
    looks_like_secret,
    provider_of,
    redact,
)

# Values people leave in configs instead of a key are always wrong: the placeholders
# validate knows too (secrets.PLACEHOLDER), and here, at run time, the markers of a value
# still to be supplied.
_RUN_TIME_MARKER = re.compile(r"^(\?\?\??|\$\{[^}]*\})$")


def _is_placeholder(text: str) -> bool:
    return bool(PLACEHOLDER.match(text) or _RUN_TIME_MARKER.match(text))


# Values a local vLLM (started without --api-key) accepts, and a cloud provider rejects.
_DUMMY = re.compile(
    r"^(empty|dummy|none|null|na|n/a|nil|not[-_ ]?needed|no[-_ ]?key|fake|test|abc123|"
    r"token-abc123|key|local|sk-dummy|sk-fake|sk-test|sk-no-key-required|password)$",
    re.IGNORECASE,
)

# secrets.key_faults -> (message, fix), worded for a key at `{key}`.
_KEY_FAULT_WORDING = {
    KEY_AROUND_NEWLINE: (
        "API key in {key} has a leading or trailing newline: the SDK fails with 'Connection error.' (illegal header)",
        "Remove the newline from {key} (`echo -n`, or `.strip()` where it is read).",
    ),
    KEY_AROUND_WHITESPACE: (
        "API key in {key} has leading or trailing whitespace: the SDK fails with 'Connection error.' (illegal header)",
        "Remove the whitespace from {key} (`echo -n`, or `.strip()` where it is read).",
    ),
    KEY_INNER_WHITESPACE: (
        "API key in {key} contains whitespace",
        "Remove the spaces or line breaks inside {key}.",
    ),
    KEY_QUOTES: ("API key in {key} includes quote characters", "Remove the quotes that became part of the value in {key}."),
    KEY_BEARER: ("API key in {key} starts with 'Bearer'", "Remove 'Bearer ' from {key}: the SDK adds it itself."),
    KEY_NOT_ASCII: (
        "API key in {key} contains non-ASCII or control characters (often a copied dash or quote)",
        "Re-copy the key into {key} as plain ASCII.",
    ),
}

CLOUD_PROVIDERS = {"openai", "azure", "nim", "openrouter"}
_PROVIDER_KEY_PREFIXES = {
    # provider -> prefixes its keys have (None: any shape)
    "openai": ("sk-",),
    "openrouter": ("sk-or-",),
    "nim": ("nvapi-",),
}


def provider_of_host(host: str | None, implementation: str = "") -> str | None:
    if implementation == "azure_openai_model":
        return "azure"
    if not host:
        return None
    host = host.lower().rstrip(".")
    if host == "api.openai.com":
        return "openai"
    if host.endswith((".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")):
        return "azure"
    if host.endswith("api.nvidia.com"):
        return "nim"
    if host == "openrouter.ai" or host.endswith(".openrouter.ai"):
        return "openrouter"
    if urls.is_loopback_host(host) or is_private_host(host):
        return "local"
    return None


def is_private_host(host: str) -> bool:
    host = host.strip("[]").lower()
    try:
        return ipaddress.ip_address(host).is_private
    except ValueError:
        # a bare name (no dot) only resolves inside a cluster or LAN
        return "." not in host or host.endswith((".local", ".internal", ".svc", ".cluster.local"))


def _strip_userinfo(url: str) -> str:
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparseable>"
    if parts.username or parts.password:
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        return urllib.parse.urlunsplit((parts.scheme, "***@" + netloc, parts.path, "", ""))
    return url


# --------------------------------------------------------------------------- key


def _check_key(res: ServerResult, environ: Mapping[str, str]) -> Diagnosis | None:
    t = res.target
    w = t.where
    if "api_key" in t.unresolved:
        text = t.unresolved["api_key"]
        return _key_failure(
            res,
            Category.MISSING_API_KEY,
            f"API key not set: {w.key} is {text!r}" if text in ("???", "") else f"API key unresolved: {text} in {w.key}",
            _unresolved_hint(text, w.key),
        )
    if t.raw_key is not None and t.api_key is None:
        return _key_failure(res, Category.INVALID_API_KEY, f"API key in {w.key} is a {type(t.raw_key).__name__}, not a string",
                            f"Quote the key in {w.key} so YAML reads it as a string.")
    if t.api_key is None:
        return _key_failure(res, Category.MISSING_API_KEY, f"no API key: {w.key} is not set",
                            f"Set {w.key} to your key (or `EMPTY` for a local vLLM started without --api-key).")
    raw = t.api_key.reveal()
    stripped = raw.strip()
    if stripped == "":
        return _key_failure(res, Category.MISSING_API_KEY, f"API key is empty in {w.key}", f"Set {w.key} to your key.")
    if stripped == "??":
        return _key_failure(
            res, Category.MISSING_API_KEY,
            f"API key is the literal two-character string '??' in {w.key} (not the ??? marker)",
            f"Set {w.key} to your key; `??` would be sent as the key.",
        )
    if _is_placeholder(stripped):
        return _key_failure(res, Category.MISSING_API_KEY, f"API key in {w.key} is a placeholder ({redact(raw)})",
                            f"Replace the placeholder in {w.key} with your real key.")
    provider = w.provider
    if _DUMMY.match(stripped):
        if provider in CLOUD_PROVIDERS:
            return _key_failure(res, Category.MISSING_API_KEY,
                                f"API key in {w.key} is a dummy value, and {provider} needs a real key",
                                f"Set {w.key} to your {provider} key.")
        res.add("key", Status.OK, "API key is a dummy value: fine for a server started without a key")
        return None
    # hygiene: things that break the Authorization header or get sent verbatim
    faults = key_faults(raw)
    if faults:
        message, hint = _KEY_FAULT_WORDING[faults[0]]
        return _key_failure(res, Category.INVALID_API_KEY, message.format(key=w.key), hint.format(key=w.key))
    # shape against the provider
    kind = provider_of(stripped)
    if stripped.startswith("sk-admin-"):
        return _key_failure(res, Category.INVALID_API_KEY,
                            f"{w.key} holds an OpenAI admin key (sk-admin-): it manages the organization and cannot run inference",
                            f"Create a project key (sk-proj-) at platform.openai.com/api-keys and put it in {w.key}.")
    expected = _PROVIDER_KEY_PREFIXES.get(provider or "")
    if expected and kind is not None and not stripped.startswith(expected):
        return _key_failure(res, Category.INVALID_API_KEY,
                            f"{w.key} holds {_a(kind)} ({redact(raw)}), but the base URL is {provider}'s",
                            f"Put a {provider} key in {w.key} (or point the base URL at the provider this key belongs to).")
    if provider == "azure" and kind is not None:
        return _key_failure(res, Category.INVALID_API_KEY,
                            f"{w.key} holds {_a(kind)} ({redact(raw)}), but Azure OpenAI keys have no prefix",
                            f"Put the Azure resource's key (Keys and Endpoint in the Azure portal) in {w.key}.")
    note = ""
    if stripped.startswith("sk-proj-"):
        note = "; a project key: the project's model access and budget apply"
    elif stripped.startswith("sk-svcacct-"):
        note = "; a service-account key: its project's model access and budget apply"
    elif kind:
        note = f"; {kind}"
    res.add("key", Status.OK, f"API key set ({redact(raw)}{note})")
    return None


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _unresolved_hint(text: str, where: str) -> str:
    m = re.search(r"\$\{oc\.env:([A-Za-z_][A-Za-z0-9_]*)", text)
    if m:
        return f"Export {m.group(1)} in the shell that runs NeMo Gym, or give a default: ${{oc.env:{m.group(1)},VALUE}}."
    m = re.search(r"\$\{([A-Za-z0-9_.]+)\}", text)
    if m:
        return (
            f"Add `{m.group(1)}: ...` to env.yaml (NeMo Gym reads it from the working directory), "
            "or pass it on the command line."
        )
    return f"Set {where}; ??? means the value was never supplied."


def _key_failure(res: ServerResult, category: Category, message: str, hint: str) -> Diagnosis:
    res.add("key", Status.FAILURE, message, hint)
    return Diagnosis(category, message + "; no request was sent with it", hint)


# --------------------------------------------------------------------------- base URL


def _check_base_url(res: ServerResult) -> Diagnosis | None:
    t = res.target
    w = t.where
    url = t.base_url

    def fail(message: str, hint: str) -> Diagnosis:
        res.add("base_url", Status.FAILURE, message, hint)
        return Diagnosis(Category.BAD_BASE_URL, message, hint)

    if "base_url" in t.unresolved:
        text = t.unresolved["base_url"]
        return fail(f"base URL not set: {w.base_url} is {text!r}", _unresolved_hint(text, w.base_url))
    if url is None:
        return fail(f"no base URL: {w.base_url} is not set", f"Set {w.base_url}, e.g. https://api.openai.com/v1.")
    if not isinstance(url, str):
        return fail(f"base URL in {w.base_url} is a {type(url).__name__}, not a string", f"Set {w.base_url} to one URL.")
    faults, parts = urls.inspect_url(url)
    kinds = {fault.kind: fault.detail for fault in faults}
    if urls.WHITESPACE in kinds:
        return fail(f"base URL in {w.base_url} contains whitespace", f"Remove the whitespace from {w.base_url}.")
    if _is_placeholder(url) or url == "":
        return fail(f"base URL in {w.base_url} is a placeholder ({url!r})", f"Set {w.base_url} to the server's URL.")
    if urls.UNPARSEABLE in kinds:
        return fail(f"base URL {url!r} cannot be parsed (bad port?)", f"Fix {w.base_url}.")
    if urls.NO_SCHEME in kinds:
        return fail(f"base URL {_strip_userinfo(url)!r} has no http:// or https:// scheme",
                    f"Write the full URL in {w.base_url}, e.g. https://{url.lstrip('/')}.")
    if urls.BAD_SCHEME in kinds:
        return fail(f"base URL scheme {kinds[urls.BAD_SCHEME]!r} is not http or https",
                    f"Use http:// or https:// in {w.base_url}.")
    if urls.NO_HOST in kinds:
        return fail(f"base URL {url!r} has no host", f"Fix {w.base_url}.")
    path = parts.path.rstrip("/")
    if urls.ENDPOINT_SUFFIX in kinds:
        suffix = kinds[urls.ENDPOINT_SUFFIX]
        return fail(
            f"base URL ends with the endpoint {suffix}: the SDK appends it again ({path}{suffix})",
            f"Remove {suffix} from {w.base_url}; keep the API root (usually ending in /v1).",
        )
    if t.api_version_where and not t.azure_api_version and (
        "/openai/deployments/" in path or t.implementation == "azure_openai_model"
    ):
        # Azure answers 404 to a deployment request without ?api-version=, and the stock
        # azure_openai_model's SDK client refuses to start without one.
        return fail(
            "Azure needs an api-version for this server, and its config sets none",
            f"Add {t.api_version_where}, e.g. api-version: \"2024-10-21\" (or use the v1 URL form "
            "https://<resource>.openai.azure.com/openai/v1, which takes none).",
        )
    warnings: list[tuple[str, str]] = []
    if parts.username or parts.password:
        warnings.append(("the base URL carries credentials (user:password@)",
                         "Prefer the api key field; URLs end up in logs."))
    if parts.query or parts.fragment:
        warnings.append((f"the base URL has a query or fragment ({'?' + parts.query if parts.query else '#'})",
                         "The SDK appends paths after it; for Azure put api-version in default_query."))
    if urls.NO_PATH in kinds and t.implementation != "azure_openai_model" and w.provider != "azure":
        warnings.append(("the base URL has no path: most OpenAI-compatible servers serve under /v1",
                         f"If requests answer 404, add /v1 to {w.base_url}."))
    host = parts.hostname
    key_is_real = t.api_key is not None and looks_like_secret(t.api_key.reveal())
    if parts.scheme == "http" and not urls.is_loopback_host(host) and (key_is_real or t.api_key is None):
        warnings.append((f"plain http to {host}: the API key travels unencrypted",
                         f"Use https:// in {w.base_url}, or reach the server over a tunnel or private network."))
    if warnings:
        for message, hint in warnings:
            res.add("base_url", Status.WARNING, message, hint)
    else:
        res.add("base_url", Status.OK, f"base URL {_strip_userinfo(url)}")
    return None


# --------------------------------------------------------------------------- model


def _check_model(res: ServerResult) -> Diagnosis | None:
    t = res.target
    w = t.where

    def fail(message: str, hint: str) -> Diagnosis:
        res.add("model", Status.FAILURE, message, hint)
        return Diagnosis(Category.MODEL_NOT_FOUND, message, hint)

    if "model" in t.unresolved:
        text = t.unresolved["model"]
        return fail(f"model name not set: {w.model} is {text!r}", _unresolved_hint(text, w.model))
    if t.model is None or t.model == "":
        return fail(f"no model name: {w.model} is not set", f"Set {w.model} to the model (or Azure deployment) name.")
    if not isinstance(t.model, str):
        return fail(f"model name in {w.model} is a {type(t.model).__name__}, not a string",
                    f"Quote the model name in {w.model}.")
    if t.model != t.model.strip():
        return fail(f"model name {t.model!r} has leading/trailing whitespace", f"Remove it from {w.model}.")
    if _is_placeholder(t.model):
        return fail(f"model name in {w.model} is a placeholder ({t.model!r})", f"Set {w.model} to the model name.")
    res.add("model_name", Status.OK, f"model {t.model}")
    return None


# --------------------------------------------------------------------------- environment


_PROXY_VARS = ("https_proxy", "http_proxy", "all_proxy", "no_proxy")


def proxy_for(url: str, environ: Mapping[str, str]) -> tuple[str | None, str | None, bool]:
    """(variable name, proxy URL, bypassed by NO_PROXY) in effect for `url` under `environ`."""
    parts = urls.split_url(url)
    if parts is None or not parts.hostname:
        return None, None, False
    found: dict[str, tuple[str, str]] = {}
    for name, value in environ.items():
        low = name.lower()
        # lower-case wins, as in urllib and httpx
        if low in _PROXY_VARS and value and (low not in found or name == low):
            found[low] = (name, value)
    want = f"{parts.scheme}_proxy"
    chosen = found.get(want) or found.get("all_proxy")
    if not chosen:
        return None, None, False
    no_proxy = found.get("no_proxy", ("", ""))[1]
    bypass = False
    if no_proxy:
        host = parts.hostname.lower()
        for entry in (e.strip().lower() for e in no_proxy.split(",")):
            if not entry:
                continue
            if entry == "*":
                bypass = True
                break
            entry = entry.lstrip(".").split(":")[0]
            if host == entry or host.endswith("." + entry):
                bypass = True
                break
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                    bypass = True
                    break
            except ValueError:
                pass
    return chosen[0], _strip_userinfo(chosen[1]), bypass


def _check_environment(res: ServerResult, environ: Mapping[str, str]) -> None:
    t = res.target
    if isinstance(t.base_url, str):
        name, proxy, bypass = proxy_for(t.base_url, environ)
        if name and not bypass:
            res.add("proxy", Status.WARNING, f"{name}={proxy} is in effect: requests to this host go through it",
                    "If the host should be reached directly, add it to NO_PROXY; a proxy error shows as unreachable.")
        elif name:
            res.add("proxy", Status.OK, f"{name} is set but NO_PROXY exempts this host")
    notes = []
    if t.where.provider in ("openai", None):
        for var in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
            if environ.get(var):
                notes.append(var)
    if notes:
        res.add("environment", Status.WARNING,
                f"{' and '.join(notes)} set: the SDK sends it as a header, and a value that does not match the "
                "key's organization/project fails with 401 mismatched_organization",
                "Unset it unless the key belongs to that organization/project.")


def run_static(res: ServerResult, environ: Mapping[str, str]) -> Diagnosis | None:
    """All static checks for one target; the first diagnosis that stops it (key, URL, model)."""
    key = _check_key(res, environ)
    url = _check_base_url(res)
    model = _check_model(res)
    _check_environment(res, environ)
    return key or url or model


__all__ = ["KEY_PREFIXES", "provider_of_host", "proxy_for", "run_static"]
