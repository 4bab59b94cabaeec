"""Parsed forms of small files (the project configuration, the baseline), remembered by
a digest of their bytes, so they cannot go stale.

Importing tomllib costs some 10 ms and json some 3 ms: together about 10% of a
whole-checkout run answered from the result cache. The parsed data is kept with marshal
(built in, no import) under the cache directory; a damaged or missing memo is only a
parse more.
"""

from __future__ import annotations

import marshal
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gym_scaffold.cache import blake2b, cache_home


def parsed(raw: bytes, kind: str, parse: Callable[[], Any]) -> Any:
    """`parse()` of the file whose bytes are `raw`, or what it gave for the same bytes."""
    memo = cache_home(os.environ) / "parsed" / f"{kind}-{blake2b(raw, digest_size=16).hexdigest()}.marshal"
    try:
        remembered = marshal.loads(memo.read_bytes())
        if isinstance(remembered, dict):
            return remembered
    except (OSError, ValueError, EOFError, TypeError):
        pass  # none yet, or damaged: parse again
    data = parse()
    _remember(memo, data)
    return data


def _remember(memo: Path, data: Any) -> None:
    try:
        encoded = marshal.dumps(data)  # ValueError for a value marshal does not know (a date)
        memo.parent.mkdir(parents=True, exist_ok=True)
        temporary = memo.with_name(f"{memo.name}.{os.getpid()}.tmp")
        temporary.write_bytes(encoded)
        os.replace(temporary, memo)
    except (OSError, ValueError):
        pass  # only slower next time
