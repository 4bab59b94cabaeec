"""A `config_paths` include NeMo Gym cannot follow.

Each entry is resolved against the NeMo Gym root (and NEMO_GYM_EXTRA_ROOTS); a missing
file stops NeMo Gym at start-up, and an include cycle never ends.

Failing:

    config_paths:
      - responses_api_models/openai_model/configs/no_such_file.yaml

Passing:

    # file: config.yaml
    config_paths:
      - responses_api_models/openai_model/configs/openai_model.yaml
    # file: responses_api_models/openai_model/configs/openai_model.yaml
    policy_model:
      responses_api_models:
        openai_model:
          entrypoint: app.py
          openai_base_url: ${policy_base_url}
          openai_api_key: ${policy_api_key}
          openai_model: ${policy_model_name}
"""

ID = "config-include"
SEVERITY = "error"
SUMMARY = "a config_paths entry that is missing or forms a cycle"
