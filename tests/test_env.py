"""ListwiseFeed-v0, the single environment: checkers, determinism, masks, modes, parts."""

import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from gymnasium.utils.env_checker import check_env

import rec_env  # noqa: F401  (registers ListwiseFeed-v0)
from rec_env import Scenario
from rec_env.data import PAD_ITEM, LoggedLists, load_dataset, split_rows
from rec_env.data.dataset import dataset_from_log
from rec_env.envs import FlatFeatures, ListwiseFeedEnv

ENV_ID = "ListwiseFeed-v0"
K, C = 10, 30


class FakeUserModel:
    """Deterministic click probabilities from ids, slot and clicks so far (any log)."""

    def __init__(self, slate_size: int):
        self.slate_size = slate_size
        self.calls = 0

    def click_proba(self, users, slate_items, slate_clicks, candidates, position):
        self.calls += 1
        clicks = np.where(np.arange(slate_items.shape[1]) < position[:, None], slate_clicks, 0)
        base = ((candidates * 7 + users.reshape(-1, *[1] * (candidates.ndim - 1))) % 10) / 12.0
        decay = 0.9 ** (position + clicks.sum(axis=1)).reshape(-1, *[1] * (candidates.ndim - 1))
        return (0.05 + base * decay).astype(np.float32)


@pytest.fixture(scope="module")
def log_dataset():
    """A small log without a ground truth (like ml-100k): 60 requests, 4 slots, 25 items."""
    rng = np.random.default_rng(0)
    rows = []
    for request in range(60):
        items = rng.choice(25, size=4, replace=False)
        for position, item in enumerate(items[: 4 - request % 2]):  # some lists are short
            rows.append((request % 9, request, position, item, int(rng.random() < 0.3)))
    log = pd.DataFrame(rows, columns=["user_id", "request_id", "position", "item_id", "click"])
    log["i_price"] = log["item_id"] * 0.1
    return dataset_from_log("tiny-log", log, slate_size=4)


def make(dataset, **kwargs):
    return gym.make(
        ENV_ID, dataset=dataset, num_candidates=kwargs.pop("num_candidates", C), **kwargs
    )


def random_valid_action(env, rng):
    return int(rng.choice(np.flatnonzero(env.unwrapped.action_masks())))


def rollout(env, seed, episodes=3):
    """Observations, rewards and infos of ``episodes`` episodes of seeded random valid actions."""
    rng = np.random.default_rng(seed)
    trace = []
    obs, info = env.reset(seed=seed)
    for _ in range(episodes):
        trace.append((obs, info))
        done = False
        while not done:
            obs, reward, terminated, truncated, info = env.step(random_valid_action(env, rng))
            trace.append((obs, reward, terminated, truncated, info))
            done = terminated or truncated
        obs, info = env.reset()
    return trace


def assert_same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    else:
        np.testing.assert_array_equal(a, b)


CONFIGS = [
    {"reward_mode": reward_mode, "recall": recall, "invalid_action": invalid}
    for reward_mode in ("click", "expected")
    for recall in ("popular", "random", "logged+popular")
    for invalid in ("raise", "penalty")
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(c.values()))
def test_gymnasium_check_env_passes_without_warnings(dataset, config):
    env = make(dataset, render_mode="ansi", **config)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)


@pytest.mark.parametrize(
    "config",
    [c for c in CONFIGS if c["invalid_action"] == "penalty"],
    ids=lambda c: "-".join(c.values()),
)
def test_sb3_check_env_passes_raw_and_flat(dataset, config):
    """SB3's checker steps unmasked random actions: plain SB3 needs penalty mode."""
    env_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env_checker.check_env(make(dataset, **config).unwrapped)
        env_checker.check_env(FlatFeatures(make(dataset, **config)))


def test_default_make_works_and_registration_is_flat():
    spec = gym.spec(ENV_ID)
    assert spec.entry_point == "rec_env.envs.feed_env:ListwiseFeedEnv"
    assert spec.vector_entry_point == "rec_env.envs.vector_env:ListwiseFeedVectorEnv"
    env = gym.make(ENV_ID)
    obs, _ = env.reset(seed=0)
    assert env.unwrapped.core.parts.scenario.name == "synthetic-feed"
    assert obs["slate_items"].shape == (10,) and obs["candidates"].shape == (100,)
    assert gym.make(ENV_ID).unwrapped.core.parts.scenario is env.unwrapped.core.parts.scenario


