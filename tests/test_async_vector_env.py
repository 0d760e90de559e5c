"""gymnasium's AsyncVectorEnv (worker processes over single envs) replays the native vector
env: sub-env i of both is seeded ``seed + i`` (``_sub_env_seeds``, SyncVectorEnv's rule)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import rec_env  # noqa: F401  (registers ListwiseFeed-v0)

ENV = {"dataset": "synthetic-tiny", "num_candidates": 20}
STEPS = 25
"""two and a half episodes of 10 slots: the NEXT_STEP autoresets are compared too"""


def first_valid(observation) -> np.ndarray:
    """``[N]`` the first candidate each sub-env may place."""
    return np.argmax(np.asarray(observation["action_mask"], dtype=bool), axis=1)


def assert_same_infos(theirs: dict, ours: dict) -> None:
    assert sorted(theirs) == sorted(ours)
    for key, value in ours.items():
        np.testing.assert_array_equal(theirs[key], value, err_msg=key)


@pytest.mark.parametrize("num_envs", [1, 3])
@pytest.mark.parametrize("seed", [0, 11])
def test_async_workers_give_the_native_vector_env_trajectories(num_envs, seed):
    workers = gym.make_vec("ListwiseFeed-v0", num_envs, vectorization_mode="async", **ENV)
    native = gym.make_vec(
        "ListwiseFeed-v0", num_envs, vectorization_mode="vector_entry_point", **ENV
    )
    try:
        assert isinstance(workers, gym.vector.AsyncVectorEnv)
        (theirs, their_info), (ours, our_info) = workers.reset(seed=seed), native.reset(seed=seed)
        ended = 0
        for _ in range(STEPS):
            for key, value in ours.items():
                np.testing.assert_array_equal(theirs[key], value, err_msg=key)
            assert_same_infos(their_info, our_info)
            actions = first_valid(ours)
            *theirs_step, their_info = workers.step(actions)
            *ours_step, our_info = native.step(actions)
            for their_part, our_part in zip(theirs_step[1:], ours_step[1:], strict=True):
                np.testing.assert_array_equal(their_part, our_part)
            (theirs, ours), ended = (theirs_step[0], ours_step[0]), ended + ours_step[2].sum()
        assert ended == 2 * num_envs  # both episodes ended and were reset alike
    finally:
        workers.close()
        native.close()
