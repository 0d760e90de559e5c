"""`ListwiseFeedVectorEnv`: N ListwiseFeed requests per batched step (native vector env)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from rec_env.envs.build import setup_feed
from rec_env.envs.core import InfoColumn


class ListwiseFeedVectorEnv(VectorEnv):
    """``num_envs`` :class:`~rec_env.envs.ListwiseFeedEnv` requests, stepped by one batched call.

    Arguments, spaces, rewards and infos are those of ``ListwiseFeedEnv``, batched over the
    first axis (infos carry gymnasium's ``_key`` masks). ``step`` takes ``[N]`` integer
    actions (any integer dtype; a list of ints); another shape or dtype (floats, bools,
    objects, ragged lists) is a ``ValueError``, as is an action outside ``[0, C)``. A step places every sub-env's item
    with one user-model call, without a Python loop over sub-envs.

    Autoreset is gymnasium's ``NEXT_STEP`` mode: the step after a sub-env terminates or
    truncates resets it (its action is ignored, reward 0, flags False, reset info).

    Equivalence with single envs: ``reset(seed=s)`` gives sub-env ``i`` its own generator
    ``seeding.np_random(s + i)``, as :class:`gymnasium.vector.SyncVectorEnv` seeds its
    sub-envs, and each reset takes that sub-env's episode uniforms from blocks drawn from
    its own generator (:class:`~rec_env.envs.rng.EpisodeUniforms`). So sub-env ``i`` replays
    exactly the episodes of a ``ListwiseFeedEnv`` reset with seed ``s + i``, while a step
    makes no generator call at all (its click uniforms were drawn at reset).

    Observations are copies the env never writes to, so kept observations stay valid. The
    keys fixed for an episode (``user``, ``user_features``, ``candidates``) are the same arrays
    in consecutive observations until a sub-env resets (copying ``candidates [N, C]`` at
    every step cost a tenth of the step): treat observations as read-only.

    :param num_envs: N, requests stepped together.
    :param kwargs: the keyword arguments of ``ListwiseFeedEnv`` but ``render_mode``
        (``dataset``, ``slate_size``, ``num_candidates``, ...), the same defaults.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, **kwargs: Any):
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        setup = setup_feed(num_envs, **kwargs)
        self.core, self.config, self.num_envs = setup.core, setup.core.config, num_envs
        self.single_observation_space = setup.observation_space
        self.single_action_space = setup.action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.item_features, self.user_features = setup.item_features, setup.user_features
        self._all = np.arange(num_envs)
        self._autoreset = np.ones(num_envs, dtype=bool)  # before reset(): step() raises
        self._all_true = np.ones(num_envs, dtype=bool)  # copied: cheaper than np.ones

    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Reset every sub-env. ``seed``: an int (sub-env i gets ``seed + i``), one per sub-env,
        or None (keep each sub-env's generator)."""
        super().reset(seed=seed if isinstance(seed, int) else None)
        uniforms = self.core.uniforms
        for env, env_seed in enumerate(_sub_env_seeds(seed, self.num_envs)):
            if env_seed is not None or uniforms.generators[env] is None:
                uniforms.set_generator(env, seeding.np_random(env_seed)[0])
        columns = self.core.reset(self._all)
        self._autoreset[:] = False
        observation = self.core.observation()
        return observation, self._infos(observation, columns)

    def step(
        self, actions: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every sub-env; those that ended on the previous step are reset instead."""
        try:
            actions = np.asarray(actions)
        except ValueError:  # ragged nesting, e.g. [1, [2], 3]
            raise ValueError(f"actions must be {self.num_envs} integers, got {actions!r}") from None
        if actions.shape != (self.num_envs,):
            raise ValueError(f"actions must have shape ({self.num_envs},), got {actions.shape}")
        if not np.count_nonzero(self._autoreset):  # the usual step: every sub-env places an item
            result = self.core.step(self._all, actions)
            reward, terminated, truncated = result.reward, result.terminated, result.truncated
            columns = self.core.step_info(result)
        else:
            reward, terminated, truncated, columns = self._step_some(actions)
        self._autoreset = terminated | truncated
        observation = self.core.observation()
        return observation, reward, terminated, truncated, self._infos(observation, columns)

    def _step_some(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[InfoColumn]]:
        """Reset the sub-envs that ended on the previous step and step the others: ``[N]``
        rewards, terminations and truncations, and the info columns of both."""
        reward = np.zeros(self.num_envs)
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        stepping, columns = np.flatnonzero(~self._autoreset), []
        if len(stepping):  # first: a bad action raises before any sub-env is reset
            result = self.core.step(stepping, actions[stepping])
            reward[stepping] = result.reward
            terminated[stepping] = result.terminated
            truncated[stepping] = result.truncated
            columns = self.core.step_info(result)
        return (
            reward,
            terminated,
            truncated,
            self.core.reset(np.flatnonzero(self._autoreset)) + columns,
        )

    def reset_ended(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Reset now the sub-envs that ended on the last step (those the next step would
        reset), for same-step autoreset (SB3's ``VecEnv``); the next step steps every sub-env.

        :return: the observation of every sub-env, and infos whose ``_`` masks mark the reset
            sub-envs' ``request_id`` / ``user_id``.
        """
        columns = self.core.reset(np.flatnonzero(self._autoreset))
        self._autoreset[:] = False
        observation = self.core.observation()
        return observation, self._infos(observation, columns)

    def action_masks(self) -> np.ndarray:
        """``[N, C]`` bool, True where a sub-env's candidate can be placed."""
        return self.core.valid.copy()

    def _infos(self, observation: dict[str, np.ndarray], columns: list[InfoColumn]) -> dict:
        """Gymnasium's vector info layout: ``infos[key][i]`` valid where ``infos["_" + key][i]``."""
        infos: dict[str, Any] = {
            "action_mask": observation["action_mask"].view(bool),
            "_action_mask": self._all_true.copy(),
        }
        for key, rows, values in columns:
            if len(rows) == self.num_envs:  # every sub-env: the values are the entry
                infos[key], infos["_" + key] = values, self._all_true.copy()
                continue
            infos[key] = np.zeros((self.num_envs, *values.shape[1:]), dtype=values.dtype)
            infos[key][rows] = values
            infos["_" + key] = np.zeros(self.num_envs, dtype=bool)
            infos["_" + key][rows] = True
        return infos


def _sub_env_seeds(seed: int | Sequence[int | None] | None, n: int) -> list[int | None]:
    """Seeds as :class:`gymnasium.vector.SyncVectorEnv` hands them to its sub-envs."""
    if seed is None:
        return [None] * n
    if isinstance(seed, int):
        return [seed + i for i in range(n)]
    if len(seed) != n:
        raise ValueError(f"expected {n} seeds, one per sub-env, got {len(seed)}")
    return list(seed)
