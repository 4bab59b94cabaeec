"""A file NeMo Gym cannot read at all.

NeMo Gym reads each config as one YAML document. Syntax errors, tab indentation,
invalid UTF-8, binary data, several documents in one file and nesting too deep to
be a config are reported at the place the reader stopped.

Failing:

    policy_model:
      responses_api_models: [openai_model,

Passing:

    policy_model:
      responses_api_models: {}
"""

ID = "yaml-syntax"
SEVERITY = "error"
SUMMARY = "the file is not valid YAML (syntax, tabs, encoding, several documents)"
