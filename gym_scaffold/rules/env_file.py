"""An env.yaml NeMo Gym cannot merge.

env.yaml holds top-level keys (endpoints, secrets) merged over every config. A list,
a scalar or a directory in its place is an error.

Failing:

    # file: env.yaml
    - policy_api_key

Passing:

    # file: env.yaml
    policy_api_key: sk-...
"""

ID = "env-file"
SEVERITY = "error"
SUMMARY = "env.yaml that is not a mapping of keys to values"
