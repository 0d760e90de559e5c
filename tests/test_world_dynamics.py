"""The synthetic world's dynamics (interest after a click, exits): neutral = the world without
them bit for bit; each one alone changes a tiny hand-computed case as documented; an exit ends
the episode; the log, the stateless model and the environments agree."""

import warnings
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

import rec_env  # noqa: F401  (registers ListwiseFeed-v0)
from rec_env.checks import InputError
from rec_env.data import SyntheticConfig, generate_synthetic, load_dataset
from rec_env.data.synthetic import make_world, simulate_clicks
from rec_env.data.synthetic_dynamics import leaves
from rec_env.simulator import GroundTruthModel
from tests.test_vector_env import actions_for, assert_same

SMALL = dict(n_users=300, n_items=400, n_requests=3_000, seed=5)
DYNAMICS = {
    "interest": dict(interest_shift=-2.0),
    "exit": dict(exit_after_skip=0.3, exit_after_click=0.05),
    "both": dict(interest_shift=1.5, exit_after_skip=0.2),
}
SATIATED = dict(interest_shift=-2.0, exit_after_skip=0.2)


def generate(**overrides):
    return generate_synthetic(SyntheticConfig(**{**SMALL, **overrides}), progress=False)


@pytest.mark.parametrize(
    "name, overrides, fingerprint",
    [  # the fingerprints of these logs before the dynamics existed (main at 8818820)
        ("synthetic-tiny", {}, "789050cde7de80fd9d922e2448d48ae539b685197c608c99838ec7f7a69f28f5"),
        ("synthetic", SMALL, "aaca43406a10cbb16bfa12230669491fec0c241cbf1e4734504d816d7b22e458"),
    ],
)
def test_neutral_dynamics_reproduce_the_former_log_exactly(name, overrides, fingerprint):
    neutral = dict(interest_shift=0.0, exit_after_skip=0.0, exit_after_click=0.0)
    dataset = load_dataset(name, progress=False, **overrides, **neutral)
    assert dataset.fingerprint() == fingerprint


def tiny_world(**dynamics):
    """Four items in 2-d (two at [1, 0], two at [0, 1]), a user of taste 0, no position bias,
    popularity, fatigue or click shift: every logit is 0 but what the dynamics add."""
    config = SyntheticConfig(
        n_users=1, n_items=20, slate_size=2, latent_dim=2, fatigue=0.0, click_shift=0.0,
        **dynamics,
    )  # fmt: skip
    world = make_world(config)
    factors = np.zeros((20, 2), dtype=np.float32)
    factors[[0, 1], 0] = factors[[2, 3], 1] = 1.0
    return replace(
        world,
        item_factors=factors,
        user_tastes=np.zeros((1, 2), dtype=np.float32),
        item_bias=np.zeros(20, dtype=np.float32),
        examination=np.ones(2, dtype=np.float32),
    )


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@pytest.mark.parametrize("shift", [0.0, 2.0, -2.0])
def test_a_click_moves_the_taste_by_interest_shift_times_the_clicked_factors(shift):
    model = GroundTruthModel(tiny_world(interest_shift=shift))
    users, slate = np.zeros(4, dtype=np.int64), np.zeros((4, 2), dtype=np.int64)  # item 0 first
    clicked = np.array([[1, 0], [1, 0], [0, 0], [0, 0]])
    candidates = np.array([1, 2, 1, 2])  # like item 0, unlike it; after a click, after none
    proba = model.click_proba(users, slate, clicked, candidates, np.ones(4, dtype=np.int64))
    expected = [sigmoid(shift), 0.5, 0.5, 0.5]  # <f_1, f_0> = 1, <f_2, f_0> = 0
    np.testing.assert_allclose(proba, expected, rtol=1e-6)


@pytest.mark.parametrize(
    "uniform, proba, click, expected",
    [  # after a click: leave iff u < p * q; after none: iff u >= 1 - q * (1 - p)
        (0.14, 0.5, True, True),
        (0.16, 0.5, True, False),
        (0.86, 0.5, False, True),
        (0.84, 0.5, False, False),
    ],
)
def test_leaving_shares_the_click_uniform(uniform, proba, click, expected):
    q = 0.3
    assert bool(leaves(np.array([uniform]), np.array([proba]), np.array([click]), q)[0]) is expected


@pytest.mark.parametrize("after_skip, after_click", [(0.3, 0.0), (0.0, 0.4), (0.2, 0.1)])
def test_users_leave_after_a_slot_with_the_configured_probability(after_skip, after_click):
    world = tiny_world(exit_after_skip=after_skip, exit_after_click=after_click)
    n = 200_000
    users, items = np.zeros(n, dtype=np.int64), np.tile([0, 2], (n, 1))
    uniforms = np.random.default_rng(0).random((n, 2))
    clicks, proba, shown = simulate_clicks(world, users, items, uniforms)
    first = clicks[:, 0].astype(bool)
    assert clicks[:, 0].mean() == pytest.approx(proba[0, 0], abs=0.005)  # clicks keep theirs
    assert 1 - shown[first, 1].mean() == pytest.approx(after_click, abs=0.006)
    assert 1 - shown[~first, 1].mean() == pytest.approx(after_skip, abs=0.006)
    assert not clicks[~shown].any()


