"""The online agents table's feed rows: the open-loop planner as a policy in the env, the
share of (planner - oracle) and the paired tests of its report, and the config's checks."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from agents.policies import valid_mask
from agents.training.config import OnlineConfig
from agents.training.online import make_vector_env
from benchmarks import online_agents
from benchmarks.harness.paired import against, shares
from benchmarks.harness.planner_policy import OpenLoopPlanner, matching_rows, request_keys
from rec_env.checks import InputError
from rec_env.scenario import Scenario
from rec_env.simulator.click_paths import PathModel, start_lists
from rec_env.simulator.planner import PlannerConfig, plan

PLANNER = PlannerConfig(beam_width=3, rounds=1)
N_ENVS = 6


@pytest.fixture(scope="module")
def feed_env():
    """A vector env of the smoke's tiny feed world without exits (every list runs K slots)."""
    world = replace(online_agents.TINY_FEED, exit_after_skip=0.0, exit_after_click=0.0)
    scenario = Scenario.build("synthetic-tiny", synthetic=world, progress=False)
    online = OnlineConfig(env=online_agents.SMOKE["online"].env)
    env = make_vector_env(scenario, online, "test", N_ENVS)
    yield scenario, env
    env.close()


def serve(env, policies, seed: int = 3):
    """Play one list per sub-env, slot ``t`` acted on by ``policies[t % len(policies)]``: the
    served candidate indices ``[N, K]``, the first observation and the clicks ``[N, K]``."""
    observation, _ = env.reset(seed=seed)
    first, actions, clicks = observation, [], []
    slate_size = observation["slate_items"].shape[1]
    for t in range(slate_size):
        actions.append(policies[t % len(policies)].act(observation))
        observation, _, _, _, info = env.step(actions[-1])
        clicks.append(info["click"])
    return np.stack(actions, 1), first, np.stack(clicks, 1)


def test_the_planner_serves_its_planned_list_whatever_the_user_clicks(feed_env):
    scenario, env = feed_env
    model = scenario.user_model
    served, first, clicks = serve(env, [OpenLoopPlanner(model, PLANNER)])
    lists = start_lists(model, first["user"], first["candidates"])
    assert (served == plan(PathModel.of(model), lists, model.slate_size, PLANNER)).all()
    assert 0 < clicks.sum() < clicks.size  # the lists were clicked, not all slots
    # a fresh planner each slot plans every list again from its request: the same lists
    fresh = [OpenLoopPlanner(model, PLANNER) for _ in range(model.slate_size)]
    assert (serve(env, fresh)[0] == served).all()


def test_the_planner_refuses_a_list_it_did_not_start(feed_env):
    scenario, env = feed_env
    planner = OpenLoopPlanner(scenario.user_model, PLANNER)
    observation, _ = env.reset(seed=3)
    planner.act(observation)  # slot 0
    second = planner.plans[:, 1]  # what it would place at slot 1: place it at slot 0 instead
    observation, *_ = env.step(second)
    for policy in (planner, OpenLoopPlanner(scenario.user_model, PLANNER)):  # cached, fresh
        with pytest.raises(ValueError, match="only lists it planned from their first slot"):
            policy.act(observation)


def test_request_keys_read_the_start_of_a_list_from_any_slot(feed_env):
    _, env = feed_env
    observation, _ = env.reset(seed=5)
    start = request_keys(observation)
    actions = np.argmax(valid_mask(observation), axis=1)
    for _ in range(3):
        observation, *_ = env.step(actions)
        actions = np.argmax(valid_mask(observation), axis=1)
        assert (request_keys(observation) == start).all()


@pytest.mark.parametrize(
    ("known", "keys", "expected"),
    [
        ([[1, 2], [3, 4]], [[3, 4], [5, 6], [1, 2]], [1, -1, 0]),
        ([[1, 2], [1, 2]], [[1, 2]], [0]),  # duplicates: the first
        (np.zeros((0, 2)), [[1, 2]], [-1]),  # nothing known
        ([[1, 2, 3]], [[1, 2]], [-1]),  # other widths (another C)
    ],
)
def test_matching_rows(known, keys, expected):
    known, keys = np.asarray(known, dtype=np.int64), np.asarray(keys, dtype=np.int64)
    assert matching_rows(known, keys).tolist() == expected


def scores(by_method: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"dataset": "w", "method": m, "seed": s, "x": v}
            for m, values in by_method.items()
            for s, v in enumerate(values)
        ]
    )


def test_shares_of_the_planner_gap_are_hand_computed():
    table = scores({"oracle": [2, 2, 2], "planner": [3, 3, 3], "teacher": [2.2, 2.5, 2.8]})
    out = shares(table, "x", "oracle", "planner").set_index("method")
    assert out["share"].to_dict() == pytest.approx({"oracle": 0, "planner": 1, "teacher": 0.5})
    assert out.loc["teacher", "std"] == pytest.approx(0.3)
    assert (
        shares(table[table["method"] != "planner"], "x", "oracle", "planner")["share"].isna().all()
    )  # no planner row: no share, not 0


@pytest.mark.parametrize(
    ("teacher", "verdict"),
    [
        ([2.1, 2.2, 2.3, 2.15], "beats"),
        ([1.9, 1.8, 1.7, 1.85], "loses"),
        ([2.1, 1.9, 2.0, 2.0], "on par"),
    ],
)
def test_teachers_are_paired_against_each_baseline(teacher, verdict):
    table = scores({"mf": [2, 2, 2, 2], "supervised": [2, 2, 2, 2], "teacher": teacher})
    out = against(table, "x", ("teacher", "student"), ("mf", "supervised", "absent"))
    assert out["baseline"].tolist() == ["mf", "supervised"]
    assert (out["verdict"] == verdict).all() and (out["method"] == "teacher").all()
    assert out["diff"].tolist() == pytest.approx([np.mean(teacher) - 2] * 2)


@pytest.mark.parametrize("field", ["feed_datasets", "worlds"])
def test_feed_rows_refuse_a_world_without_a_true_model(field):
    value = ("ml-100k",) if field == "feed_datasets" else {"ml-100k": online_agents.TINY_FEED}
    with pytest.raises(InputError, match=rf"Config\.{field} must name synthetic presets"):
        online_agents.Config(**{field: value})


def test_feed_rows_are_on_feed_worlds_only():
    config = online_agents.Config(feed_datasets=("synthetic-feed",))
    assert set(online_agents.FEED_METHODS) <= set(online_agents.methods(config, "synthetic-feed"))
    assert online_agents.methods(config, "synthetic") == [
        "random", "popularity", "mf", "oracle", "ppo", "student", "teacher"
    ]  # fmt: skip
