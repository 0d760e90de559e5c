"""Fuzzing the environments: random action sequences, seeds and FeedConfig values.

A valid action places an item; a masked one raises (``invalid_action="raise"``) or earns the
penalty; an action outside ``[0, C)`` or one that is not an integer raises ValueError and
leaves the episode as it was. Every observation is inside the observation space. The
environments are built once per module; examples per test: tests/conftest.py's profiles.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import rec_env  # noqa: F401  (registers ListwiseFeed-v0)
from rec_env.envs import RECALLS

C, N_ENVS, N_ITEMS, K = 20, 3, 150, 10  # synthetic-tiny: 150 items, lists of 10
INTEGER_TYPES = (int, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint64)
MALFORMED = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=2),
    st.lists(st.integers(0, C - 1), max_size=2),
    st.sampled_from([np.float32(1.0), np.True_, np.array([1]), np.array(1.0), 1 + 0j]),
)
"""Actions that are not an integer index (floats, bools, None, strings, lists, arrays...)."""


@st.composite
def integer_actions(draw):
    """An integer of a random type: mostly near ``[0, C)``, sometimes its type's extremes."""
    kind = draw(st.sampled_from(INTEGER_TYPES))
    low, high = (-(2**70), 2**70) if kind is int else (np.iinfo(kind).min, np.iinfo(kind).max)
    value = draw(
        st.integers(max(int(low), -3), min(int(high), C + 3)) | st.sampled_from([low, high])
    )
    return kind(value)


@pytest.fixture(scope="module", params=["raise", "penalty"])
def env(request):
    return gym.make(
        "ListwiseFeed-v0", dataset="synthetic-tiny", num_candidates=C, invalid_action=request.param
    )


@pytest.fixture(scope="module", params=["raise", "penalty"])
def vector_env(request):
    return gym.make_vec(
        "ListwiseFeed-v0",
        num_envs=N_ENVS,
        vectorization_mode="vector_entry_point",
        dataset="synthetic-tiny",
        num_candidates=C,
        invalid_action=request.param,
    )


def outcome(action, mask: np.ndarray, mode: str) -> str:
    """What the single env documents for ``action`` given the ``[C]`` mask."""
    if isinstance(action, bool | np.bool_) or not isinstance(action, int | np.integer):
        return "action must be an integer index"
    if not 0 <= int(action) < C:
        return "is outside Discrete"
    if not mask[int(action)]:
        return "already placed in slot" if mode == "raise" else "penalty"
    return "placed"


@given(
    seed=st.integers(0, 2**32 - 1),
    actions=st.lists(st.one_of(integer_actions(), MALFORMED), min_size=1, max_size=30),
)
@example(seed=0, actions=[True])  # was taken as action 1
@example(seed=0, actions=[2**70])  # was "actions must be (1,) integers, got object"
def test_single_env_follows_its_documented_action_rules(env, seed, actions):
    mode = env.unwrapped.config.invalid_action
    obs, info = env.reset(seed=seed)
    for action in actions:
        expected = outcome(action, obs["action_mask"].astype(bool), mode)
        if expected not in ("placed", "penalty"):
            with pytest.raises(ValueError, match=expected):
                env.step(action)
            assert env.unwrapped.core.position[0] == obs["position"]  # nothing changed
            continue
        obs, reward, terminated, truncated, info = env.step(action)
        assert env.observation_space.contains(obs)
        if expected == "penalty":
            assert reward == env.unwrapped.config.invalid_penalty and info["invalid_action"]
        else:
            assert info["item_id"] == obs["slate_items"][obs["position"] - 1]
        if terminated or truncated:
            obs, info = env.reset()


@st.composite
def vector_actions(draw):
    """``[N]`` actions of one integer dtype, or a malformed batch."""
    kind = draw(st.sampled_from(["integers", "floats", "bools", "objects", "shape", "ragged"]))
    ints = draw(st.lists(st.integers(-2, C + 1), min_size=N_ENVS, max_size=N_ENVS))
    if kind == "integers":
        dtype = draw(st.sampled_from([np.int64, np.int32, np.int8, np.uint8, np.uint64]))
        return np.asarray(ints).astype(dtype) if min(ints) >= 0 else np.asarray(ints, np.int64)
    return {
        "floats": np.asarray(ints, dtype=np.float64),
        "bools": np.asarray(ints, dtype=bool),
        "objects": np.asarray(ints, dtype=object),
        "shape": draw(st.sampled_from([ints[:-1], [ints], None, ints[0]])),
        "ragged": [ints[0], ints[1:]],
    }[kind]


