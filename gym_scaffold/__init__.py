"""gym-scaffold: validate, scaffold and diagnose NeMo Gym model-server configs."""

__version__ = "0.1.0"