@pytest.mark.parametrize("dynamics", DYNAMICS.values(), ids=DYNAMICS.keys())
def test_log_and_stateless_model_give_the_same_floats(dynamics):
    dataset = generate(n_requests=400, **dynamics)
    log = dataset.log
    k = dataset.slate_size
    lengths = log.groupby("request_id").size().to_numpy()
    assert lengths.max() == k and (lengths.min() < k) == ("exit_after_skip" in dynamics)
    full = log[log["request_id"].isin(np.flatnonzero(lengths == k))]  # whole lists
    items = full["item_id"].to_numpy().reshape(-1, k)
    clicks = full["click"].to_numpy().reshape(-1, k)
    users = full["user_id"].to_numpy()[::k]
    model = GroundTruthModel(dataset.extras["world"])
    for slot in range(k):
        position = np.full(len(users), slot)
        proba = model.click_proba(users, items, clicks, items[:, slot], position)
        np.testing.assert_array_equal(proba, full["proba"].to_numpy()[slot::k])


@pytest.mark.parametrize("dynamics", DYNAMICS.values(), ids=DYNAMICS.keys())
def test_the_dynamics_change_the_log(dynamics):
    plain, moved = generate(), generate(**dynamics)
    assert plain.fingerprint() != moved.fingerprint()
    assert moved.log["proba"].mean() == pytest.approx(plain.log["proba"].mean(), abs=0.01)


@pytest.fixture(scope="module")
def satiated():
    return generate(n_users=200, n_items=300, n_requests=2000, **SATIATED)


def test_an_exit_ends_the_episode_with_terminated(satiated):
    env = gym.make("ListwiseFeed-v0", dataset=satiated, num_candidates=30)
    lengths, rng = [], np.random.default_rng(0)
    for episode in range(40):
        env.reset(seed=episode)
        step, terminated = 0, False
        while not terminated:
            action = rng.choice(np.flatnonzero(env.unwrapped.action_masks()))
            obs, _, terminated, truncated, info = env.step(action)
            step += 1
        assert terminated and not truncated and int(obs["position"]) == step
        assert (info["list_items"] == -1).sum() == 10 - step
        lengths.append(step)
    assert min(lengths) < 10 and max(lengths) == 10


@pytest.mark.parametrize("reward_mode", ["click", "expected"])
def test_native_vector_env_equals_n_single_envs_with_exits(satiated, reward_mode):
    kwargs = dict(dataset=satiated, num_candidates=30, reward_mode=reward_mode)
    n, rng = 4, np.random.default_rng(1)
    native = gym.make_vec("ListwiseFeed-v0", n, vectorization_mode="vector_entry_point", **kwargs)
    sync = gym.make_vec("ListwiseFeed-v0", n, vectorization_mode="sync", **kwargs)
    assert_same(native.reset(seed=3), sync.reset(seed=3))
    early = 0
    for _ in range(60):
        actions = actions_for(native.unwrapped.action_masks(), rng)
        native_step, sync_step = native.step(actions), sync.step(actions)
        assert_same(native_step, sync_step)
        obs, terminated = native_step[0], native_step[2]
        early += int((terminated & (obs["position"] < 10)).sum())
    assert early >= 3


@pytest.mark.parametrize(
    "field, value",
    [
        ("exit_after_skip", -0.1),
        ("exit_after_skip", 1.5),
        ("exit_after_click", float("nan")),
        ("interest_shift", float("inf")),
        ("interest_shift", float("nan")),
        ("fatigue", float("-inf")),
    ],
)
def test_a_dynamic_out_of_range_names_its_field(field, value):
    with pytest.raises(InputError, match=f"SyntheticConfig.{field}"):
        SyntheticConfig(**{field: value})


def test_logged_lists_are_rows_up_to_the_exit():
    log = generate(n_requests=500, **SATIATED).log
    per_list = log.groupby("request_id")["position"]
    pd.testing.assert_series_equal(per_list.max() + 1, per_list.size(), check_names=False)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("checker", ["sb3", "gymnasium"])
def test_checkers_are_clean_on_the_default_feed_world(checker, seed):
    from gymnasium.utils.env_checker import check_env as gymnasium_check_env

    sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    env = gym.make("ListwiseFeed-v0").unwrapped
    assert env.core.parts.scenario.name == "synthetic-feed" and env.core.exit_rule is not None
    env.reset(seed=seed)
    env.action_space.seed(seed)
    env.observation_space.seed(seed)
    check = {"sb3": sb3_checker.check_env, "gymnasium": gymnasium_check_env}[checker]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check(env)


def test_the_envs_click_probabilities_are_the_stateless_models_bit_for_bit(satiated):
    """The env's list context carries the clicked items' factors in the stateless model's
    order (the native vector env gives the single env's floats: tested above)."""
    model = GroundTruthModel(satiated.extras["world"])
    env = gym.make("ListwiseFeed-v0", dataset=satiated, num_candidates=30)
    rng, checked = np.random.default_rng(2), 0
    for episode in range(8):
        obs, _ = env.reset(seed=episode)
        terminated = False
        while not terminated:
            action = rng.choice(np.flatnonzero(env.unwrapped.action_masks()))
            before = obs
            obs, _, terminated, _, info = env.step(action)
            proba = model.click_proba(
                before["user"][None],
                before["slate_items"][None],
                before["slate_clicks"][None],
                np.array([info["item_id"]]),
                before["position"][None],
            )
            assert proba[0] == np.float32(info["click_proba"])
            checked += 1
    assert checked > 40
