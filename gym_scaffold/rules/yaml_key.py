"""A mapping key that is itself a collection.

Config keys are names. A `? [a, b]` complex key cannot be a NeMo Gym setting.

Failing:

    ? [a, b]
    : 1

Passing:

    a: 1
"""

ID = "yaml-key"
SEVERITY = "error"
SUMMARY = "a mapping key that is a list or a mapping"