def test_importing_rec_env_does_not_import_torch():
    code = "import sys, rec_env, rec_env.envs; assert 'torch' not in sys.modules, 'torch'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("recall", ["popular", "random", "logged+popular"])
def test_same_seed_same_rollout_different_seed_differs(dataset, recall):
    first = rollout(make(dataset, recall=recall), seed=5)
    assert_same(first, rollout(make(dataset, recall=recall), seed=5))
    other = rollout(make(dataset, recall=recall), seed=6)
    requests = [step[1]["request_id"] for step in first if len(step) == 2]
    other_requests = [step[1]["request_id"] for step in other if len(step) == 2]
    assert requests != other_requests


def test_reset_without_seed_continues_the_stream(dataset):
    env = make(dataset)
    env.reset(seed=1)
    second = env.reset()[1]["request_id"]
    env.reset(seed=1)
    assert env.reset()[1]["request_id"] == second
    requests = {env.reset()[1]["request_id"] for _ in range(20)}
    assert len(requests) > 10


def test_episode_fills_k_slots_then_terminates(dataset):
    env = make(dataset, render_mode="ansi")
    obs, info = env.reset(seed=0)
    assert obs in env.observation_space
    assert set(info) == {"action_mask", "request_id", "user_id"}
    assert obs["position"] == 0 and (obs["slate_items"] == PAD_ITEM).all()
    rng = np.random.default_rng(0)
    for slot in range(K):
        action = random_valid_action(env, rng)
        item = obs["candidates"][action]
        obs, reward, terminated, truncated, info = env.step(action)
        assert obs in env.observation_space
        assert type(reward) is float and type(terminated) is bool and type(truncated) is bool
        assert terminated == (slot == K - 1) and not truncated
        assert obs["position"] == slot + 1 and obs["slate_items"][slot] == item == info["item_id"]
        assert obs["slate_clicks"][slot] == info["click"] == reward
        assert (obs["slate_items"][slot + 1 :] == PAD_ITEM).all()
    assert {"item_id", "click_proba", "click", "list_items", "list_clicks"} <= set(info)
    np.testing.assert_array_equal(info["list_items"], obs["slate_items"])
    np.testing.assert_array_equal(info["list_clicks"], obs["slate_clicks"])
    with pytest.raises(RuntimeError, match="reset"):
        env.unwrapped.step(0)


def test_mask_hides_exactly_the_placed_items(dataset):
    env = make(dataset)
    obs, info = env.reset(seed=3)
    placed = []
    for action in (4, 0, 29, 7):
        obs, _, _, _, info = env.step(action)
        placed.append(action)
        expected = np.ones(C, dtype=bool)
        expected[placed] = False
        np.testing.assert_array_equal(obs["action_mask"], expected.astype(np.int8))
        np.testing.assert_array_equal(info["action_mask"], expected)
        np.testing.assert_array_equal(env.unwrapped.action_masks(), expected)
        assert info["action_mask"].dtype == bool and env.unwrapped.action_masks().dtype == bool
        assert set(obs["slate_items"][: len(placed)]) == set(obs["candidates"][placed])


def test_invalid_actions_raise_in_strict_mode(dataset):
    env = make(dataset, invalid_action="raise")
    env.reset(seed=0)
    env.step(3)
    with pytest.raises(ValueError, match="already placed in slot 0"):
        env.step(3)
    for bad in (C, -1):
        with pytest.raises(ValueError, match="outside Discrete"):
            env.step(bad)
    with pytest.raises(ValueError, match="integer"):
        env.step(1.5)
    obs, *_ = env.step(4)  # the rejected actions changed nothing
    assert obs["position"] == 2


def test_penalty_mode_leaves_the_slot_empty_and_truncates(dataset):
    env = make(dataset, invalid_action="penalty", invalid_penalty=-2.5)
    env.reset(seed=0)
    before, *_ = env.step(3)
    obs, reward, terminated, truncated, info = env.step(3)
    assert reward == -2.5 and not terminated and not truncated
    assert info["invalid_action"] is True and "item_id" not in info
    assert_same(obs, before)
    for _ in range(K - 2):
        *_, truncated, info = env.step(3)
        assert not truncated
    obs, reward, terminated, truncated, info = env.step(3)
    assert truncated and not terminated and reward == -2.5
    np.testing.assert_array_equal(info["list_items"][1:], PAD_ITEM)


