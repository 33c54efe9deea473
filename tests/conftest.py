"""Shared test set-up: Hypothesis profiles that keep CI reproducible."""

import os

from hypothesis import HealthCheck, settings

# CI replays the same examples on every run (derandomize) so a red build is reproducible locally
# with HYPOTHESIS_PROFILE=ci; developers get fresh examples and the local example database.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