def vector_outcome(actions, mask: np.ndarray, stepping: np.ndarray, mode: str) -> str:
    """What the vector env documents for ``actions`` given the ``[N, C]`` mask and the
    sub-envs that step (the others reset and ignore their action)."""
    if not isinstance(actions, np.ndarray) or actions.shape != (N_ENVS,):
        return "actions must"
    if actions.dtype.kind not in "iu":
        return "actions must be"
    mine = actions[stepping].astype(np.int64)
    if ((mine < 0) | (mine >= C)).any():
        return "is outside Discrete"
    masked = ~mask[stepping, np.clip(mine, 0, C - 1)]
    return "already placed in slot" if masked.any() and mode == "raise" else "placed"


@given(
    seed=st.integers(0, 2**32 - 1),
    batches=st.lists(vector_actions(), min_size=1, max_size=25),
)
@example(seed=0, batches=[[0, [1, 2]]])  # numpy's "inhomogeneous shape" error before
@example(seed=0, batches=[np.array([0, 1, 2], np.uint64)])  # IndexError: float cell indices
def test_vector_env_follows_its_documented_action_rules(vector_env, seed, batches):
    mode = vector_env.unwrapped.config.invalid_action
    obs, _ = vector_env.reset(seed=seed)
    ended = np.zeros(N_ENVS, dtype=bool)
    for actions in batches:
        stepping = ~ended
        expected = vector_outcome(actions, obs["action_mask"].astype(bool), stepping, mode)
        if expected != "placed":
            position = vector_env.unwrapped.core.position.copy()
            with pytest.raises(ValueError, match=expected):
                vector_env.step(actions)
            np.testing.assert_array_equal(vector_env.unwrapped.core.position, position)
            continue
        obs, reward, terminated, truncated, _ = vector_env.step(actions)
        assert vector_env.observation_space.contains(obs)
        assert reward.shape == (N_ENVS,) and not (terminated | truncated)[~stepping].any()
        ended = terminated | truncated


FEED_CONFIGS = st.fixed_dictionaries(
    {
        "num_candidates": st.integers(1, N_ITEMS + 10),
        "slate_size": st.none() | st.integers(1, K + 2),
        "recall": st.sampled_from(RECALLS),
        "user_split": st.sampled_from(["train", "valid", "test", "all"]),
        "reward_mode": st.sampled_from(["click", "expected"]),
        "invalid_action": st.sampled_from(["raise", "penalty"]),
        "invalid_penalty": st.floats(-10, 0),
    }
)


def config_error(config: dict) -> str | None:
    """The documented error of a FeedConfig on synthetic-tiny (the first check that fails,
    in the order they run), or None if it is valid."""
    c, k = config["num_candidates"], config["slate_size"] or K
    checks = [
        (
            c < k and config["slate_size"] is not None,
            r"num_candidates \(\d+\) must be >= slate_size",
        ),
        (c > N_ITEMS, r"num_candidates \(\d+\) exceeds the catalogue"),
        (c < k, r"num_candidates \(\d+\) must be >= slate_size"),
        (k > K, r"slate_size \(\d+\) exceeds the 10 slots"),
        (config["recall"] == "logged+popular" and c < K, "needs num_candidates >= the logged"),
    ]
    return next((message for failed, message in checks if failed), None)


@given(config=FEED_CONFIGS, seed=st.integers(0, 2**32 - 1), data=st.data())
def test_observations_stay_in_the_space_for_any_config_and_seed(config, seed, data):
    error = config_error(config)
    if error is not None:
        with pytest.raises(ValueError, match=error):
            gym.make("ListwiseFeed-v0", dataset="synthetic-tiny", **config)
        return
    env = gym.make("ListwiseFeed-v0", dataset="synthetic-tiny", **config)
    obs, _ = env.reset(seed=seed)
    terminated = False
    while not terminated:
        assert env.observation_space.contains(obs)
        action = data.draw(st.sampled_from(np.flatnonzero(obs["action_mask"]).tolist()))
        obs, _, terminated, _, _ = env.step(action)
    assert env.observation_space.contains(obs)
