"""One scenario for everything: the split the agent trains on is the one the env draws from
and the user model is fitted on."""

import numpy as np
import pytest
from agents_testing import tiny_config
from gymnasium.vector import VectorWrapper

from agents.baselines import RandomAgent
from agents.evaluation import evaluate_online
from agents.training.config import load_scenario
from agents.training.online import make_vector_env
from rec_env import Scenario
from rec_env.simulator.fit import cache_path
from rec_env.simulator.log_model import LogClickConfig


class RecordRequests(VectorWrapper):
    """Keeps the ``request_id`` of every episode a vector env starts."""

    def __init__(self, env):
        super().__init__(env)
        self.requests: list[int] = []

    def reset(self, **kwargs):
        observation, info = self.env.reset(**kwargs)
        self.requests += info["request_id"].tolist()
        return observation, info

    def step(self, actions):
        out = self.env.step(actions)
        info = out[-1]
        if "request_id" in info:  # autoreset rows start new episodes
            self.requests += info["request_id"][info["_request_id"]].tolist()
        return out


@pytest.mark.parametrize("split", ["request", "time"])
def test_online_evaluation_draws_only_the_splits_test_requests(tmp_path, split):
    config = tiny_config(tmp_path, split=split, mode="online")
    scenario = load_scenario(config)
    env = RecordRequests(make_vector_env(scenario, config.online, "test", num_envs=10))
    evaluate_online(RandomAgent(0), env, n_lists=60, seed=0)
    drawn = set(env.requests)
    lists = scenario.lists
    test = set(lists.request_ids[scenario.rows["test"]].tolist())
    train = set(lists.request_ids[scenario.rows["train"]].tolist())
    assert len(drawn) > 20 and drawn <= test and not drawn & train


def test_time_split_trains_on_the_earliest_requests():
    scenario = Scenario.build("synthetic-tiny", split="time")
    times = scenario.lists.timestamps
    assert times[scenario.rows["train"]].max() <= times[scenario.rows["test"]].min()
    request = Scenario.build("synthetic-tiny", split="request")
    assert not np.array_equal(request.rows["test"], scenario.rows["test"])


def test_scenario_parts_are_built_once_and_counted_on_train():
    scenario = Scenario.build("synthetic-tiny", split="time", split_seed=1)
    assert Scenario.build("synthetic-tiny", split="time", split_seed=1) is scenario
    train = scenario.splits.train
    assert scenario.catalogue.impressions.sum() == train.mask.sum()
    assert scenario.splits is scenario.splits and scenario.user_model is scenario.user_model


def test_fitted_model_cache_key_includes_the_split_kind():
    config = LogClickConfig()
    keys = {cache_path("x", "f", config, (kind, 0)) for kind in ("request", "time")}
    assert len(keys) == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"split": "random"}, "split must be one of"),
        ({"user_model": "oracle"}, "user_model must be one of"),
        ({"dataset": "ml-100k", "synthetic": object()}, "synthetic world"),
    ],
)
def test_bad_scenario_arguments_name_the_field(arguments, message):
    with pytest.raises(ValueError, match=message):
        Scenario.build(**arguments)


def test_request_rows_reject_an_unknown_split():
    with pytest.raises(ValueError, match="user_split must be one of"):
        Scenario.build("synthetic-tiny").request_rows("holdout")
