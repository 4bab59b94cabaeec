"""`show` against NeMo Gym itself: every corpus config NeMo Gym resolves, compared block by block.

NeMo Gym 0.4.0 (the Python 3.12 environment the end-to-end test builds) resolves each
config of the corpus the way `gym env resolve --config F` does (tests/nemo_gym_resolve.py),
in a copy of the corpus laid out as the other corpus tests lay it out, with an env.yaml
that configures the policy endpoint. For each config it accepts, every server instance
block `show --format json` prints must equal NeMo Gym's, and so must the list of files
the run loaded (`config_paths`), leaving out what only one side
has by design: the host and port NeMo Gym assigns at run time, the secrets both mask
(NeMo Gym: '****' for any field named like a key or token; show: '****...last4'), and
the defaults show adds from the server's config class (origin "default of ...").
A few hand-written configs (a directive chain, a key from two includes, NeMo Gym's
dummy_model merge) join the corpus.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from new_support import ensure_nemo_gym_venv, find_python312

from gym_scaffold.config.model import iter_servers
from gym_scaffold.show import MASK, ShowOptions, render_json, run_show
from gym_scaffold.validate import looks_like_config

DRIVER = Path(__file__).resolve().parent / "nemo_gym_resolve.py"
KEY = "sk-proj-R7tY2uI9oP4aS6dF1gH8jK3lZ5xC0vB7nM2q"
ENV = f"policy_base_url: https://api.openai.com/v1\npolicy_api_key: {KEY}\npolicy_model_name: gpt-4o-mini\n"
CONFIG_DIRS = ("responses_api_models", "resources_servers", "responses_api_agents", "benchmarks", "environments")
# How many corpus configs NeMo Gym 0.4.0 resolves with that env.yaml (README states it).
NEMO_GYM_RESOLVES = 41
ENVIRON = {"PATH": "/usr/bin:/bin"}  # both sides: no variable a config could read by accident

EXTRA = {
    "extra/chain.yaml": (
        "base_model:\n  responses_api_models:\n    openai_model:\n      entrypoint: app.py\n"
        "      openai_base_url: ${policy_base_url}\n      openai_api_key: ${policy_api_key}\n"
        "      openai_model: base\n"
        "mid_model:\n  _copy: base_model\n  responses_api_models:\n    openai_model:\n      openai_model: mid\n"
        "top_model:\n  _inherit_from: mid_model\n  responses_api_models:\n    openai_model:\n"
        "      max_concurrent_requests: 4\n"
        "judge_model: ${inherit_from:base_model}\n"
    ),
    "extra/dummy.yaml": (
        "policy_model:\n  responses_api_models:\n    dummy_model:\n      entrypoint: app.py\n"
        "      openai_base_url: ${policy_base_url}\n      openai_api_key: ${policy_api_key}\n"
        "      openai_model: from_dummy\n      extra_body: {a: 1, b: 2}\n"
        "    openai_model:\n      openai_model: ${policy_model_name}\n      extra_body: {b: 3}\n"
    ),
    "extra/first.yaml": (
        "policy_model:\n  responses_api_models:\n    openai_model:\n      openai_model: first\n"
        "      max_concurrent_requests: 2\n"
    ),
    "extra/second.yaml": "policy_model:\n  responses_api_models:\n    openai_model:\n      openai_model: second\n",
    "extra/two_includes.yaml": (
        "config_paths:\n  - extra/first.yaml\n  - extra/second.yaml\n"
        "policy_model:\n  responses_api_models:\n    openai_model:\n      entrypoint: app.py\n"
        "      openai_base_url: ${policy_base_url}\n      openai_api_key: ${policy_api_key}\n"
        "      timeout: ${oc.env:NOT_SET,30}\n"
    ),
}


@pytest.fixture(scope="module")
def nemo_gym_python() -> Path:
    python312 = find_python312()
    if python312 is None:
        pytest.skip("no Python 3.12 found (python3.12 on PATH or ~/.pyenv/versions/3.12*): nemo-gym needs it")
    try:
        venv = ensure_nemo_gym_venv(python312)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"could not build the nemo-gym environment (offline?): {exc}")
    return venv / "bin" / "python"


@pytest.fixture(scope="module")
def checkout(corpus_tree: Path, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("show-vs-nemo-gym") / "gym"
    shutil.copytree(corpus_tree, root, symlinks=True)
    (root / "env.yaml").write_text(ENV)
    for rel, text in EXTRA.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def corpus_configs(root: Path) -> list[str]:
    import yaml

    found = []
    for directory in CONFIG_DIRS:
        for path in sorted((root / directory).rglob("*.yaml")):
            if not path.stat().st_size:
                continue
            try:
                data = yaml.safe_load(path.read_text())
            except yaml.YAMLError:
                continue
            if looks_like_config(data):
                found.append(path.relative_to(root).as_posix())
    return found


def nemo_gym_resolve(python: Path, root: Path, configs: list[str]) -> dict[str, dict]:
    out = root.parent / "nemo_gym_answers.json"
    done = subprocess.run(
        [str(python), str(DRIVER), str(out), *configs],
        cwd=root,
        env={**ENVIRON, "HOME": str(root.parent)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def comparable(theirs: Any, ours: Any, origins: Any) -> tuple[Any, Any, int]:
    """Both values without what only one side has by design; and how many leaves remain."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        a, b, leaves = {}, {}, 0
        for key in list(theirs) + [k for k in ours if k not in theirs]:
            origin = origins.get(key) if isinstance(origins, dict) else None
            if key not in theirs and isinstance(origin, str) and origin.startswith("default of "):
                continue
            mine = ours.get(key, "<absent>")
            their = theirs.get(key, "<absent>")
            if their == "****" or (isinstance(their, list) and their and all(item == "****" for item in their)):
                continue  # a key or token field, or a value read from one (`${policy_api_key}`)
            if isinstance(mine, str) and mine.startswith(MASK):
                continue
            a[key], b[key], n = comparable(their, mine, origin)
            leaves += n
        return a, b, leaves
    if isinstance(theirs, list) and isinstance(ours, list) and len(theirs) == len(ours):
        parts = [
            comparable(t, o, origins[i] if isinstance(origins, list) else None)
            for i, (t, o) in enumerate(zip(theirs, ours, strict=True))
        ]
        return [p[0] for p in parts], [p[1] for p in parts], sum(p[2] for p in parts)
    return theirs, ours, 1