@pytest.mark.parametrize("reward_mode", ["click", "expected"])
def test_reward_modes(dataset, reward_mode):
    env = make(dataset, reward_mode=reward_mode)
    env.reset(seed=2)
    rewards, probas, clicks = [], [], []
    for action in range(K):
        _, reward, _, _, info = env.step(action)
        rewards.append(reward)
        probas.append(info["click_proba"])
        clicks.append(info["click"])
    assert all(0.0 < p < 1.0 for p in probas)
    expected = probas if reward_mode == "expected" else [float(c) for c in clicks]
    np.testing.assert_allclose(rewards, expected)


def test_clicks_follow_the_user_models_probabilities(dataset):
    env = make(dataset)
    env.reset(seed=0)
    rates, probas = [], []
    for _ in range(300):
        _, reward, _, _, info = env.step(0)
        rates.append(reward)
        probas.append(info["click_proba"])
        env.reset()
    assert abs(np.mean(rates) - np.mean(probas)) < 4 * np.sqrt(np.mean(probas) / 300)


def test_recalls_give_distinct_sorted_candidates(dataset):
    lists = LoggedLists.from_dataset(dataset)
    train = split_rows(lists, by="request", seed=0)[0]
    shown = np.bincount(lists.items[train][lists.mask[train]], minlength=dataset.n_items)
    top = np.sort(np.argsort(-shown, kind="stable")[:C])
    seen = set()
    for recall in ("popular", "random", "logged+popular"):
        env = make(dataset, recall=recall)
        obs, info = env.reset(seed=0)
        for _ in range(20):
            candidates = obs["candidates"]
            assert (np.diff(candidates) > 0).all() and len(candidates) == C
            row = np.flatnonzero(lists.request_ids == info["request_id"])[0]
            if recall == "popular":
                np.testing.assert_array_equal(candidates, top)
            if recall == "logged+popular":
                assert set(lists.items[row][lists.mask[row]]) <= set(candidates)
            if recall == "random":
                seen.add(tuple(candidates))
            obs, info = env.reset()
    assert len(seen) == 20


def test_user_split_draws_only_that_splits_requests(dataset):
    lists = LoggedLists.from_dataset(dataset)
    test_rows = split_rows(lists, by="request", seed=4)[2]
    env = make(dataset, user_split="test", split_seed=4)
    env.reset(seed=0)
    drawn = {env.reset()[1]["request_id"] for _ in range(100)}
    assert drawn <= set(lists.request_ids[test_rows].tolist())


def test_render_ansi_shows_the_list_with_probabilities(dataset):
    env = make(dataset, render_mode="ansi", reward_mode="expected")
    env.reset(seed=0)
    _, reward, _, _, info = env.step(5)
    text = env.render()
    assert f"item {info['item_id']:>7}  p={reward:.3f}" in text
    assert "slot 1/10" in text and text.count("\n") == K + 1


def test_render_without_mode_warns(dataset):
    env = make(dataset).unwrapped
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_candidates": 301}, "exceeds the catalogue"),
        ({"num_candidates": 5}, "must be >= slate_size"),
        ({"slate_size": 11}, "exceeds the 10 slots"),
        ({"recall": "nearest"}, "recall must be one of"),
        ({"reward_mode": "clicks"}, "reward_mode must be one of"),
        ({"user_split": "dev"}, "user_split must be one of"),
        ({"invalid_action": "remap"}, "invalid_action must be one of"),
    ],
)
def test_bad_arguments_are_clear_errors(dataset, kwargs, message):
    kwargs = {"num_candidates": C, **kwargs}
    with pytest.raises(ValueError, match=message):
        ListwiseFeedEnv(dataset=dataset, **kwargs)


def test_shorter_slate_than_the_logs(dataset):
    env = make(dataset, slate_size=4)
    obs, _ = env.reset(seed=0)
    assert obs["slate_items"].shape == (4,)
    terminated = [env.step(action)[2] for action in range(4)]
    assert terminated == [False, False, False, True]


