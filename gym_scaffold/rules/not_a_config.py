"""A YAML file that is not a NeMo Gym config: skipped, with this note.

Prompt files, manifests and data files live beside configs. A file is a config when
it has `config_paths` or an instance with a server type (or a near miss of one, which
the server-shape rule then reports). Notes never fail a run; `--quiet` hides them.

Failing:

    (not applicable: this rule only informs)

Passing:

    user: |
      Answer the question.
"""

ID = "not-a-config"
SEVERITY = "note"
SUMMARY = "a YAML file that is not a NeMo Gym config was skipped"
