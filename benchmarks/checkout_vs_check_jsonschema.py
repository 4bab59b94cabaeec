"""A whole NeMo Gym checkout: `gym-scaffold validate` (derivation included) against
check-jsonschema on the same files, side by side in one run.

The corpus sample has no Python sources (FILES.txt lays out empty app.py files), so the
layout here gives every implementation directory a generated app.py with a pydantic
config class (up to nine typed fields, a nested model, extra keys allowed so the
sample's real fields stay valid): every server is then checked against a schema derived
from source, as in a real checkout. As in NeMo Gym itself, where 54 app.py files give
34 different derived schemas (20 of them the base class's fields alone), a third of the
generated classes add no field and the others each pick their own subset of fields.

  checkout, cold  - `validate --no-cache .` with a fresh XDG_CACHE_HOME: every file
                    loaded, composed and resolved, every schema derived from its app.py
  checkout, warm  - `validate .` again: results and derived schemas from the cache

check-jsonschema validates every non-empty YAML file against
schemas/config-file.schema.json (as in the sibling benchmark: references resolved from
schemas/, and a run where it does not validate is refused). Targets: cold at most 1.0x,
warm at most 0.5x of check-jsonschema's wall time (median of alternating runs, start-up
included).

Usage: python benchmarks/checkout_vs_check_jsonschema.py [--runs N] [--corpus DIR]
"""

from __future__ import annotations

import hashlib
import statistics
import sys
import tempfile
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from validate_vs_check_jsonschema import (  # noqa: E402 - the sibling benchmark's helpers
    alternate,
    bin_path,
    corpus_arguments,
    lay_out_corpus,
    peer_command,
    require_peer_validates,
    timed,
)

TARGETS = {"checkout, cold": 1.0, "checkout, warm": 0.5}
SERVER_TYPES = {
    "responses_api_models": "BaseResponsesAPIModelConfig",
    "resources_servers": "BaseResourcesServerConfig",
    "responses_api_agents": "BaseResponsesAPIAgentConfig",
}
MODULES = {
    "responses_api_models": "nemo_gym.base_responses_api_model",
    "resources_servers": "nemo_gym.base_resources_server",
    "responses_api_agents": "nemo_gym.base_responses_api_agent",
}

APP = '''\
from typing import Any, Dict, List, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from {module} import {base}


class Limits(BaseModel):
    max_tokens: int = 4096
    temperature: float = 1.0


class {name}Config({base}):
    model_config = ConfigDict(extra="allow")
{fields}'''

FIELDS = (
    'mode: Literal["fast", "careful"] = "fast"',
    "prompt_template: Optional[str] = None",
    "retries: int = 3",
    "timeout_seconds: float = 30.0",
    "tags: List[str] = Field(default_factory=list)",
    "weights: Dict[str, float] = {}",
    "limits: Optional[Limits] = None",
    "extra: dict[str, Any] | None = None",
    "verbose_logging: bool = False",
)


def fields_of(implementation: str) -> list[str]:
    """The fields a generated config class declares: none for a third of them, else a
    subset that depends on the implementation's name (the same in every run)."""
    bits = int.from_bytes(hashlib.blake2b(implementation.encode(), digest_size=4).digest(), "big")
    if bits % 3 == 0:
        return []
    return [field for index, field in enumerate(FIELDS) if bits >> (index + 2) & 1]


def add_sources(root: Path) -> int:
    """A generated app.py in every implementation directory that has an empty one."""
    count = 0
    for server_type, base in SERVER_TYPES.items():
        for app in sorted((root / server_type).glob("*/app.py")):
            if app.stat().st_size == 0:
                name = "".join(part.title() for part in app.parent.name.split("_"))
                fields = "".join(f"\n    {field}" for field in fields_of(app.parent.name)) + "\n"
                app.write_text(APP.format(module=MODULES[server_type], base=base, name=name or "Server", fields=fields))
                count += 1
    return count


def main() -> int:
    args = corpus_arguments(__doc__.splitlines()[0], runs=11)
    ours = bin_path("gym-scaffold")
    with tempfile.TemporaryDirectory() as tmp:
        root = lay_out_corpus(args.corpus, Path(tmp) / "checkout")
        sources = add_sources(root)
        yaml_files = sorted(str(p.relative_to(root)) for p in root.rglob("*.yaml") if p.stat().st_size)
        warm_cache = Path(tmp) / "warm-cache"
        cold_caches = Path(tmp) / "cold"
        cold_caches.mkdir()
        their_cmd = peer_command(yaml_files)
        require_peer_validates(their_cmd, root)
        print(f"{len(yaml_files)} YAML files, {sources} app.py sources; {args.runs} runs each, alternating\n")
        print(f"{'case':<16} {'gym-scaffold':>14} {'check-jsonschema':>18} {'ratio':>7} {'target':>7}")
        failed = False
        for name in TARGETS:
            counter = iter(range(10**6))

            def our_run(name: str = name, counter=counter) -> tuple[float, int]:
                if name.endswith("cold"):  # a fresh cache directory: nothing derived yet
                    fresh = cold_caches / str(next(counter))
                    return timed(["env", f"XDG_CACHE_HOME={fresh}", ours, "validate", "--no-cache", "-q", "."], root)
                return timed(["env", f"XDG_CACHE_HOME={warm_cache}", ours, "validate", "-q", "."], root)

            # the first run of each warms the OS file cache (and ours)
            our_runs, their_runs = alternate(our_run, partial(timed, their_cmd, root), args.runs)
            our_wall = statistics.median(t for t, _ in our_runs)
            their_wall = statistics.median(t for t, _ in their_runs)
            ratio = our_wall / their_wall
            ok = ratio <= TARGETS[name]
            failed |= not ok
            print(f"{name:<16} {our_wall * 1000:>11.0f} ms {their_wall * 1000:>15.0f} ms {ratio:>7.2f} "
                  f"{'<= ' + str(TARGETS[name]):>7}{'' if ok else '  MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
