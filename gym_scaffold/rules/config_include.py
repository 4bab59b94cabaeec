"""A `config_paths` include NeMo Gym cannot follow.

Each entry is resolved against the NeMo Gym root (and NEMO_GYM_EXTRA_ROOTS). Errors, each
at the entry, stop NeMo Gym at start-up or break the config elsewhere:

- the file is missing;
- it lies outside the repository and its roots (an absolute path elsewhere, `..` climbing
  out, a symbolic link leading out): a committed config has to work in every checkout,
  and such a file is never read;
- it is not a regular file (a directory, a FIFO, a device such as /dev/zero);
- its top level is a list or a single value, not a mapping NeMo Gym can merge.

An include cycle is a warning at every entry on it, so the check of each file on the
cycle reports it: NeMo Gym loads each file once and skips the repeat.

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
SUMMARY = "a config_paths entry that is missing, outside the repository, not a YAML mapping, or on a cycle"
