"""Finding the values that describe a model endpoint: API keys, base URLs, model names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from gym_scaffold.config.loader import DataPath
from gym_scaffold.config.model import ConfigView

API_KEY = "api_key"
BASE_URL = "base_url"

_ROLE_OF_KEY = (
    (re.compile(r"(?:^|_)api_key$"), API_KEY),
    (re.compile(r"(?:^|_)base_url$"), BASE_URL),
)
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1", "host.docker.internal"}


@dataclass(frozen=True)
class EndpointValue:
    path: DataPath
    role: str  # API_KEY or BASE_URL
    value: Any


def role_of(key: Any) -> str | None:
    if not isinstance(key, str):
        return None
    for pattern, role in _ROLE_OF_KEY:
        if pattern.search(key):
            return role
    return None


def iter_endpoint_values(data: Any, path: DataPath = ()) -> Iterator[EndpointValue]:
    """Every `*api_key` / `*base_url` value, at any depth (lists of base URLs included)."""
    if isinstance(data, dict):
        for key, value in data.items():
            role = role_of(key)
            child = path + (key,)
            if role is not None and isinstance(value, list):
                for index, item in enumerate(value):
                    yield EndpointValue(child + (index,), role, item)
            elif role is not None and not isinstance(value, dict):
                yield EndpointValue(child, role, value)
            else:
                yield from iter_endpoint_values(value, child)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from iter_endpoint_values(item, path + (index,))


def endpoint_values(view: ConfigView) -> list[EndpointValue]:
    """The endpoint values written in this view, found once and shared by the rules."""
    found = view.cache.get(_CACHE_KEY)
    if found is None:
        found = view.cache[_CACHE_KEY] = list(iter_endpoint_values(view.composed.data))
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
    if not isinstance(url, str):
        return False
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return host in _LOCAL_HOSTS or host.startswith("127.") or host.endswith(".local")
