"""The default ListwiseFeed-v0 passes SB3's and gymnasium's env checkers, under any seed.

The checkers step random actions of the action space, masked ones included: the default
``invalid_action="penalty"`` accepts them; the strict ``"raise"`` refuses them.
"""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env

import rec_env  # noqa: F401  (registers ListwiseFeed-v0)

sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")

SEEDS = range(100)
CHECKERS = {"sb3": sb3_checker.check_env, "gymnasium": gymnasium_check_env}


def seeded_env(seed: int, **kwargs) -> gym.Env:
    """The raw env (every argument but the tiny dataset at its default), its generator and
    spaces seeded: the checkers draw actions from ``action_space`` (not numpy's global
    generator) and reset the env without a seed too, so each check is one fixed run."""
    env = gym.make("ListwiseFeed-v0", dataset="synthetic-tiny", **kwargs).unwrapped
    env.reset(seed=seed)
    env.action_space.seed(seed)
    env.observation_space.seed(seed)
    return env


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("checker", CHECKERS)
def test_default_env_passes_the_checkers_without_warnings(checker, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CHECKERS[checker](seeded_env(seed))


def test_the_seeds_reach_masked_actions_that_strict_mode_refuses():
    """The checks above place masked actions: in strict mode SB3's checker fails on some seeds."""
    refused = []
    for seed in SEEDS:
        try:
            sb3_checker.check_env(seeded_env(seed, invalid_action="raise"), warn=False)
        except ValueError as error:
            assert "already placed" in str(error)
            refused.append(seed)
    assert 0 < len(refused) < len(SEEDS)


def masked_play(mode: str, vectorization_mode: str, n_envs: int = 4, episodes: int = 3) -> list:
    """Observations, rewards, flags and infos of seeded random *valid* actions (a masked
    agent) in ``n_envs`` sub-envs, ``invalid_action=mode``."""
    env = gym.make_vec(
        "ListwiseFeed-v0",
        num_envs=n_envs,
        vectorization_mode=vectorization_mode,
        dataset="synthetic-tiny",
        num_candidates=20,
        invalid_action=mode,
    )
    rng = np.random.default_rng(0)
    trace = [env.reset(seed=0)]
    for _ in range(episodes * env.single_observation_space["slate_items"].shape[0]):
        scores = np.where(trace[-1][0]["action_mask"], rng.random((n_envs, 20)), -1.0)
        trace.append(env.step(scores.argmax(axis=1)))
    return trace


@pytest.mark.parametrize("vectorization_mode", ["vector_entry_point", "sync"])
def test_masked_agents_get_the_same_episodes_in_both_modes(vectorization_mode):
    penalty, strict = (masked_play(mode, vectorization_mode) for mode in ("penalty", "raise"))
    for step_penalty, step_strict in zip(penalty, strict, strict=True):
        for a, b in zip(step_penalty, step_strict, strict=True):  # obs, (reward, flags), info
            if isinstance(a, dict):
                assert a.keys() == b.keys()
                for key in a:
                    np.testing.assert_array_equal(a[key], b[key])
            else:
                np.testing.assert_array_equal(a, b)
