"""The planner on a synthetic world's true model as a policy in ``ListwiseFeed-v0``: a request's
list is planned at its first slot (:func:`~rec_env.simulator.planner.plan`: beam search over
the exact expected clicks, then local search) and served as planned, slot by slot, whatever
the user clicks (open loop). :func:`evaluate_planner` scores it on the test requests every
online agent is scored on.
"""

from __future__ import annotations

import numpy as np

from agents.evaluation import evaluate_online
from agents.policies import Observation, valid_mask
from agents.training.online import TEST_EVAL_SEED, make_vector_env
from rec_env.data.synthetic_dynamics import TrueClickModel
from rec_env.scenario import Scenario
from rec_env.simulator.click_paths import Lists, PathModel, start_lists
from rec_env.simulator.planner import PlannerConfig, plan


class OpenLoopPlanner:
    """Plays the planner's list of each request (a :class:`~agents.policies.Policy`).

    The plan is a function of the request alone (user, candidates, candidates valid at slot
    0), so it is made once, at the request's first slot, and looked up at the next slots
    (the plans of the last call's rows are kept; a row not among them is planned again from
    its request, with the same result).

    :param model: the world's true click model (the env's ``scenario.user_model``).
    :param config: the planner's beam and local search.
    """

    def __init__(self, model: TrueClickModel, config: PlannerConfig) -> None:
        self.model, self.paths, self.config = model, PathModel.of(model), config
        self.keys = np.zeros((0, 0), dtype=np.int64)  # [M, 1 + 2C] requests of the plans
        self.plans = np.zeros((0, model.slate_size), dtype=np.int64)  # [M, K] candidate indices

    def act(self, observation: Observation) -> np.ndarray:
        """``[N]`` the candidate each row's plan puts at its current slot.

        :raises ValueError: the planned candidate was placed already (the list was not
            served by this planner from its first slot).
        """
        keys = request_keys(observation)
        found = matching_rows(self.keys, keys)
        plans = np.zeros((len(keys), self.model.slate_size), dtype=np.int64)
        plans[found >= 0] = self.plans[found[found >= 0]]
        new = np.flatnonzero(found < 0)
        if len(new):
            plans[new] = self.plan(observation, keys[new])
        self.keys, self.plans = keys, plans
        rows = np.arange(len(keys))
        actions = plans[rows, np.asarray(observation["position"], dtype=np.int64)]
        if not valid_mask(observation)[rows, actions].all():
            raise ValueError("OpenLoopPlanner serves only lists it planned from their first slot")
        return actions

    def plan(self, observation: Observation, keys: np.ndarray) -> np.ndarray:
        """``[n, K]`` the planned lists of requests ``keys [n, 1 + 2C]`` (:func:`request_keys`)."""
        c = observation["candidates"].shape[1]
        lists = start_lists(self.model, keys[:, 0], keys[:, 1 : 1 + c])
        lists = Lists(lists.base, lists.shown, keys[:, 1 + c :] == 0, lists.gram, 0)
        return plan(self.paths, lists, self.model.slate_size, self.config)


def request_keys(observation: Observation) -> np.ndarray:
    """``[N, 1 + 2C]`` int64: each row's user, candidates and candidates valid at slot 0 (valid
    now or placed in the list so far): what its plan depends on."""
    candidates = np.asarray(observation["candidates"], dtype=np.int64)
    items, position = observation["slate_items"], np.asarray(observation["position"])
    shown = np.arange(items.shape[1])[None, :] < position[:, None]  # [N, K]
    placed = ((candidates[:, :, None] == items[:, None, :]) & shown[:, None, :]).any(2)
    valid_at_start = valid_mask(observation) | placed
    user = np.asarray(observation["user"], dtype=np.int64)[:, None]
    return np.concatenate([user, candidates, valid_at_start.astype(np.int64)], axis=1)


def matching_rows(known: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``[N]`` the index of a row of ``known [M, D]`` equal to each row of ``keys [N, D]``, -1
    where none is."""
    if known.shape[1:] != keys.shape[1:] or not len(known):
        return np.full(len(keys), -1)
    rows = np.ascontiguousarray(np.concatenate([known, keys]))
    row_bytes = rows.view(np.dtype((np.void, rows.itemsize * rows.shape[1])))[:, 0]
    ids = np.unique(row_bytes, return_inverse=True)[1].ravel()
    first = np.full(ids.max() + 1, -1)
    first[ids[: len(known)][::-1]] = np.arange(len(known))[::-1]
    return first[ids[len(known) :]]


def evaluate_planner(scenario: Scenario, online, config: PlannerConfig) -> dict:
    """The planner's online summary (:meth:`~agents.evaluation.OnlineEvaluation.summary`) on
    ``online.eval_lists`` test requests, the requests and click uniforms of every online
    run's final evaluation (``online``: the runs' :class:`~agents.training.config.OnlineConfig`)."""
    env = make_vector_env(scenario, online, "test", online.eval_envs)
    try:
        policy = OpenLoopPlanner(scenario.user_model, config)
        return evaluate_online(policy, env, online.eval_lists, TEST_EVAL_SEED).summary()
    finally:
        env.close()
