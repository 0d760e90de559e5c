"""The MaskablePPO baseline (sb3-contrib) on :class:`~rec_env.envs.FlatFeatures` observations.

PPO trains on ``num_envs`` single ``ListwiseFeed-v0`` envs behind SB3's ``DummyVecEnv``, for
as many env slots as DDQN gets (``steps * num_envs``), with sb3-contrib's defaults otherwise
(gamma 0.99: the objective is the list's clicks, nearly undiscounted). It acts in the
vector env through :class:`MaskablePPOAgent`, which flattens a batched observation the way
``FlatFeatures`` flattens one. Needs the ``sb3`` extra: ``pip install -e '.[sb3]'``.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

from agents.policies import Observation, valid_mask
from agents.training.config import Run
from agents.training.online import env_arguments
from rec_env.envs import FlatFeatures, flat_features
from rec_env.files import atomic_write

try:
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import DummyVecEnv
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError("the ppo agent needs sb3-contrib: pip install -e '.[sb3]'") from error

MODEL_NAME = "ppo_model.zip"
ROLLOUT_STEPS = 32
"""env steps per sub-env between PPO updates (rollouts of ``32 * num_envs`` slots)"""


class MaskablePPOAgent:
    """A trained MaskablePPO model as a :class:`~agents.policies.Policy` in the vector env.

    :param model: the model, trained on ``FlatFeatures`` observations of the same dataset.
    :param item_features: ``[n_items, F_i]`` the env's item feature table.
    """

    def __init__(self, model: MaskablePPO, item_features: np.ndarray) -> None:
        self.model, self.item_features = model, item_features

    def act(self, observation: Observation) -> np.ndarray:
        """``[N]`` the most likely valid action of the policy (deterministic)."""
        features = flat_features(observation, self.item_features)
        actions, _ = self.model.predict(
            features, action_masks=valid_mask(observation), deterministic=True
        )
        return np.asarray(actions, dtype=np.int64)


class ProgressBar(BaseCallback):
    """A tqdm bar over PPO's env steps (SB3's own bar needs ``rich``)."""

    def __init__(self, total: int, desc: str) -> None:
        super().__init__()
        self.total, self.desc = total, desc

    def _on_training_start(self) -> None:
        self.bar = tqdm(total=self.total, desc=self.desc)

    def _on_step(self) -> bool:
        self.bar.update(self.training_env.num_envs)
        return True

    def _on_training_end(self) -> None:
        self.bar.close()


def save_model(model: MaskablePPO, path: Path) -> Path:
    """``model.save`` through :func:`~rec_env.files.atomic_write` (no partial file, ever)."""
    with atomic_write(path) as tmp:
        model.save(tmp)
    return path


def train_ppo(run: Run) -> MaskablePPOAgent:
    """Train MaskablePPO for ``steps * num_envs`` env steps; save it as ``ppo_model.zip``."""
    config, online = run.config, run.config.online

    def make_env() -> gym.Env:
        env = gym.make("ListwiseFeed-v0", **env_arguments(run.scenario, online, "train"))
        return FlatFeatures(env)

    envs = DummyVecEnv([make_env] * online.num_envs)
    envs.seed(config.seed)
    model = MaskablePPO(
        "MlpPolicy",
        envs,
        n_steps=ROLLOUT_STEPS,
        batch_size=config.learner.batch_size,
        seed=config.seed,
        device="cpu",
    )
    timesteps = config.steps * online.num_envs
    model.learn(timesteps, callback=ProgressBar(timesteps, f"{config.agent} online"))
    save_model(model, run.dir / MODEL_NAME)
    item_features = envs.envs[0].unwrapped.item_features
    envs.close()
    return MaskablePPOAgent(model, item_features)
