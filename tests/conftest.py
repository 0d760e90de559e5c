"""Shared fixtures of the test suite: one torch thread, hypothesis profiles, and the small
synthetic worlds.

Tiny models gain nothing from threads, and on a busy 2-core CPU extra threads cost up to
100x (thread oversubscription); results are reproducible for a fixed thread count.

Hypothesis (the ``tests/test_fuzz_*.py`` files) runs the ``default`` profile: 25 examples per
test. ``HYPOTHESIS_PROFILE=slow`` selects the ``slow`` profile: 2,000 examples per test. Both
are derandomized (the examples follow from each test's source, so a run is reproducible) and
keep no example database.
"""

import os

import pytest
import torch
from hypothesis import HealthCheck, settings

from rec_env.data import load_dataset

torch.set_num_threads(1)

FUZZ_PROFILES = {"default": 25, "slow": 2_000}
"""examples per hypothesis test in each profile"""
for _name, _examples in FUZZ_PROFILES.items():
    settings.register_profile(
        _name,
        max_examples=_examples,
        deadline=None,  # a shared 2-core machine makes timings meaningless
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def tiny_dataset():
    """``synthetic-tiny``: 100 users, 150 items, 500 lists of 10."""
    return load_dataset("synthetic-tiny", progress=False)


@pytest.fixture(scope="session")
def dataset():
    """A small synthetic world for the environment tests: 200 users, 300 items, 2,000 lists."""
    return load_dataset("synthetic", n_users=200, n_items=300, n_requests=2000, progress=False)
