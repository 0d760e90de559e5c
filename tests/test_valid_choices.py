"""`ValidChoices` / `ValidChoicesVector`: ListwiseFeed-v0 for plain Discrete-action agents."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rec_env  # noqa: F401  (registers ListwiseFeed-v0)
from rec_env.arrays import standardise
from rec_env.envs import FlatFeatures, ValidChoices, ValidChoicesVector

C, K = 20, 10
N_CHOICES = C - K + 1


def make(dataset, **kwargs) -> gym.Env:
    return gym.make("ListwiseFeed-v0", dataset=dataset, num_candidates=C, **kwargs)


def make_vec(dataset, n: int, **kwargs) -> gym.vector.VectorEnv:
    return gym.make_vec(
        "ListwiseFeed-v0",
        num_envs=n,
        vectorization_mode=kwargs.pop("mode", "vector_entry_point"),
        dataset=dataset,
        num_candidates=C,
        **kwargs,
    )


def test_spaces(dataset):
    env = ValidChoices(make(dataset))
    n_items, f_i = env.unwrapped.item_features.shape
    f_u = env.unwrapped.user_features.shape[1]
    assert env.action_space == gym.spaces.Discrete(N_CHOICES)
    assert env.observation_space.shape == (f_u + K + 1 + K * (f_i + 1) + N_CHOICES * f_i,)
    observation, _ = env.reset(seed=0)
    assert observation.dtype == np.float32 and observation in env.observation_space


@pytest.mark.parametrize(
    "actions", [[0] * K, [N_CHOICES - 1] * K, list(range(K)), [3, 0, 7, 7, 1, 10, 2, 9, 0, 5]]
)
def test_action_i_places_the_ith_valid_candidate(dataset, actions):
    env, raw = ValidChoices(make(dataset)), make(dataset)
    env.reset(seed=3)
    raw_observation, _ = raw.reset(seed=3)
    for action in actions:
        candidate = int(np.flatnonzero(raw_observation["action_mask"])[action])
        _, reward, terminated, _, info = env.step(action)
        raw_observation, raw_reward, raw_terminated, _, raw_info = raw.step(candidate)
        assert info["item_id"] == raw_info["item_id"] == raw_observation["candidates"][candidate]
        assert (reward, terminated) == (raw_reward, raw_terminated)
    assert terminated  # every action stayed valid up to the last slot


def test_features_use_the_catalogues_fixed_standardisation(dataset):
    env, raw = ValidChoices(make(dataset)), make(dataset)
    observation, _ = env.reset(seed=1)
    raw_observation, _ = raw.reset(seed=1)
    items = standardise(env.unwrapped.item_features)
    users = standardise(env.unwrapped.user_features)
    f_u, f_i = users.shape[1], items.shape[1]
    np.testing.assert_array_equal(observation[:f_u], users[raw_observation["user"]])
    assert observation[f_u] == 1.0  # position 0 of the one-hot
    choices = observation[f_u + K + 1 + K * (f_i + 1) :].reshape(N_CHOICES, f_i)
    np.testing.assert_array_equal(choices, items[raw_observation["candidates"][:N_CHOICES]])
    again, _ = env.reset(seed=1)
    np.testing.assert_array_equal(again, observation)


@pytest.mark.filterwarnings("ignore:.*different from the unwrapped version")  # it is a wrapper
@pytest.mark.parametrize("checker", ["gymnasium", "sb3"])
def test_check_env_passes(dataset, checker):
    env = ValidChoices(make(dataset))
    if checker == "gymnasium":
        check_env(env, skip_render_check=True)
    else:
        from stable_baselines3.common.env_checker import check_env as sb3_check_env

        sb3_check_env(env)


def test_vector_wrapper_matches_single_envs(dataset):
    n, seed = 3, 5
    envs = ValidChoicesVector(make_vec(dataset, n, reward_mode="expected"))
    singles = [ValidChoices(make(dataset, reward_mode="expected")) for _ in range(n)]
    assert envs.single_action_space == singles[0].action_space
    assert envs.single_observation_space == singles[0].observation_space
    observations, _ = envs.reset(seed=seed)
    expected = [env.reset(seed=seed + i)[0] for i, env in enumerate(singles)]
    np.testing.assert_array_equal(observations, np.stack(expected))
    actions = np.random.default_rng(0).integers(0, N_CHOICES, (K, n))
    for step_actions in actions:
        observations, rewards, terminated, _, _ = envs.step(step_actions)
        results = [env.step(int(a)) for env, a in zip(singles, step_actions, strict=True)]
        np.testing.assert_array_equal(observations, np.stack([r[0] for r in results]))
        np.testing.assert_allclose(rewards, [r[1] for r in results])
    assert terminated.all()
    observations, *_ = envs.step(np.zeros(n, dtype=np.int64))  # next-step autoreset
    assert observations.shape == (n, envs.single_observation_space.shape[0])


def test_sync_vector_env_takes_the_single_wrapper(dataset):
    envs = make_vec(dataset, 2, mode="sync", wrappers=[ValidChoices])
    observations, _ = envs.reset(seed=0)
    assert envs.single_action_space == gym.spaces.Discrete(N_CHOICES)
    assert observations.shape == (2, envs.single_observation_space.shape[0])
    envs.step(np.array([0, N_CHOICES - 1]))


@pytest.mark.parametrize(
    ("wrap", "vector", "message"),
    [
        (FlatFeatures, True, "ValidChoicesVector"),
        (ValidChoices, True, "ValidChoicesVector"),
        (ValidChoicesVector, False, "for a single env use ValidChoices"),
        (ValidChoices, None, "ListwiseFeed-v0 env"),
    ],
)
def test_wrappers_reject_the_wrong_kind_of_env(dataset, wrap, vector, message):
    env = {True: lambda: make_vec(dataset, 2), False: lambda: make(dataset)}.get(
        vector, lambda: gym.make("CartPole-v1")
    )()
    with pytest.raises(TypeError, match=message):
        wrap(env)


@pytest.mark.parametrize(
    ("action", "message"), [(N_CHOICES, "outside"), (-1, "outside"), (1.5, "integer")]
)
def test_bad_actions_raise(dataset, action, message):
    env = ValidChoices(make(dataset))
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(action)


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (np.array([0, N_CHOICES]), "Discrete"),
        (np.array([0]), r"\(2,\)"),
        (np.array([0.0, 1.0]), "integers"),
    ],
)
def test_bad_vector_actions_raise(dataset, actions, message):
    envs = ValidChoicesVector(make_vec(dataset, 2))
    envs.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        envs.step(actions)


def _mean_return(policy, env: gym.Env, n_episodes: int) -> float:
    """Mean expected clicks per list of ``policy(observation) -> action`` on fixed seeds."""
    total = 0.0
    for episode in range(n_episodes):
        observation, _ = env.reset(seed=10_000 + episode)
        done = False
        while not done:
            observation, reward, terminated, truncated, _ = env.step(policy(observation))
            total += reward
            done = terminated or truncated
    return total / n_episodes


@pytest.mark.slow  # about 15 s on a busy 2-core CPU
def test_plain_ppo_beats_the_random_policy(dataset):
    from stable_baselines3 import PPO

    env = ValidChoices(make(dataset, reward_mode="expected"))
    model = PPO("MlpPolicy", env, n_steps=256, batch_size=64, seed=0, device="cpu")
    model.learn(2048)
    rng = np.random.default_rng(0)
    random = _mean_return(lambda _: int(rng.integers(N_CHOICES)), env, 100)
    ppo = _mean_return(lambda o: int(model.predict(o, deterministic=True)[0]), env, 100)
    assert ppo > random + 0.05
