"""gym-scaffold: validate, scaffold and diagnose NeMo Gym model-server configs."""

__version__ = "0.1.0"

# Where the published documentation lives; SARIF results link each rule's section of
# docs/rules.md (helpUri) under it.
DOCS_URL = "https://github.com/gym-scaffold/gym-scaffold/blob/main/docs/"
