"""Online mode: batches from a replay filled by epsilon-greedy play in the ``ListwiseFeed-v0``
vector env, evaluation on validation requests.

:class:`EnvTransitions` is the loop's sampler. It plays in rounds: a round resets every
sub-env (seeds drawn from the run seed and the round index) and fills one list per sub-env,
slot by slot::

    until every sub-env's list has ended (K slots, or fewer where the user left):
        act epsilon-greedily on Q over the valid candidates      (agents.policies)
        step the vector env; finished lists go to the replay     (agents.data.replay)
        once the replay holds learning_starts lists:
            hand the loop a batch of lists sampled from it       (one update per env step)

A sub-env whose user left early autoresets on its next step (dropped by the collector) and
plays on: a list it finishes before the round ends is stored too, a partial one is dropped
at the next round's reset. Without exits every round is exactly K steps.

Rounds make resume exact: the loop checkpoints only between rounds, where the sampler's
state is the replay, its generator and the round index (the next round's env seeds follow
from the index).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields

import gymnasium as gym
import numpy as np
import torch

from agents.data.batch import TDBatch
from agents.data.replay import EpisodeCollector, EpisodeReplay
from agents.evaluation import OnlineEvaluation, evaluate_online
from agents.policies import Policy, epsilon_greedy, valid_mask
from agents.training.config import OnlineConfig, Run
from agents.training.hooks import Evaluate, side_evaluations
from agents.training.loop import Hook
from rec_env.scenario import Scenario

VALID_EVAL_SEED = 1_000_000
"""Seed of the periodic evaluations on validation requests (the same lists every time)."""
TEST_EVAL_SEED = 2_000_000
"""Seed of the final evaluation on test requests (the same lists for every agent)."""
VALID_METRICS = ("clicks_per_list", "expected_clicks_per_list")


def env_arguments(scenario: Scenario, online: OnlineConfig, user_split: str) -> dict:
    """``ListwiseFeed-v0`` keyword arguments: the scenario, ``online.env``'s settings and
    requests from the scenario's ``user_split``."""
    settings = {field.name: getattr(online.env, field.name) for field in fields(online.env)}
    return {**settings, "scenario": scenario, "user_split": user_split}


def make_vector_env(
    scenario: Scenario, online: OnlineConfig, user_split: str, num_envs: int
) -> gym.vector.VectorEnv:
    """A ``ListwiseFeed-v0`` vector env on the scenario, requests from its ``user_split``."""
    return gym.make_vec(
        "ListwiseFeed-v0",
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        **env_arguments(scenario, online, user_split),
    )


def evaluate_in_env(run: Run, agent: Policy, user_split: str, seed: int) -> OnlineEvaluation:
    """:func:`evaluate_online` of ``agent`` on ``eval_lists`` lists of ``user_split`` requests."""
    online = run.config.online
    env = make_vector_env(run.scenario, online, user_split, online.eval_envs)
    try:
        return evaluate_online(agent, env, online.eval_lists, seed)
    finally:
        env.close()


def round_seeds(seed: int, round_index: int, n_envs: int) -> list[int]:
    """Sub-env seeds of a training round: a function of the run seed and the round only."""
    return np.random.SeedSequence([seed, round_index]).generate_state(n_envs).tolist()


