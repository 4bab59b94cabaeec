"""Resolve configs with NeMo Gym's own parser; run by the nemo-gym venv's Python, not by pytest.

    python nemo_gym_resolve.py OUT.json CONFIG [CONFIG ...]

For each CONFIG (relative to the working directory, a NeMo Gym checkout), the config that
`gym env resolve --config CONFIG` prints: GlobalConfigDictParser.parse with the config as
`config_paths`, ./env.yaml, secrets hidden, resolved to plain data. Writes
{config: {"config": data} | {"error": text}} to OUT.json (NeMo Gym prints to stdout itself).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from nemo_gym.global_config import GlobalConfigDictParser, GlobalConfigDictParserConfig
from omegaconf import DictConfig, OmegaConf


def resolve(configs: list[str]) -> dict:
    parser_config = GlobalConfigDictParserConfig(
        dotenv_path=Path("env.yaml").absolute(),
        initial_global_config_dict=DictConfig({"config_paths": configs}),
        skip_load_from_cli=True,
        hide_secrets=True,
    )
    try:
        resolved = GlobalConfigDictParser().parse(parser_config)
        return {"config": OmegaConf.to_container(resolved, resolve=True)}
    except BaseException as exc:  # noqa: BLE001 - every way NeMo Gym refuses a config is an answer
        return {"error": f"{type(exc).__name__}: {str(exc)[:500]}"}


def main() -> None:
    out, runs = sys.argv[1], sys.argv[2:]
    answers = {run: resolve(run.split(",")) for run in runs}
    Path(out).write_text(json.dumps(answers, default=str))


if __name__ == "__main__":
    main()
