"""Shared pytest configuration: hypothesis profiles.

Two profiles are registered:

``ci`` (the default)
    Derandomized (``derandomize=True``: every run draws the same examples, so
    a failure reproduces exactly and the run time is stable), no example
    database, no deadline, and a bounded number of examples (25 per property
    unless a test asks for a number of its own) so that the reliability and
    property suites together stay well under 90 s.

``nightly``
    Random (a new seed every run), 1,000 examples per property, no deadline:
    a long search for the rare input that breaks an invariant. Select it with
    the environment variable ``HYPOTHESIS_PROFILE``::

        HYPOTHESIS_PROFILE=nightly python -m pytest tests/properties tests/reliability

A failing nightly example is printed by hypothesis with the decorator that
reproduces it (``@reproduce_failure``); add it as an explicit case to the
reliability battery.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=25,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "nightly",
    derandomize=False,
    deadline=None,
    max_examples=1000,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
