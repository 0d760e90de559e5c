"""`ValidChoicesVecEnv`: the native vector env as an SB3 VecEnv, equal to SB3's DummyVecEnv of
single ``ValidChoices`` envs."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.vec_env import DummyVecEnv

import rec_env  # noqa: F401  (registers ListwiseFeed-v0)
from rec_env.data import load_dataset
from rec_env.envs import ValidChoices, ValidChoicesVector
from rec_env.envs.sb3_vec import ValidChoicesVecEnv

C, K = 20, 10
N_CHOICES = C - K + 1


@pytest.fixture(scope="module")
def feed_dataset():
    """A small ``synthetic-feed`` world whose users often leave a list early, so sub-envs
    end their episodes apart."""
    sizes = {"n_users": 200, "n_items": 300, "n_requests": 2000}
    return load_dataset("synthetic-feed", **sizes, exit_after_skip=0.2, progress=False)


def both(dataset, n: int, seed: int, **kwargs) -> tuple[DummyVecEnv, ValidChoicesVecEnv]:
    """The reference (DummyVecEnv of single ValidChoices envs) and the adapter, seeded alike."""
    kwargs = {"dataset": dataset, "num_candidates": C, **kwargs}
    reference = DummyVecEnv([lambda: ValidChoices(gym.make("ListwiseFeed-v0", **kwargs))] * n)
    adapter = ValidChoicesVecEnv.make(n, **kwargs)
    reference.seed(seed)
    adapter.seed(seed)
    return reference, adapter


def assert_infos_equal(expected: list[dict], actual: list[dict]) -> None:
    assert len(expected) == len(actual)
    for want, got in zip(expected, actual, strict=True):
        assert want.keys() == got.keys()
        for key, value in want.items():
            assert type(value) is type(got[key]), key
            np.testing.assert_array_equal(got[key], value, err_msg=key)


@pytest.mark.parametrize("world", ["dataset", "feed_dataset"])
@pytest.mark.parametrize("reward_mode", ["click", "expected"])
@pytest.mark.parametrize(("n", "seed"), [(1, 0), (5, 7)])
def test_steps_like_dummy_vec_env_of_single_envs(request, world, n, seed, reward_mode):
    reference, adapter = both(request.getfixturevalue(world), n, seed, reward_mode=reward_mode)
    np.testing.assert_array_equal(adapter.reset(), reference.reset())
    assert_infos_equal(reference.reset_infos, adapter.reset_infos)
    actions = np.random.default_rng(seed).integers(0, N_CHOICES, (3 * K, n))
    ended_apart = 0
    for step_actions in actions:  # a few whole episodes and part of one more
        expected, got = reference.step(step_actions), adapter.step(step_actions)
        for want, have in zip(expected[:3], got[:3], strict=True):
            assert want.dtype == have.dtype
            np.testing.assert_array_equal(have, want)
        assert_infos_equal(expected[3], got[3])
        assert_infos_equal(reference.reset_infos, adapter.reset_infos)
        ended_apart += 0 < np.count_nonzero(got[2]) < n
    assert ended_apart or world == "dataset" or n == 1  # the feed world's exits were met


@pytest.mark.parametrize("world", ["dataset", "feed_dataset"])
@pytest.mark.parametrize("algorithm", [PPO, DQN])
def test_sb3_learns_exactly_as_through_dummy_vec_env(request, world, algorithm):
    settings = {"n_steps": 8, "batch_size": 32} if algorithm is PPO else {"learning_starts": 32}
    weights = []
    for envs in both(request.getfixturevalue(world), 4, 0):
        model = algorithm("MlpPolicy", envs, seed=3, device="cpu", **settings)
        model.learn(3 * K * 4)
        weights.append(torch.nn.utils.parameters_to_vector(model.policy.parameters()))
    torch.testing.assert_close(weights[1], weights[0], rtol=0, atol=0)


def test_seeds_reach_the_sub_envs_once(dataset):
    _, adapter = both(dataset, 3, 11)
    first = adapter.reset()
    assert not np.array_equal(adapter.reset(), first)  # the seeds were used up
    adapter.seed(11)
    np.testing.assert_array_equal(adapter.reset(), first)


def test_rejects_anything_but_valid_choices_vector(dataset):
    native = gym.make_vec("ListwiseFeed-v0", num_envs=2, vectorization_mode="vector_entry_point")
    with pytest.raises(TypeError, match="ValidChoicesVector"):
        ValidChoicesVecEnv(native)
    assert ValidChoicesVecEnv(ValidChoicesVector(native)).num_envs == 2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda envs: envs.set_attr("slate_size", 3), "cannot set 'slate_size'"),
        (lambda envs: envs.env_method("render"), "cannot call 'render'"),
    ],
)
def test_per_sub_env_access_is_refused(dataset, call, message):
    _, adapter = both(dataset, 2, 0)
    with pytest.raises(AttributeError, match=message):
        call(adapter)


def test_shared_attributes_and_wrappers(dataset):
    _, adapter = both(dataset, 3, 0)
    assert adapter.get_attr("num_envs") == [3, 3, 3]
    assert adapter.get_attr("layout", indices=[1])[0] is adapter.env.layout
    assert adapter.env_is_wrapped(gym.Wrapper) == [False] * 3


def test_bad_actions_name_the_action_space(dataset):
    _, adapter = both(dataset, 2, 0)
    adapter.reset()
    with pytest.raises(ValueError, match="Discrete"):
        adapter.step(np.array([0, N_CHOICES]))