def test_show_prints_the_server_blocks_nemo_gym_resolves(nemo_gym_python, checkout, cli):
    configs = corpus_configs(checkout)
    assert len(configs) > 250
    answers = nemo_gym_resolve(nemo_gym_python, checkout, configs + [k for k in EXTRA if "include" in k or "chain" in k or "dummy" in k])
    accepted = [config for config in configs if "config" in answers[config]]
    assert len(accepted) == NEMO_GYM_RESOLVES, [c for c in configs if "config" in answers[c]]
    disagree: dict[str, Any] = {}
    leaves = instances = 0
    for config in accepted + ["extra/chain.yaml", "extra/two_includes.yaml", "extra/dummy.yaml"]:
        theirs = answers[config]["config"]
        shown = run_show(ShowOptions(configs=[Path(config)], cwd=checkout, environ=ENVIRON))
        document = json.loads(render_json(shown, show_origin=True))
        ours, origins = document["config"], document["origins"]
        if theirs.get("config_paths") != ours.get("config_paths"):
            disagree[f"{config}: config_paths"] = (theirs.get("config_paths"), ours.get("config_paths"))
        for server in iter_servers(theirs):
            instances += 1
            their_body = dict(theirs[server.instance][server.server_type][server.implementation])
            our_body = ours.get(server.instance, {}).get(server.server_type, {}).get(server.implementation)
            if our_body is None:
                disagree[f"{config}: {server.instance}"] = "not printed by show"
                continue
            for assigned in ("host", "port"):  # assigned at run time unless the config sets them
                if assigned not in our_body:
                    their_body.pop(assigned, None)
            their_part, our_part, n = comparable(
                their_body, our_body, origins[server.instance][server.server_type][server.implementation]
            )
            leaves += n
            if their_part != our_part:
                disagree[f"{config}: {server.instance}"] = (their_part, our_part)
            if set(theirs[server.instance]) != set(ours[server.instance]):
                disagree[f"{config}: {server.instance} keys"] = (set(theirs[server.instance]), set(ours[server.instance]))
    assert not disagree, json.dumps(disagree, indent=1, default=str)[:6000]
    assert instances > 40 and leaves > 400, (instances, leaves)  # the comparison looked at real content
    # The run composed from two includes and the directive chain agree as well.
    chain = answers["extra/chain.yaml"]["config"]
    assert "mid_model" not in chain and chain["top_model"]["_copy"] == "base_model"
    # And `show` itself, as a command, prints what run_show gave.
    proc = cli("show", "--config", "extra/two_includes.yaml", "--format", "json", cwd=checkout, env={**ENVIRON})
    body = json.loads(proc.stdout)["config"]["policy_model"]["responses_api_models"]["openai_model"]
    assert body["openai_model"] == "second" and body["max_concurrent_requests"] == 2 and body["timeout"] == "30"
    assert KEY not in proc.stdout
