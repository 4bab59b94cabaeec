"""A `config_paths` include NeMo Gym cannot follow.

Each entry is resolved against the NeMo Gym root (and NEMO_GYM_EXTRA_ROOTS); a missing
file stops NeMo Gym at start-up, and an include cycle never ends.

Failing:

    config_paths:
      - responses_api_models/openai_model/configs/no_such_file.yaml

Passing:

    config_paths:
      - responses_api_models/openai_model/configs/openai_model.yaml
"""

ID = "config-include"
SEVERITY = "error"
SUMMARY = "a config_paths entry that is missing or forms a cycle"
