"""`ValidChoicesVecEnv`: the native vector env behind ``ValidChoices``, as an SB3 ``VecEnv``.

Stable-Baselines3 steps a ``DummyVecEnv`` of N single ``ValidChoices`` envs one sub-env at a
time (N Python env steps, then a deep copy of N info dicts); this adapter steps all N with one
batched call of :class:`~rec_env.envs.ValidChoicesVector` over the native
``ListwiseFeedVectorEnv``. The agent sees the same observations, rewards, dones and infos as
through ``DummyVecEnv([lambda: ValidChoices(gym.make(...))] * N)`` seeded alike (sub-env
``i`` gets seed ``s + i`` in both): same features, action ``i`` = the ``i``-th valid
candidate.

SB3 resets a finished sub-env within the step that ends it (the returned observation is the
next episode's first; the last one is ``info["terminal_observation"]``); the native env
resets on the step after (gymnasium's next-step mode), so the adapter resets the sub-envs
that ended at once (``ListwiseFeedVectorEnv.reset_ended``), each from its own generator as
its single env's ``reset()`` does.

Needs the ``sb3`` extra: ``pip install -e '.[sb3]'``.

>>> from stable_baselines3 import PPO
>>> from rec_env.envs.sb3_vec import ValidChoicesVecEnv
>>> envs = ValidChoicesVecEnv.make(8, num_candidates=20)  # ListwiseFeed-v0's arguments
>>> model = PPO("MlpPolicy", envs, n_steps=16, batch_size=64, seed=0, device="cpu")
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from rec_env.envs.valid_choices import ValidChoicesVector

try:
    from stable_baselines3.common.vec_env import VecEnv
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "ValidChoicesVecEnv needs stable-baselines3: pip install -e '.[sb3]'"
    ) from error


class ValidChoicesVecEnv(VecEnv):
    """N ``ValidChoices`` envs in one SB3 ``VecEnv``, stepped by one batched call.

    ``step`` takes ``[N]`` action indices and returns ``[N, D]`` float32 features, ``[N]``
    float32 rewards, ``[N]`` bool dones and N info dicts (the single env's keys, plus
    ``"TimeLimit.truncated"`` and, where done, ``"terminal_observation"``). ``seed(s)``
    seeds sub-env ``i`` with ``s + i`` at the next ``reset()``, as ``DummyVecEnv`` does.

    :param env: a :class:`~rec_env.envs.ValidChoicesVector` over the native vector env.
    :raises TypeError: ``env`` is no ``ValidChoicesVector``.
    """

    def __init__(self, env: ValidChoicesVector):
        if not isinstance(env, ValidChoicesVector):
            raise TypeError(
                "ValidChoicesVecEnv wraps a ValidChoicesVector (or use "
                f"ValidChoicesVecEnv.make(num_envs, **env_kwargs)), got {env!r}"
            )
        self.env = env
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)
        self._actions = np.zeros(env.num_envs, dtype=np.int64)

    @classmethod
    def make(cls, num_envs: int, **env_kwargs: Any) -> ValidChoicesVecEnv:
        """``num_envs`` sub-envs of ``ListwiseFeed-v0`` with ``env_kwargs`` (its arguments)."""
        native = gym.make_vec(
            "ListwiseFeed-v0",
            num_envs=num_envs,
            vectorization_mode="vector_entry_point",
            **env_kwargs,
        )
        return cls(ValidChoicesVector(native))

    def reset(self) -> np.ndarray:
        """``[N, D]`` first features of every sub-env (seeded by the last ``seed()``, once)."""
        seeds = None if all(seed is None for seed in self._seeds) else list(self._seeds)
        observation, info = self.env.reset(seed=seeds)
        self.reset_infos = split_infos(info, self.num_envs)
        self._reset_seeds()
        return observation

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """Step every sub-env, and reset those that ended in the same call (SB3's convention)."""
        observation, reward, terminated, truncated, info = self.env.step(self._actions)
        dones = terminated | truncated
        info["TimeLimit.truncated"] = truncated & ~terminated
        info["_TimeLimit.truncated"] = np.ones_like(dones)
        if np.count_nonzero(dones):
            info["terminal_observation"], info["_terminal_observation"] = observation, dones
            observation, reset_info = self.env.reset_ended()
            reset_infos = split_infos(reset_info, self.num_envs)
            for row in np.flatnonzero(dones).tolist():
                self.reset_infos[row] = reset_infos[row]
        return observation, reward.astype(np.float32), dones, split_infos(info, self.num_envs)

    def close(self) -> None:
        self.env.close()

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        """The vector env's attribute (shared by every sub-env), once per index."""
        value = getattr(self.env, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        """Refused: the sub-envs are rows of one vector env, with no attributes of their own.

        :raises AttributeError: always.
        """
        raise AttributeError(
            f"cannot set {attr_name!r} per sub-env: ValidChoicesVecEnv's sub-envs are rows of "
            "one native vector env; set it on .env"
        )

    def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs) -> list:
        """Refused: the sub-envs are rows of one vector env, with no methods of their own.

        :raises AttributeError: always.
        """
        raise AttributeError(
            f"cannot call {method_name!r} per sub-env: ValidChoicesVecEnv's sub-envs are rows "
            "of one native vector env; call it on .env"
        )

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: Any = None) -> list[bool]:
        """False for every index: no sub-env is a gymnasium env of its own to be wrapped."""
        return [False for _ in self._get_indices(indices)]


def split_infos(info: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """Gymnasium's vector infos (``info[key][i]`` valid where ``info["_" + key][i]``) as n
    per-sub-env dicts, as single envs return them (SB3's layout): per-sub-env scalars as
    Python numbers, as a single env gives them, arrays as rows."""
    keys = [key for key in info if not key.startswith("_")]
    masks = {key: np.asarray(info["_" + key]).tolist() for key in keys}
    values = {key: info[key].tolist() if info[key].ndim == 1 else info[key] for key in keys}
    return [{key: values[key][row] for key in keys if masks[key][row]} for row in range(n)]
