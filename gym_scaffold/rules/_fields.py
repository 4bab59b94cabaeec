"""Finding the values that describe a model endpoint: API keys, base URLs, model names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from gym_scaffold.config.loader import DataPath
from gym_scaffold.config.model import ConfigView
from gym_scaffold.urls import is_loopback_host

API_KEY = "api_key"
BASE_URL = "base_url"


@dataclass(frozen=True)
class EndpointValue:
    path: DataPath
    role: str  # API_KEY or BASE_URL
    value: Any


def role_of(key: Any) -> str | None:
    """API_KEY for `api_key` and `*_api_key`, BASE_URL for `base_url` and `*_base_url`."""
    if not isinstance(key, str):
        return None
    if key.endswith("api_key") and (len(key) == 7 or key[-8] == "_"):
        return API_KEY
    if key.endswith("base_url") and (len(key) == 8 or key[-9] == "_"):
        return BASE_URL
    return None


def iter_endpoint_values(data: Any, path: DataPath = ()) -> list[EndpointValue]:
    """Every `*api_key` / `*base_url` value, at any depth (lists of base URLs included)."""
    found: list[EndpointValue] = []

    def walk(value: Any, path: DataPath) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                role = role_of(key)
                child = path + (key,)
                if role is not None and isinstance(item, list):
                    found.extend(EndpointValue(child + (index,), role, each) for index, each in enumerate(item))
                elif role is not None and not isinstance(item, dict):
                    found.append(EndpointValue(child, role, item))
                else:
                    walk(item, child)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, path + (index,))

    walk(data, path)
    return found


def endpoint_values(view: ConfigView) -> list[EndpointValue]:
    """The endpoint values written in this view, found once and shared by the rules."""
    found = view.cache.get(_CACHE_KEY)
    if found is None:
        found = view.cache[_CACHE_KEY] = iter_endpoint_values(view.composed.data)
    return found


_CACHE_KEY = "gym_scaffold.rules.endpoint_values"


def sibling_base_url(data: Any, key_path: DataPath) -> Any:
    """The base URL next to an API key: `openai_api_key` -> `openai_base_url`, `judge_api_key` -> ..."""
    parent_path, key = key_path[:-1], key_path[-1]
    parent = data
    for part in parent_path:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return None
    if not isinstance(parent, dict) or not isinstance(key, str):
        return None
    return parent.get(key[: -len("api_key")] + "base_url")


def is_local_url(url: Any) -> bool:
    """Is `url` on a host where a server without an API key is customary: this machine,
    Docker's name for it (host.docker.internal), or an mDNS name of the local network?"""
    if not isinstance(url, str):
        return False
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return is_loopback_host(host) or host == "host.docker.internal" or host.endswith(".local")
