"""Work split across CPU cores: a pool of forked workers maps a function over batches.

`validate` checks a whole checkout this way, and `schema export` derives a checkout's
schemas this way (a first derivation parses every app.py, most of its time). Workers are
forked, so they inherit the function and everything loaded before the call; only the
items and the results are pickled. Small inputs stay in this process: a pool costs more
than it saves below a few dozen items.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")

MAX_WORKERS = 4

# The function of the map under way, for its forked workers (they inherit it).
_FUNCTION: Callable[[Any], Any] | None = None


def fork_map(
    function: Callable[[Item], Outcome], items: Sequence[Item], *, batch: int = 4, min_items: int = 64
) -> Iterator[Outcome]:
    """`function(item)` for each item, in order.

    Items go to workers `batch` at a time, so a worker that meets the expensive items does
    not hold up the others. A batch whose worker failed is done again in this process, as
    is everything when there are fewer than `min_items`, one core, no fork, or other threads.
    """
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    # Forking a process that runs other threads can copy a lock one of them holds, and
    # the worker then waits for it forever.
    if workers < 2 or len(items) < min_items or not hasattr(os, "fork") or threading.active_count() > 1:
        yield from map(function, items)  # not worth a pool (nor its imports), or not safe
        return
    import concurrent.futures
    import multiprocessing

    global _FUNCTION
    _FUNCTION = function
    batches = [items[i : i + batch] for i in range(0, len(items), batch)]
    try:
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = [pool.submit(_apply, chunk) for chunk in batches]
            for chunk, future in zip(batches, futures, strict=True):
                try:
                    done = future.result()
                except Exception:  # noqa: BLE001 - a failed worker's items are done here
                    done = [function(item) for item in chunk]
                yield from done
    finally:
        _FUNCTION = None


def _apply(chunk: Sequence[Any]) -> list[Any]:
    assert _FUNCTION is not None, "a worker of a forked pool"
    return [_FUNCTION(item) for item in chunk]