def test_log_without_ground_truth_uses_injected_model(log_dataset):
    model = FakeUserModel(slate_size=4)
    env = gym.make(
        ENV_ID, dataset=log_dataset, num_candidates=10, recall="logged+popular", user_model=model
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    trace = rollout(env, seed=0)
    assert model.calls >= 12 and len(trace) == 15
    assert env.unwrapped.item_features.shape == (25, 1)


def test_log_without_ground_truth_defaults_to_a_fitted_user_model(log_dataset, monkeypatch):
    made = []

    def fake_fit(scenario, **overrides):
        made.append((scenario.dataset, scenario.split, scenario.split_seed))
        return FakeUserModel(scenario.dataset.slate_size)

    monkeypatch.setattr(Scenario, "fitted_user_model", fake_fit)
    env = ListwiseFeedEnv(dataset=log_dataset, num_candidates=10, split_seed=3)
    assert made == [(log_dataset, "request", 3)]
    assert isinstance(env.core.parts.user_model, FakeUserModel)


def test_scenario_excludes_dataset_split_arguments(dataset):
    scenario = Scenario.from_dataset(dataset, split_seed=4)
    with pytest.raises(ValueError, match="scenario= or dataset=, split_seed="):
        make(dataset, scenario=scenario, split_seed=4)


def test_flat_features_layout(dataset):
    env = FlatFeatures(make(dataset, render_mode=None))
    base = env.unwrapped
    f_u, f_i = base.user_features.shape[1], base.item_features.shape[1]
    assert env.observation_space.shape == (f_u + (K + 1) + K * (f_i + 1) + C * f_i + C,)
    flat, _ = env.reset(seed=0)
    flat, *_ = env.step(7)
    assert flat in env.observation_space and flat.dtype == np.float32
    core = base.core
    np.testing.assert_array_equal(flat[:f_u], base.user_features[core.users[0]])
    np.testing.assert_array_equal(flat[f_u : f_u + K + 1], np.eye(K + 1)[1])
    slots = flat[f_u + K + 1 : f_u + K + 1 + K * (f_i + 1)].reshape(K, f_i + 1)
    np.testing.assert_array_equal(slots[0, :f_i], base.item_features[core.candidates[0, 7]])
    assert slots[0, f_i] == core.slate_clicks[0, 0] and not slots[1:].any()
    candidates = flat[-C - C * f_i : -C].reshape(C, f_i)
    np.testing.assert_array_equal(candidates, base.item_features[core.candidates[0]])
    np.testing.assert_array_equal(flat[-C:], env.action_masks())
    assert not env.action_masks()[7]


@pytest.mark.parametrize("name", ["ml-100k", "obd"])
def test_real_datasets_with_a_stand_in_model(name):
    from rec_env.data import DatasetFetchError

    try:
        data = load_dataset(name)
    except DatasetFetchError as error:  # offline without a cached copy
        pytest.skip(str(error))
    env = gym.make(
        ENV_ID, dataset=data, recall="logged+popular", user_model=FakeUserModel(data.slate_size)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    obs, _ = env.reset(seed=0)
    assert obs["slate_items"].shape == (data.slate_size,) and obs["candidates"].shape == (100,)


def expected_clicks_per_list(env, choose, episodes=200, seed=123):
    """Mean return (expected clicks per list) of ``choose(obs, mask, rng) -> action``."""
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    total = 0.0
    for _ in range(episodes):
        done = False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(choose(obs, env.action_masks(), rng))
            total += reward
            done = terminated or truncated
        obs, _ = env.reset()
    return total / episodes


@pytest.mark.slow
def test_maskable_ppo_learns_more_clicks_than_random(dataset):
    torch = pytest.importorskip("torch")
    sb3_contrib = pytest.importorskip("sb3_contrib")
    torch.set_num_threads(1)

    def make_flat():
        return FlatFeatures(make(dataset, reward_mode="expected"))

    model = sb3_contrib.MaskablePPO(
        "MlpPolicy", make_flat(), n_steps=500, batch_size=100, learning_rate=1e-3, gamma=0.9, seed=0
    )
    model.learn(8_000)

    def ppo(obs, mask, rng):
        return int(model.predict(obs, action_masks=mask, deterministic=True)[0])

    def random(obs, mask, rng):
        return int(rng.choice(np.flatnonzero(mask)))

    learned = expected_clicks_per_list(make_flat(), ppo)
    baseline = expected_clicks_per_list(make_flat(), random)
    assert learned > 1.1 * baseline, (learned, baseline)
