"""Hypothesis profiles of the property tests.

``fast`` (the default) keeps the suite quick and repeatable: few examples, derandomised, no example
database written into the tree. ``HYPOTHESIS_PROFILE=thorough pytest tests/properties`` searches for
longer, with new random examples each run.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "fast",
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    # run_cli uses capsys, read and reset at every call: safe to share between the examples of one test.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("thorough", settings.get_profile("fast"), max_examples=500, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))
