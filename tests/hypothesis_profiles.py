"""Hypothesis profiles of the fuzz tests (imported by tests/test_fuzz.py).

    ci     CI=true: a bounded run, every example under a deadline
    local  default elsewhere: a little more
    fuzz   HYPOTHESIS_PROFILE=fuzz: a long local hunt (about ten minutes)

HYPOTHESIS_PROFILE names a profile explicitly and wins over CI.
"""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings

_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile(
    "ci", max_examples=100, deadline=timedelta(seconds=2), derandomize=True, suppress_health_check=_SLOW_IS_FINE
)
settings.register_profile(
    "local", max_examples=200, deadline=timedelta(seconds=2), suppress_health_check=_SLOW_IS_FINE
)
settings.register_profile(
    "fuzz", max_examples=20_000, deadline=timedelta(seconds=2), suppress_health_check=_SLOW_IS_FINE
)


def profile_name(environ: dict[str, str] | os._Environ = os.environ) -> str:
    if environ.get("HYPOTHESIS_PROFILE"):
        return environ["HYPOTHESIS_PROFILE"]
    return "ci" if environ.get("CI", "").lower() in ("true", "1") else "local"


# The fuzz tests pass this to @settings, so loading it does not change other modules' tests.
PROFILE = settings.get_profile(profile_name())
