"""Plain PPO's env steps (slots) per second through ``ValidChoices``: SB3's ``DummyVecEnv`` of
single ``ValidChoices`` envs (the path ``benchmarks.plain_agents`` took before
``ValidChoicesVecEnv``) against the batched ``ValidChoicesVecEnv``, in one process.

Both paths give SB3 the same observations, rewards, dones and infos (``tests/test_sb3_vec.py``
trains PPO and DQN through both to equal weights), so the rows differ in speed only. Rows:

* ``env``: the VecEnv alone, ``VecEnv.step`` with random actions drawn before the clock.
* ``ppo``: ``PPO.learn`` with ``benchmarks.plain_agents``' settings (``MlpPolicy``,
  ``n_steps=32`` per sub-env, SB3 defaults otherwise) and each ``batch_sizes`` minibatch
  (plain_agents uses 64; a larger one is a different PPO, fewer gradient steps per slot);
  ``collect_share`` is the share of the time spent collecting rollouts (env and policy
  forward), the rest is PPO's update.

Rows are timed in turn, ``repeats`` rounds, each row reporting its median, so that load from
other processes hits every row alike.

    python -m benchmarks.ppo_throughput             # writes results/ppo_throughput/
    python -m benchmarks.ppo_throughput --smoke     # seconds, numbers meaningless
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import pandas as pd
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

from agents.baselines.ppo import ROLLOUT_STEPS
from agents.training.config import OnlineConfig
from agents.training.online import env_arguments
from benchmarks.harness.cli import Settings, parser, run_script
from benchmarks.harness.report import markdown_table
from benchmarks.harness.results import publish
from rec_env.checks import InputError, check_range
from rec_env.envs import ValidChoices
from rec_env.envs.sb3_vec import ValidChoicesVecEnv
from rec_env.scenario import Scenario

PATHS = ("dummy", "native")
"""``DummyVecEnv`` of single ``ValidChoices`` envs; the batched ``ValidChoicesVecEnv``"""


@dataclass
class Config(Settings):
    name = "ppo_throughput"

    dataset: str = "synthetic"
    """dataset whose simulator the envs run"""
    num_envs: int = 64
    """sub-envs (plain_agents: 64)"""
    batch_sizes: tuple[int, ...] = (64, 512)
    """PPO minibatch sizes, one ppo row per path each (plain_agents: 64)"""
    rollouts: int = 1
    """PPO rollouts (num_envs * 32 slots each) per timed run; the env rows time as many slots"""
    repeats: int = 15
    """timed runs per row; the table reports the median"""
    torch_threads: int = 1
    """torch intra-op threads (tiny networks gain nothing from more on a shared CPU)"""
    seed: int = 0
    """seed of the envs, the models and the random actions"""

    def __post_init__(self) -> None:
        """:raises InputError: naming the field of a wrong value."""
        super().__post_init__()
        check_range(self, ("num_envs", "rollouts", "repeats", "torch_threads"), low=1)
        if not self.batch_sizes or min(self.batch_sizes) < 2:
            raise InputError(f"Config.batch_sizes must be sizes >= 2, got {self.batch_sizes}")


SMOKE = {"num_envs": 4, "batch_sizes": (64,), "rollouts": 1, "repeats": 1}


def make_vec_env(path: str, config: Config) -> VecEnv:
    """The ``num_envs`` ``ValidChoices`` sub-envs of ``path`` (see :data:`PATHS`), seeded."""
    scenario = Scenario.build(config.dataset, "request", 0)
    arguments = env_arguments(scenario, OnlineConfig(), "train")
    if path == "native":
        envs = ValidChoicesVecEnv.make(config.num_envs, **arguments)
    else:
        make_env = lambda: ValidChoices(gym.make("ListwiseFeed-v0", **arguments))  # noqa: E731
        envs = DummyVecEnv([make_env] * config.num_envs)
    envs.seed(config.seed)
    return envs


class RolloutClock(BaseCallback):
    """Seconds spent collecting rollouts, summed over ``learn`` calls."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds, self._start = 0.0, 0.0

    def _on_rollout_start(self) -> None:
        self._start = time.perf_counter()

    def _on_rollout_end(self) -> None:
        self.seconds += time.perf_counter() - self._start

    def _on_step(self) -> bool:
        return True


def env_run(envs: VecEnv, config: Config) -> Callable[[], tuple[int, float]]:
    """One timed run of random actions: ``() -> (slots, nan)`` (no rollouts to time)."""
    steps = config.rollouts * ROLLOUT_STEPS
    rng = np.random.default_rng(config.seed)
    actions = rng.integers(0, envs.action_space.n, (steps, envs.num_envs))
    envs.reset()

    def run() -> tuple[int, float]:
        for step_actions in actions:
            envs.step(step_actions)
        return steps * envs.num_envs, np.nan

    return run


