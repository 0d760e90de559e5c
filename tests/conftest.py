"""Shared fixtures of the test suite: one torch thread, and the small synthetic worlds.

Tiny models gain nothing from threads, and on a busy 2-core CPU extra threads cost up to
100x (thread oversubscription); results are reproducible for a fixed thread count.
"""

import pytest
import torch

from rec_env.data import load_dataset

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_dataset():
    """``synthetic-tiny``: 100 users, 150 items, 500 lists of 10."""
    return load_dataset("synthetic-tiny", progress=False)


@pytest.fixture(scope="session")
def dataset():
    """A small synthetic world for the environment tests: 200 users, 300 items, 2,000 lists."""
    return load_dataset("synthetic", n_users=200, n_items=300, n_requests=2000, progress=False)
