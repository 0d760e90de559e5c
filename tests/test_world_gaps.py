"""Exact expected clicks over click paths, the planner, closed-loop roll-outs and the
world_gaps script at smoke size."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from rec_env.checks import InputError
from rec_env.data import SyntheticConfig, generate_synthetic
from rec_env.simulator import GroundTruthModel
from rec_env.simulator.click_paths import PathModel, expected_clicks, place, start_lists
from rec_env.simulator.planner import (
    PlannerConfig,
    beam_search,
    local_search,
    plan,
    random_slates,
    roll_out,
)

WORLDS = {
    "plain": {},
    "satiation": dict(interest_shift=-2.0, click_shift=-0.6),
    "exits": dict(exit_after_skip=0.3, exit_after_click=0.1),
    "all": dict(interest_shift=1.0, exit_after_skip=0.2, fatigue=3.0),
}
N, C = 4, 12


@pytest.fixture(scope="module", params=WORLDS.values(), ids=WORLDS.keys())
def world(request):
    config = SyntheticConfig(n_users=50, n_items=60, n_requests=300, **request.param)
    model = GroundTruthModel(generate_synthetic(config, progress=False).extras["world"])
    rng = np.random.default_rng(0)
    users = rng.integers(0, 50, N)
    candidates = np.stack([rng.choice(60, C, replace=False) for _ in range(N)])
    return model, PathModel.of(model), users, candidates


def brute_force(model, user, items, exits=True):
    """Expected clicks of ``items`` by recursion over every click path, with the stateless
    model's probabilities and (``exits``) its exit probabilities."""
    k = len(items)
    skip, click = model.exit_after if exits else (0.0, 0.0)
    slate = np.zeros((1, model.slate_size), dtype=np.int64)
    slate[0, :k] = items

    def value(t, clicks, mass):
        if t == k:
            return 0.0
        slate_clicks = np.zeros((1, model.slate_size))
        slate_clicks[0, :t] = clicks
        at, who = np.array([t]), np.array([user])
        p = float(model.click_proba(who, slate, slate_clicks, items[t : t + 1], at)[0])
        rest = value(t + 1, clicks + [1], mass * p * (1 - click))
        return mass * p + rest + value(t + 1, clicks + [0], mass * (1 - p) * (1 - skip))

    return value(0, [], 1.0)


def test_expected_clicks_equal_brute_force_over_click_paths(world):
    model, paths, users, candidates = world
    lists = start_lists(model, users, candidates)
    slates = random_slates(lists, 4, 2, np.random.default_rng(1))
    exact = expected_clicks(paths, lists, slates)
    expected = [
        [brute_force(model, u, c[s]) for s in row]
        for u, c, row in zip(users, candidates, slates, strict=True)
    ]
    np.testing.assert_allclose(exact, expected, rtol=1e-6)


def test_a_placed_item_splits_the_value_into_its_click_and_skip_branches(world):
    _, paths, users, candidates = world
    lists = start_lists(world[0], users, candidates)
    slates = random_slates(lists, 4, 1, np.random.default_rng(2))[:, 0]
    first, rest = slates[:, 0], slates[:, None, 1:]
    p = paths.proba(lists.base[np.arange(N), first], lists.shown[np.arange(N), first], 0)
    after = {
        click: expected_clicks(paths, place(paths, lists, first, np.full(N, click)), rest)[:, 0]
        for click in (True, False)
    }
    whole = expected_clicks(paths, lists, slates[:, None])[:, 0]
    branches = (
        p * paths.stay_after_click * after[True] + (1 - p) * paths.stay_after_skip * after[False]
    )
    np.testing.assert_allclose(whole, p + branches, rtol=1e-12)


def test_open_loop_roll_outs_average_to_the_exact_value(world):
    model, paths, users, candidates = world
    lists = start_lists(model, users, candidates)
    slates = beam_search(paths, lists, 5, 1)
    origin = np.repeat(np.arange(N), 20_000)
    uniforms = np.random.default_rng(3).random((len(origin), 5))
    sampled = roll_out(paths, lists.rows(origin), slates[origin], uniforms).reshape(N, -1).mean(1)
    exact = expected_clicks(paths, lists, slates[:, None])[:, 0]
    np.testing.assert_allclose(sampled, exact, atol=0.01)


def test_the_planner_beats_greedy_and_local_search_never_loses(world):
    model, paths, users, candidates = world
    lists = start_lists(model, users, candidates)
    greedy = beam_search(paths, lists, 5, 1)
    polished = local_search(paths, lists, greedy, PlannerConfig(rounds=2))
    planned = plan(paths, lists, 5, PlannerConfig(beam_width=8))
    values = [expected_clicks(paths, lists, s[:, None])[:, 0] for s in (greedy, polished, planned)]
    assert (values[1] >= values[0] - 1e-12).all() and (values[2] >= values[0] - 1e-9).all()
    for slates in (greedy, polished, planned):  # distinct candidates per list
        assert all(len(set(row)) == 5 for row in slates)