def ppo_run(envs: VecEnv, config: Config, batch_size: int) -> Callable[[], tuple[int, float]]:
    """One timed run of ``rollouts`` PPO rollouts and updates: ``() -> (slots, seconds
    collecting)``; the model learns one rollout first (warm-up)."""
    settings = {"n_steps": ROLLOUT_STEPS, "batch_size": batch_size}
    model = PPO("MlpPolicy", envs, seed=config.seed, device="cpu", **settings)
    slots = config.rollouts * ROLLOUT_STEPS * envs.num_envs
    model.learn(ROLLOUT_STEPS * envs.num_envs)
    clock = RolloutClock()

    def run() -> tuple[int, float]:
        before = clock.seconds
        model.learn(slots, callback=clock, reset_num_timesteps=False)
        return slots, clock.seconds - before

    return run


def measure(config: Config) -> pd.DataFrame:
    """One row per (path, measure, batch size): median slots/s and collect share, and the
    median over rounds of its ratio to the dummy row of the same kind and to dummy PPO at the
    first batch size (rows of one round ran back to back, under the same load)."""
    runs = []
    for path in PATHS:
        runs.append(((path, "env", 0), env_run(make_vec_env(path, config), config)))
        for batch in config.batch_sizes:
            runs.append(((path, "ppo", batch), ppo_run(make_vec_env(path, config), config, batch)))
    timings = np.zeros((config.repeats, len(runs), 2))  # [round, row, (slots/s, collect share)]
    for round_timings in timings:
        for row, (_, run) in enumerate(runs):
            start = time.perf_counter()
            slots, collecting = run()
            seconds = time.perf_counter() - start
            round_timings[row] = slots / seconds, collecting / seconds
    keys = [key for key, _ in runs]
    table = pd.DataFrame(keys, columns=["path", "measure", "batch_size"])
    table["slots_per_s"], table["collect_share"] = np.median(timings, axis=0).T
    rates = timings[..., 0]
    same_kind = [keys.index(("dummy", measure, batch)) for _, measure, batch in keys]
    table["x_dummy_same_measure"] = np.median(rates / rates[:, same_kind], axis=0)
    before = keys.index(("dummy", "ppo", config.batch_sizes[0]))
    table["x_dummy_ppo"] = np.median(rates / rates[:, [before]], axis=0)
    table["batch_size"] = table["batch_size"].astype("Int64").mask(table["measure"] == "env")
    return table


def summary_text(config: Config, table: pd.DataFrame, load: tuple[float, float]) -> str:
    """Markdown: what was timed, the machine and its load, the table."""
    shown = table.assign(slots_per_s=table["slots_per_s"].round().astype(int))
    shown["batch_size"] = ["-" if pd.isna(b) else str(b) for b in shown["batch_size"]]
    return (
        "# Plain PPO through ValidChoices: env steps (slots) per second\n\n"
        f"{config.num_envs} sub-envs of ListwiseFeed-v0 ({config.dataset}, C = "
        f"{OnlineConfig().env.num_candidates}); dummy = SB3 DummyVecEnv of single ValidChoices "
        "envs (the path plain_agents took before), native = ValidChoicesVecEnv (one batched step); both "
        "give SB3 the same observations, rewards and infos. env rows: VecEnv.step with random "
        f"actions; ppo rows: PPO.learn, MlpPolicy, n_steps {ROLLOUT_STEPS}, the given minibatch "
        "(64 = plain_agents; larger = fewer gradient steps per slot, a different PPO). "
        "collect_share: share of the time collecting rollouts (the rest is PPO's update). "
        "x_dummy_same_measure: native / dummy of the same row kind; x_dummy_ppo: against "
        f"dummy PPO with minibatch {config.batch_sizes[0]}; ratios are medians over rounds of "
        f"the ratio within a round. Median of {config.repeats} runs "
        f"of {config.rollouts} rollouts each, rows timed in turn.\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} "
        f"({config.torch_threads} thread(s)); load average (1 min) before / after: "
        f"{load[0]:.2f} / {load[1]:.2f}.\n\n" + markdown_table(shown)
    )


def main(config: Config) -> pd.DataFrame:
    torch.set_num_threads(config.torch_threads)
    load_before = os.getloadavg()[0]
    table = measure(config)
    publish(config, table, summary_text(config, table, (load_before, os.getloadavg()[0])))
    return table


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
