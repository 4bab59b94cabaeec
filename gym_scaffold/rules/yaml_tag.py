"""A YAML tag NeMo Gym will not load.

NeMo Gym (OmegaConf) loads YAML with a safe loader: tags such as
`!!python/object/apply:os.system` or `!include` are refused there, and gym-scaffold
never constructs anything from them. Standard tags (`!!str`, `!!int`) are fine when
the value fits them.

Failing:

    num_workers: !!python/object/apply:os.cpu_count []

Passing:

    num_workers: 8
"""

ID = "yaml-tag"
SEVERITY = "error"
SUMMARY = "a custom YAML tag (!!python/..., !foo), which NeMo Gym's safe loader refuses"