class EnvTransitions:
    """The online sampler: plays ``policy`` epsilon-greedily, returns replay batches.

    :param run: the run (scenario, seed, online settings).
    :param policy: the greedy policy (the served network of the trainable, acting as it learns).
    :param generator: the run's generator (exploration and replay draws).
    """

    def __init__(self, run: Run, policy: Policy, generator: torch.Generator) -> None:
        self.online, self.seed, self.policy = run.config.online, run.config.seed, policy
        self.generator = generator
        self.env = make_vector_env(run.scenario, self.online, "train", self.online.num_envs)
        self.slate_size = self.env.single_observation_space["slate_items"].shape[0]
        n_candidates = self.env.single_action_space.n
        self.replay = EpisodeReplay(self.online.buffer_lists, self.slate_size, n_candidates)
        self.collector = EpisodeCollector(self.online.num_envs, self.slate_size)
        self.round, self.slot, self.updates = 0, 0, 0
        self.observation: dict | None = None
        self.epsilon = self.online.exploration_start
        self.finished_clicks: list[np.ndarray] = []

    def sample(self, batch_size: int) -> TDBatch:
        """Play slots until the replay is ready; return one batch sampled from it."""
        while True:
            self.play_slot()
            if len(self.replay) >= self.online.learning_starts:
                self.updates += 1
                return self.replay.sample(batch_size, self.generator)

    def play_slot(self) -> None:
        """One epsilon-greedy env step of every sub-env (a new round starts at slot 0; it ends
        once every sub-env's first list has ended)."""
        if self.slot == 0:
            seeds = round_seeds(self.seed, self.round, self.online.num_envs)
            self.observation, _ = self.env.reset(seed=seeds)
            self.collector.start()
        observation = self.observation
        self.epsilon = self.online.epsilon(self.updates)
        valid = valid_mask(observation)
        greedy = self.policy.act(observation)
        actions = epsilon_greedy(greedy, valid, self.epsilon, self.generator)
        next_observation, rewards, terminated, truncated, _ = self.env.step(actions)
        episodes = self.collector.step(
            observation, actions, rewards, terminated, truncated, next_observation
        )
        self.replay.add(episodes)
        if len(episodes):
            self.finished_clicks.append(episodes.clicks.sum(1))
        self.observation = next_observation
        self.slot += 1
        if self.collector.ended.all():
            self.slot, self.round = 0, self.round + 1

    def at_boundary(self) -> bool:
        """Between rounds."""
        return self.slot == 0

    def scalars(self) -> dict[str, float]:
        """``charts/epsilon`` and the clicks per list of the lists finished since last call."""
        charts = {"charts/epsilon": self.epsilon}
        if self.finished_clicks:
            charts["charts/clicks_per_list"] = float(self._finished_clicks().mean())
            self.finished_clicks = []
        return charts

    def state_dict(self) -> dict:
        if not self.at_boundary():
            raise RuntimeError("the online sampler checkpoints only between rounds")
        return {
            "replay": self.replay.state_dict(),
            "generator": self.generator.get_state(),
            "round": self.round,
            "updates": self.updates,
            "finished_clicks": torch.from_numpy(self._finished_clicks()),  # not yet logged
        }

    def load_state_dict(self, state: dict) -> None:
        self.replay.load_state_dict(state["replay"])
        self.generator.set_state(state["generator"])
        self.round, self.updates = int(state["round"]), int(state["updates"])
        clicks = state["finished_clicks"].numpy()
        self.finished_clicks = [clicks] if len(clicks) else []

    def _finished_clicks(self) -> np.ndarray:
        """``[L]`` clicks of each list finished since the last :meth:`scalars` call."""
        return np.concatenate(self.finished_clicks) if self.finished_clicks else np.zeros(0)

    def close(self) -> None:
        self.env.close()


def online_hooks(run: Run, agent: Policy, sides: dict[str, Policy] | None = None) -> list[Hook]:
    """Clicks per list on validation requests every ``eval_every`` updates (no selection);
    none with ``eval_lists=0``.

    :param sides: other networks' policies by name (a distillation run's teacher), evaluated
        on the same requests and logged as ``eval/<name>_valid_<metric>``.
    """
    online = run.config.online
    if online.eval_lists == 0:
        return []
    valid_env = make_vector_env(run.scenario, online, "valid", online.eval_envs)

    def evaluator(policy: Policy) -> Callable[[], dict[str, float]]:
        def evaluate() -> dict[str, float]:
            evaluation = evaluate_online(policy, valid_env, online.eval_lists, VALID_EVAL_SEED)
            summary = evaluation.summary()
            return {name: summary[name] for name in VALID_METRICS}

        return evaluate

    every = run.config.eval_every
    evaluators = {name: evaluator(side) for name, side in (sides or {}).items()}
    side_hooks = side_evaluations(evaluators, run.logger, every)
    return [Evaluate(evaluator(agent), run.logger, every), *side_hooks, CloseAtEnd(valid_env)]


class CloseAtEnd(Hook):
    """Closes an env (the validation env) once training ends."""

    name = "close_valid_env"

    def __init__(self, env: gym.vector.VectorEnv) -> None:
        self.env = env

    def at_end(self) -> None:
        self.env.close()
