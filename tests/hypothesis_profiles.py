"""Hypothesis profiles for the property tests (loaded by conftest.py).

- "ci" (the default): derandomized, no example database, so every run generates the
  same cases; test_properties.py and test_reconnect_model.py generate over 10,000 of
  them in under a minute.
- "dev": ten times as many cases, random, with the local database: for a long local run
  (``HYPOTHESIS_PROFILE=dev .venv/bin/python -m pytest tests/test_properties.py``).
- "mutate": a tenth of "ci", derandomized: what tools/mutate.py runs for each mutant.

Each test asks for ``examples(n)``: ``n`` cases under "ci", scaled for the others.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

#: Cases per test under "ci" are multiplied by this for the loaded profile.
SCALE = {"ci": 1.0, "dev": 10.0, "mutate": 0.1}

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("ci", derandomize=True, database=None, **_common)
settings.register_profile("dev", derandomize=False, **_common)
settings.register_profile("mutate", derandomize=True, database=None, **_common)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in SCALE:
    raise ValueError(f"HYPOTHESIS_PROFILE must be one of {sorted(SCALE)}, not {PROFILE!r}")
settings.load_profile(PROFILE)


def examples(n: int) -> int:
    """How many cases a test that generates ``n`` under "ci" generates under this profile."""
    return max(1, round(n * SCALE[PROFILE]))
