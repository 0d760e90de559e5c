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
from agents.policies import Policy


@dataclass(frozen=True)
class OnlineEvaluation:
    """Per-list results of one online evaluation.

    Two evaluations with the same env settings, ``num_envs`` and seed score the same lists in
    the same order, so ``mean_normal_ci95(a.expected_clicks - b.expected_clicks)`` is a paired test.

    :param clicks: ``[n]`` sampled clicks of each list.
    :param expected_clicks: ``[n]`` sum of the click probabilities of each list's items.
    :param slate_size: K, slots per list.
    """

    clicks: np.ndarray
    expected_clicks: np.ndarray
    slate_size: int

    def summary(self) -> dict:
        """``clicks_per_list`` and ``expected_clicks_per_list`` with their 95% CI half-widths
        (``*_ci95``), ``ctr`` (clicks per slot) and ``n_lists``."""
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
    """Fill ``n_lists`` lists with ``policy`` (rounds of one list per sub-env).

    :param env: a ``ListwiseFeed-v0`` vector env with ``invalid_action="raise"``.
    :param n_lists: lists scored: the first ``n_lists`` of ``ceil(n_lists / N)`` rounds.
    :param seed: ``env.reset(seed=seed)`` before the first round (sub-env i gets seed + i).
    """
    if n_lists < 1:
        raise ValueError(f"n_lists must be >= 1, got {n_lists}")
    n_envs = env.num_envs
    slate_size = env.single_observation_space["slate_items"].shape[0]
    clicks, expected = [], []
    for round_index in range(-(-n_lists // n_envs)):
        observation, _ = env.reset(seed=seed if round_index == 0 else None)
        list_clicks, list_expected = np.zeros(n_envs), np.zeros(n_envs)
        for _ in range(slate_size):
            observation, _, terminated, _, info = env.step(policy.act(observation))
            list_clicks += info["click"]
            list_expected += info["click_proba"]
        if not terminated.all():
            raise RuntimeError(f"episodes did not end after {slate_size} slots")
        clicks.append(list_clicks)
        expected.append(list_expected)
    return OnlineEvaluation(
        np.concatenate(clicks)[:n_lists], np.concatenate(expected)[:n_lists], slate_size
    )
