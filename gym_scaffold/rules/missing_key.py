"""A required key is missing.

Each implementation schema names the fields its server cannot start without
(openai_model: openai_base_url, openai_api_key, openai_model); every server needs an
`entrypoint`, a resources server a `domain`, a dataset its name, type and jsonl_fpath
(and a license for train and validation data, a prepare_script for a benchmark). NeMo
Gym notices only when the server starts. A block that only overrides an instance defined
elsewhere (through `config_paths`, `_inherit_from` or `_copy`) is not held to this. Checking
one file on its own, a server block that declares a server (`entrypoint`) but lacks an
implementation key gets a warning (a run may supply it; write `???` to say so); in a
`--config` run it is an error. Reported at the mapping that lacks the key.

Failing:

    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_api_key: ${policy_api_key}
          openai_model: ${policy_model_name}

Passing:

    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_base_url: ${policy_base_url}
          openai_api_key: ${policy_api_key}
          openai_model: ${policy_model_name}
"""

from __future__ import annotations

from collections.abc import Iterator

from gym_scaffold.config.model import ConfigView
from gym_scaffold.problem import Problem

# gym_scaffold.schemas is imported where it is used: the schema engine imports this
# module for its ID.
ID = "missing-key"
SEVERITY = "error"
SUMMARY = "required keys of servers, implementations and datasets"
SEVERITY_CONTEXT = (
    "warning for an implementation key when a file is checked on its own, since a run may supply it; "
    "error in a --config run"
)


def _hint(name: str | None, path: tuple, severity: str) -> str:
    if severity == "warning":
        return f"add {name}: ..., or {name}: ??? when the run supplies it (an override or another config)"
    if len(path) == 3 and name in ("entrypoint", "domain"):
        return (
            f"add {name}: ...; if this block only overrides an instance from another file, "
            "list that file under config_paths"
        )
    return f"add {name}: ..."


def check(view: ConfigView) -> Iterator[Problem]:
    from gym_scaffold import schemas

    return schemas.schema_problems(view, ID, lambda error: _hint(error.name, error.path, error.severity))