def test_closed_loop_re_plans_only_after_clicks():
    config = SyntheticConfig(n_users=50, n_items=60, n_requests=300, interest_shift=-3.0)
    model = GroundTruthModel(generate_synthetic(config, progress=False).extras["world"])
    paths = PathModel.of(model)
    lists = start_lists(model, np.zeros(2, dtype=np.int64), np.tile(np.arange(C), (2, 1)))
    slates = plan(paths, lists, 4, PlannerConfig(beam_width=4))
    no_clicks = np.full((2, 4), 0.999)  # every uniform above every click probability
    open_loop = roll_out(paths, lists, slates, no_clicks)
    closed = roll_out(paths, lists, slates, no_clicks, PlannerConfig(beam_width=4), np.arange(2))
    np.testing.assert_array_equal(open_loop, closed)


def test_world_gaps_smoke_writes_its_results(tmp_path):
    command = [sys.executable, "-m", "benchmarks.world_gaps", "--smoke", "--out-dir", str(tmp_path)]
    subprocess.run(command, check=True, capture_output=True)
    table = pd.read_csv(tmp_path / "table.csv")
    assert list(table["world"]) == ["synthetic-tiny"] * 3
    assert list(table["model"]) == ["truth", "fitted", "fitted, dynamics"]
    assert (table["planner"] >= table["greedy"] - 1e-9).all()
    assert (table["greedy"] > table["random"]).all()
    for name in ("summary.md", "config.json", "command.txt", "world_gaps.png"):
        assert (tmp_path / name).stat().st_size > 0


@pytest.mark.parametrize("dynamics", [False, True], ids=["plain", "interest+exits"])
def test_the_fitted_models_gram_form_gives_its_expected_clicks(tiny_dataset, dynamics):
    from rec_env import Scenario
    from rec_env.simulator import LogClickConfig, fit_log_model
    from rec_env.simulator.fitted_paths import fitted_lists

    splits = Scenario.from_dataset(tiny_dataset).splits
    config = LogClickConfig(epochs=2, use_interest=dynamics)
    model = fit_log_model(splits.train, splits.valid, config, progress=False)
    with torch.no_grad():  # context terms of some weight, so the test sees them
        model.net.context_map.copy_(torch.eye(model.net.dim) * -0.5)
        model.net.click_weight.fill_(-0.4)
        if dynamics:
            model.net.interest_map.copy_(torch.randn(model.net.dim, model.net.dim))
            model.exit_after = np.array([0.2, 0.1])
    rng = np.random.default_rng(0)
    users = rng.integers(0, tiny_dataset.n_users, N)
    candidates = np.stack([rng.choice(tiny_dataset.n_items, C, replace=False) for _ in range(N)])
    lists, paths = fitted_lists(model, users, candidates)
    slates = random_slates(lists, 4, 2, rng)
    exact = expected_clicks(paths, lists, slates)
    expected = [
        [brute_force(model, u, c[s]) for s in row]
        for u, c, row in zip(users, candidates, slates, strict=True)
    ]
    np.testing.assert_allclose(exact, expected, rtol=1e-5)


@pytest.mark.slow
def test_a_fit_on_a_feed_world_learns_its_exits_and_interest():
    from rec_env import Scenario
    from rec_env.simulator import LogClickConfig, fit_log_model

    config = SyntheticConfig(
        n_users=300, n_items=300, n_requests=20_000, interest_shift=-2.5, exit_after_skip=0.1
    )
    splits = Scenario.from_dataset(generate_synthetic(config, progress=False)).splits
    fit = LogClickConfig(use_interest=True, learn_exits=True, epochs=15)
    model = fit_log_model(splits.train, splits.valid, fit, progress=False)
    np.testing.assert_allclose(model.exit_after, [0.1, 0.0], atol=0.01)
    assert model.exits and torch.linalg.matrix_norm(model.net.interest_map) > 0.5


def test_a_streaming_fit_refuses_to_learn_exits(tmp_path, tiny_dataset):
    from rec_env.data import LoggedLists, ParquetLists, write_lists_parquet
    from rec_env.simulator import LogClickConfig, fit_log_model_streaming

    path = write_lists_parquet(tiny_dataset.log, tmp_path / "log.parquet")
    lists = LoggedLists.from_dataset(tiny_dataset)
    log = ParquetLists(path, lists.item_features, lists.user_features, 10, 10_000)
    with pytest.raises(InputError, match="LogClickConfig.learn_exits"):
        fit_log_model_streaming(log, LogClickConfig(learn_exits=True))
