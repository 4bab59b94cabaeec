"""The pool of forked workers that validate and schema export split a checkout across."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from new_support import make_gym_tree

from gym_scaffold import parallel, schema_export

needs_cores = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2 or not hasattr(os, "fork"), reason="a pool needs two cores and fork"
)


def square_and_pid(item: int) -> tuple[int, int]:
    return item * item, os.getpid()


@needs_cores
def test_results_come_back_in_order_from_other_processes() -> None:
    items = list(range(100))
    done = list(parallel.fork_map(square_and_pid, items, batch=3, min_items=10))
    assert [value for value, _ in done] == [item * item for item in items]
    assert {pid for _, pid in done} - {os.getpid()}, "no item was done by a worker"


def test_a_few_items_stay_in_this_process() -> None:
    done = list(parallel.fork_map(square_and_pid, [1, 2, 3], min_items=10))
    assert done == [(1, os.getpid()), (4, os.getpid()), (9, os.getpid())]


@needs_cores
def test_a_process_running_other_threads_is_not_forked() -> None:
    import threading

    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        done = list(parallel.fork_map(square_and_pid, list(range(100)), min_items=10))
    finally:
        release.set()
        other.join()
    assert done == [(item * item, os.getpid()) for item in range(100)]


@needs_cores
def test_the_items_of_a_worker_that_died_are_done_here() -> None:
    parent = os.getpid()

    def dies_in_a_worker(item: int) -> tuple[int, int]:
        if os.getpid() != parent:
            os._exit(3)  # a worker killed mid-batch (out of memory, a signal)
        return square_and_pid(item)

    done = list(parallel.fork_map(dies_in_a_worker, list(range(40)), min_items=10))
    assert done == [(item * item, parent) for item in range(40)]


APP = '''
from pydantic import Field
from nemo_gym.base_resources_server import BaseResourcesServerConfig


class Server{n}Config(BaseResourcesServerConfig):
    judge_url: str
    """Judge of server {n}."""
    retries: int = Field(default={n}, description="Retries of server {n}.")
'''


@needs_cores
def test_schemas_derived_on_every_core_are_those_derived_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_gym_tree(tmp_path / "Gym")
    for n in range(schema_export._PARALLEL_MIN + 8):  # enough for a pool
        app = root / "resources_servers" / f"server_{n}" / "app.py"
        app.parent.mkdir(parents=True)
        app.write_text(APP.format(n=n) if n % 5 else "class Broken(:\n")  # some do not parse
    in_workers = schema_export.build(root, derived_cache=tmp_path / "cache")
    monkeypatch.setattr(parallel, "MAX_WORKERS", 1)
    in_one_process = schema_export.build(root, derived_cache=None)
    assert json.dumps(in_workers, sort_keys=True) == json.dumps(in_one_process, sort_keys=True)
    quiz = in_workers["resources_servers.schema.json"]["$defs"]["derived.resources_servers.server_7"]
    assert quiz["properties"]["retries"]["default"] == 7
    # The workers filled the disk cache: a second run derives nothing.
    assert len(list((tmp_path / "cache").glob("*.json"))) == schema_export._PARALLEL_MIN + 8
