"""Online evaluation: clicks per list of a policy in a ``ListwiseFeed-v0`` vector env.

Every episode's randomness (request, candidates, click uniforms) is drawn at its reset from
its sub-env's own generator, never from the actions. So with the same env settings,
``num_envs`` and ``seed``, every policy is scored on the same requests with the same click
uniforms (common random numbers): differences between policies are not sampling noise of
the requests.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from agents.metrics import mean_normal_ci95
from agents.policies import Policy, observation_rows


@dataclass(frozen=True)
class OnlineEvaluation:
    """Per-list results of one online evaluation.

    Two evaluations with the same env settings, ``num_envs`` and seed score the same lists in
    the same order, so ``mean_normal_ci95(a.expected_clicks - b.expected_clicks)`` is a paired test.

    :param clicks: ``[n]`` sampled clicks of each list.
    :param expected_clicks: ``[n]`` sum of the click probabilities of each list's items.
    :param slate_size: K, slots of a full list (a user who leaves early sees fewer).
    """

    clicks: np.ndarray
    expected_clicks: np.ndarray
    slate_size: int

    def summary(self) -> dict:
        """``clicks_per_list`` and ``expected_clicks_per_list`` with their 95% CI half-widths
        (``*_ci95``), ``ctr`` (clicks per list / K: per slot of a full list) and ``n_lists``."""
        mean, ci = mean_normal_ci95(self.clicks)
        expected_mean, expected_ci = mean_normal_ci95(self.expected_clicks)
        return {
            "clicks_per_list": mean,
            "clicks_per_list_ci95": ci,
            "expected_clicks_per_list": expected_mean,
            "expected_clicks_per_list_ci95": expected_ci,
            "ctr": mean / self.slate_size,
            "n_lists": len(self.clicks),
        }


def evaluate_online(
    policy: Policy, env: gym.vector.VectorEnv, n_lists: int, seed: int
) -> OnlineEvaluation:
    """Fill ``n_lists`` lists with ``policy``: sub-env i scores the first ``ceil(n_lists / N)``
    episodes of its stream, back to back.

    A list counts the slots of its own episode only: it ends at the K-th slot or where the user
    left (``terminated``), and the next step, the sub-env's autoreset (its action ignored),
    starts its next episode. Each stream's j-th episode is the same whatever the policy did
    before, so every policy gets the same lists even when users leave early. The policy acts
    only on the sub-envs that place an item. On worlds without exits every sub-env ends at
    slot K, so rounds of K steps are the same as resetting every sub-env between them.

    :param env: a ``ListwiseFeed-v0`` vector env with ``invalid_action="raise"`` (NEXT_STEP).
    :param n_lists: lists scored, ordered by episode then sub-env (round j = every sub-env's
        j-th list); the first ``n_lists`` are kept.
    :param seed: ``env.reset(seed=seed)`` first (sub-env i gets seed + i).
    :raises RuntimeError: if an episode lasts more than K steps.
    """
    if n_lists < 1:
        raise ValueError(f"n_lists must be >= 1, got {n_lists}")
    n_envs = env.num_envs
    slate_size = env.single_observation_space["slate_items"].shape[0]
    rounds = -(-n_lists // n_envs)
    clicks, expected = np.zeros((rounds, n_envs)), np.zeros((rounds, n_envs))
    episode = np.zeros(n_envs, dtype=np.int64)  # index of each sub-env's current episode
    slots = np.zeros(n_envs, dtype=np.int64)  # steps of each sub-env's current episode
    resetting = np.zeros(n_envs, dtype=bool)  # ended on the last step: the next one resets it
    observation, _ = env.reset(seed=seed)
    while (episode < rounds).any():
        placing = np.flatnonzero(~resetting)
        actions = np.zeros(n_envs, dtype=np.int64)  # ignored where resetting
        if len(placing):
            actions[placing] = policy.act(observation_rows(observation, placing, n_envs))
        observation, _, terminated, truncated, info = env.step(actions)
        scored = placing[episode[placing] < rounds]
        if len(scored):
            clicks[episode[scored], scored] += info["click"][scored]
            expected[episode[scored], scored] += info["click_proba"][scored]
        resetting = terminated | truncated
        slots[placing] += 1
        if (slots[~resetting] >= slate_size).any():
            raise RuntimeError(f"episodes did not end after {slate_size} slots")
        slots[resetting], episode = 0, episode + resetting
    return OnlineEvaluation(clicks.ravel()[:n_lists], expected.ravel()[:n_lists], slate_size)
