"""ListwiseFeedVectorEnv: equal to N single envs, NEXT_STEP autoreset, batched spaces."""

import copy

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from gymnasium.vector.utils import batch_space

import rec_env  # noqa: F401  (registers ListwiseFeed-v0)
from rec_env.envs import ListwiseFeedVectorEnv

ENV_ID = "ListwiseFeed-v0"
N, K, C = 5, 10, 30


def make_pair(dataset, **kwargs):
    """The native vector env and gymnasium's SyncVectorEnv of N single envs, same settings."""
    kwargs = {"dataset": dataset, "num_candidates": C, **kwargs}
    native = gym.make_vec(ENV_ID, num_envs=N, vectorization_mode="vector_entry_point", **kwargs)
    sync = gym.make_vec(ENV_ID, num_envs=N, vectorization_mode="sync", **kwargs)
    return native, sync


def assert_same(a, b):
    """Equal values, shapes and dtypes, recursively through dicts and tuples."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, tuple):
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    else:
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def actions_for(masks, rng, invalid_rate=0.0):
    """A random valid action per sub-env; with ``invalid_rate``, sometimes a masked one."""
    actions = np.array([rng.choice(np.flatnonzero(mask)) for mask in masks])
    masked = [np.flatnonzero(~mask) for mask in masks]
    for env, choices in enumerate(masked):
        if len(choices) and rng.random() < invalid_rate:
            actions[env] = rng.choice(choices)
    return actions


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"recall": "random", "reward_mode": "expected"},
        {"recall": "logged+popular", "user_split": "all"},
        {"invalid_action": "penalty", "invalid_penalty": -0.5},
    ],
    ids=["default", "random-expected", "logged-all", "penalty"],
)
def test_native_equals_n_single_envs_with_the_same_seeds(dataset, kwargs):
    native, sync = make_pair(dataset, **kwargs)
    invalid_rate = 0.3 if kwargs.get("invalid_action") == "penalty" else 0.0
    rng = np.random.default_rng(0)
    assert_same(native.reset(seed=11), sync.reset(seed=11))
    autoresets = 0
    for _ in range(5 * (K + 1)):
        masks = native.unwrapped.action_masks()
        np.testing.assert_array_equal(masks, np.stack(sync.call("action_masks")))
        actions = actions_for(masks, rng, invalid_rate)
        native_step, sync_step = native.step(actions), sync.step(actions)
        assert_same(native_step, sync_step)
        autoresets += int(native_step[4].get("_request_id", np.zeros(N)).sum())
    assert autoresets >= 3 * N  # episodes ended and restarted, desynchronised in penalty mode
    if invalid_rate:
        assert_same(native.reset(seed=[3, None, 5, 6, 7]), sync.reset(seed=[3, None, 5, 6, 7]))


def test_kept_observations_stay_valid(dataset):
    native, _ = make_pair(dataset)
    kept = [native.reset(seed=0)[0]]
    snapshots = [copy.deepcopy(kept[0])]
    for _ in range(2 * (K + 1)):
        actions = np.argmax(native.unwrapped.action_masks(), axis=1)
        kept.append(native.step(actions)[0])
        snapshots.append(copy.deepcopy(kept[-1]))
    for observation, snapshot in zip(kept, snapshots, strict=True):
        assert_same(observation, snapshot)
    # within an episode the per-episode keys are shared, the per-step keys are new arrays
    assert kept[1]["candidates"] is kept[2]["candidates"]
    assert kept[K]["candidates"] is not kept[K + 1]["candidates"]  # the autoreset step
    for key in ("position", "slate_items", "slate_clicks", "action_mask"):
        assert not np.shares_memory(kept[1][key], kept[2][key])


def test_spaces_are_the_single_envs_batched(dataset):
    native, _ = make_pair(dataset)
    single = gym.make(ENV_ID, dataset=dataset, num_candidates=C)
    assert native.single_observation_space == single.observation_space
    assert native.single_action_space == single.action_space == gym.spaces.Discrete(C)
    assert native.observation_space == batch_space(single.observation_space, N)
    assert native.action_space == batch_space(single.action_space, N)
    assert native.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert isinstance(native.unwrapped, ListwiseFeedVectorEnv)
    assert not isinstance(native, SyncVectorEnv)
    assert native.unwrapped.item_features.shape == (300, 8)


def test_next_step_autoreset(dataset):
    native, _ = make_pair(dataset)
    obs, info = native.reset(seed=0)
    assert obs in native.observation_space
    first_requests = info["request_id"].copy()
    for slot in range(K):
        obs, reward, terminated, truncated, info = native.step(np.full(N, slot))
        assert obs in native.observation_space
        assert reward.dtype == np.float64 and terminated.dtype == truncated.dtype == bool
        assert terminated.all() == (slot == K - 1) and not truncated.any()
    assert info["_list_clicks"].all() and info["list_items"].shape == (N, K)
    np.testing.assert_array_equal(info["list_clicks"], obs["slate_clicks"])
    obs, reward, terminated, truncated, info = native.step(np.full(N, 0))
    assert (reward == 0).all() and not terminated.any() and not truncated.any()
    assert (obs["position"] == 0).all() and obs["action_mask"].all()
    assert info["_request_id"].all() and "item_id" not in info
    assert (info["request_id"] != first_requests).any()


def test_partial_autoreset_in_penalty_mode(dataset):
    native, _ = make_pair(dataset, invalid_action="penalty")
    native.reset(seed=0)
    native.step(np.zeros(N, dtype=np.int64))
    actions = np.ones(N, dtype=np.int64)
    actions[2] = 0  # masked for sub-env 2 only: it falls one slot behind
    _, reward, *_ = native.step(actions)
    assert reward[2] == -1.0
    for slot in range(2, K):
        *_, terminated, _, _ = native.step(np.full(N, slot))
    assert terminated.tolist() == [True, True, False, True, True]
    obs, reward, terminated, _, info = native.step(np.full(N, K))
    assert terminated.tolist() == [False, False, True, False, False]
    assert info["_request_id"].tolist() == [True, True, False, True, True]
    assert info["_item_id"].tolist() == [False, False, True, False, False]
    assert obs["position"].tolist() == [0, 0, K, 0, 0]


def test_reset_seeds(dataset):
    native, _ = make_pair(dataset)
    _, by_int = native.reset(seed=7)
    _, by_list = native.reset(seed=[7 + i for i in range(N)])
    np.testing.assert_array_equal(by_int["request_id"], by_list["request_id"])
    _, unseeded = native.reset()
    assert (unseeded["request_id"] != by_int["request_id"]).any()
    with pytest.raises(ValueError, match="expected 5 seeds"):
        native.reset(seed=[1, 2])


def test_bad_actions_name_the_sub_env(dataset):
    native, _ = make_pair(dataset, invalid_action="raise")
    native.reset(seed=0)
    native.step(np.arange(N))
    with pytest.raises(ValueError, match="sub-env 3: action 3 picks item"):
        native.step(np.array([9, 9, 9, 3, 9]))
    with pytest.raises(ValueError, match="shape"):
        native.step(np.zeros(N + 1, dtype=np.int64))
    with pytest.raises(ValueError, match="sub-env 1: action 30 is outside"):
        native.step(np.array([9, C, 9, 9, 9]))


def test_step_before_reset_raises(dataset):
    native, _ = make_pair(dataset)
    with pytest.raises(RuntimeError, match="reset"):
        native.step(np.zeros(N, dtype=np.int64))
