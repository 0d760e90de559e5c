"""The default ListwiseFeed-v0 passes SB3's and gymnasium's env checkers, under any seed.

The checkers step random actions of the action space, masked ones included: the default
``invalid_action="penalty"`` accepts them; the strict ``"raise"`` refuses them.
"""

import warnings

import gymnasium as gym
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
