"""Plain SB3 agents (no action masks) in ListwiseFeed-v0 through ``ValidChoices``, next to the
random policy and the masked agents.

Stable-Baselines3's PPO and DQN (``MlpPolicy``, SB3 defaults otherwise) train on
``ValidChoices`` (action i = the i-th still-valid candidate, standardised features) for the
env slots MaskablePPO gets in ``benchmarks.online_agents`` (``steps * num_envs``). The masked
agents (random, sb3-contrib MaskablePPO, the DDQN student) are ``agents.train`` online runs.
Every agent is scored the same way: greedily, on the same ``eval_lists`` test requests with
the same click uniforms (``agents.training.online.TEST_EVAL_SEED``).

    python -m benchmarks.plain_agents             # synthetic, 3 seeds
    python -m benchmarks.plain_agents --smoke     # a tiny synthetic world, numbers meaningless

A masked run that finished in ``runs_dir`` with a cell's very training config is scored, not
trained again (``--no-reuse`` retrains); the plain agents always train.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from stable_baselines3 import DQN, PPO

from agents.baselines.ppo import ROLLOUT_STEPS
from agents.evaluation import evaluate_online
from agents.learners.ddqn import DDQNConfig
from agents.training.config import OnlineConfig
from agents.training.online import TEST_EVAL_SEED, env_arguments, make_vector_env
from benchmarks import online_agents
from benchmarks.harness.cells import run_table
from benchmarks.harness.cli import TableSettings, parser, run_script
from benchmarks.harness.report import markdown_table, mean_std
from benchmarks.harness.results import merged, parallel_map, publish
from rec_env.checks import check_range
from rec_env.envs.sb3_vec import ValidChoicesVecEnv
from rec_env.envs.valid_choices import ChoiceLayout, chosen_candidates
from rec_env.scenario import Scenario

KEYS = ["dataset", "method", "seed"]
ONLINE = ("clicks_per_list", "clicks_per_list_ci95", "expected_clicks_per_list")
MASKED_NAMES = {"random": "random", "ppo": "maskable_ppo", "student": "ddqn_student"}
"""``agents.train`` name -> row name of the masked agents (and the random policy)."""


@dataclass
class Config(TableSettings):
    name = "plain_agents"

    datasets: tuple[str, ...] = ("synthetic",)
    """datasets whose simulators the agents train and are scored in"""
    plain: tuple[str, ...] = ("ppo", "dqn")
    """plain SB3 algorithms trained through ValidChoices"""
    masked: tuple[str, ...] = tuple(MASKED_NAMES)
    """masked agents, as agents.train names them"""
    seeds: tuple[int, ...] = (0, 1, 2)
    """training seeds (the split seed and the evaluation seeds stay fixed)"""
    steps: int = 3000
    """DDQN gradient steps; PPO, MaskablePPO and DQN get steps * num_envs env slots"""
    ppo_batch_size: int | None = None
    """plain PPO's minibatch; None: the learner's batch_size, as MaskablePPO (64)"""
    ppo_learning_rate: float = 3e-4
    """plain PPO's Adam learning rate (SB3's default, as MaskablePPO)"""
    dqn_buffer: int = 100_000
    """DQN replay capacity in transitions (SB3's default of 1M would not fit in memory)"""
    learner: DDQNConfig = field(default_factory=lambda: online_agents.Config().learner)
    """the DDQN student's learner settings (as benchmarks.online_agents)"""
    online: OnlineConfig = field(default_factory=OnlineConfig)
    """env, training and evaluation settings shared by every agent"""

    def __post_init__(self) -> None:
        """:raises InputError: naming the field of a wrong value."""
        super().__post_init__()
        if self.ppo_batch_size is not None:
            check_range(self, ("ppo_batch_size",), low=2)
        check_range(self, ("ppo_learning_rate",), low=0.0, low_open=True)

    @property
    def ppo_minibatch(self) -> int:
        """Plain PPO's minibatch size: ``ppo_batch_size``, else the learner's."""
        return self.ppo_batch_size or self.learner.batch_size


SMOKE = {k: v for k, v in online_agents.SMOKE.items() if k != "eval_every"} | {"dqn_buffer": 1_000}


class PlainAgent:
    """A model trained on ``ValidChoices`` features as a policy in the dict-observation vector
    env (:class:`~agents.policies.Policy`): encode, predict, map actions to candidates.

    :param model: an SB3 model with ``predict``.
    :param layout: the ``ValidChoices`` layout it was trained on.
    """

    def __init__(self, model, layout: ChoiceLayout):
        self.model, self.layout = model, layout

    def act(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        """``[N]`` candidate indices of the model's greedy actions."""
        features, index = self.layout.encode(observation)
        actions, _ = self.model.predict(features, deterministic=True)
        return chosen_candidates(index, actions)


def train_plain(algorithm: str, scenario: Scenario, config: Config, seed: int) -> PlainAgent:
    """Train PPO or DQN on ``num_envs`` ``ValidChoices`` envs for ``steps * num_envs`` slots
    (one batched :class:`~rec_env.envs.sb3_vec.ValidChoicesVecEnv`: SB3 learns exactly as on a
    ``DummyVecEnv`` of single ``ValidChoices`` envs, with a faster env)."""

    arguments = env_arguments(scenario, config.online, "train")
    envs = ValidChoicesVecEnv.make(config.online.num_envs, **arguments)
    envs.seed(seed)
    if algorithm == "ppo":  # by default the rollout and batch sizes of the MaskablePPO baseline
        settings = {"n_steps": ROLLOUT_STEPS, "batch_size": config.ppo_minibatch}
        settings["learning_rate"] = config.ppo_learning_rate
        model = PPO("MlpPolicy", envs, seed=seed, device="cpu", **settings)
    else:
        model = DQN("MlpPolicy", envs, buffer_size=config.dqn_buffer, seed=seed, device="cpu")
    model.learn(config.steps * config.online.num_envs)
    layout = envs.env.layout
    envs.close()
    return PlainAgent(model, layout)


def plain_row(config: Config, dataset: str, algorithm: str, seed: int) -> dict:
    """Train one plain agent and score it on the test requests, on one torch thread as the
    masked runs (``TrainConfig.threads``): the same numbers whatever ``jobs``."""
    torch.set_num_threads(1)
    online = config.online
    scenario = Scenario.build(dataset, "request", 0)  # the split of the agents.train runs
    start = time.perf_counter()
    agent = train_plain(algorithm, scenario, config, seed)
    train_s = time.perf_counter() - start
    env = make_vector_env(scenario, online, "test", online.eval_envs)
    summary = evaluate_online(agent, env, online.eval_lists, TEST_EVAL_SEED).summary()
    env.close()
    row = {"dataset": dataset, "method": f"plain_{algorithm}", "seed": seed}
    return {**row, **{name: summary[name] for name in ONLINE}, "train_s": train_s}


def masked_settings(config: Config) -> online_agents.Config:
    """The ``benchmarks.online_agents`` settings of the masked runs: this table's runs folder,
    steps, learner and env, one evaluation at the end."""
    shared = {"runs_dir": config.runs_dir, "learner": config.learner, "online": config.online}
    return replace(online_agents.Config(), steps=config.steps, eval_every=config.steps, **shared)


def masked_row(run_dir: str | Path) -> dict:
    """The row of a finished masked run (``agents.train`` online, as
    ``benchmarks.online_agents`` makes it), its method renamed by :data:`MASKED_NAMES`."""
    row = online_agents.run_row(run_dir)
    kept = {"dataset": row["dataset"], "method": MASKED_NAMES.get(row["method"], row["method"])}
    return {**kept, **{name: row[name] for name in ("seed", *ONLINE, "train_s")}}


def relative(table: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, method): mean expected clicks per list over seeds (+- std), its ratio
    to random, and the share of the random -> agent gain it reaches for each trained masked
    agent (1 = as good as that agent)."""
    stats = table.groupby(["dataset", "method"], sort=False)["expected_clicks_per_list"]
    stats = stats.agg(["mean", "std", "size"])
    rows = []
    for (dataset, method), (mean, std, size) in stats.iterrows():
        level = stats.loc[dataset, "mean"]
        row = {"dataset": dataset, "method": method, "expected_clicks": mean_std(mean, std, 3)}
        if "random" in level:
            row["x_random"] = mean / level["random"]
            for masked in ("maskable_ppo", "ddqn_student"):
                if masked in level and level[masked] != level["random"]:
                    gain = level[masked] - level["random"]
                    row[f"share_of_{masked}_gain"] = (mean - level["random"]) / gain
        rows.append({**row, "n_seeds": int(size)})
    return pd.DataFrame(rows)


def summary_text(config: Config, table: pd.DataFrame) -> str:
    return (
        "# Plain (mask-free) SB3 agents through ValidChoices vs masked agents\n\n"
        f"Every agent: {config.steps * config.online.num_envs:,} env slots "
        f"({config.online.num_envs} envs) of ListwiseFeed-v0 with C = "
        f"{config.online.env.num_candidates}; plain_ppo / plain_dqn: stable-baselines3 "
        "PPO / DQN on ValidChoices (action i = the i-th still-valid candidate, catalogue-"
        f"standardised features; PPO minibatch {config.ppo_minibatch}, learning rate "
        f"{config.ppo_learning_rate:g}); maskable_ppo: sb3-contrib MaskablePPO on FlatFeatures; "
        f"ddqn_student: the DDQN student ({config.steps} gradient steps). Scores: expected "
        f"clicks per list on {config.online.eval_lists} test requests, the same for every "
        "agent, greedy actions; mean +- std over seeds. x_random = ratio to random; "
        "share_of_X_gain = (agent - random) / (X - random).\n\n" + markdown_table(relative(table))
    )


def train_all(config: Config) -> pd.DataFrame:
    """Every (dataset, seed) group: the masked agents
    (:func:`~benchmarks.harness.cells.run_table`), then the plain ones, ``jobs`` at a time; with
    --merge after the rows of out_dir/table.csv not redone."""
    groups = [(d, s) for d in config.datasets for s in config.seeds]
    masked = [(d, a, s) for d, s in groups for a in config.masked]
    train = partial(online_agents.train_config, masked_settings(config))
    rows = run_table(config, masked, train, masked_row)
    plain = [(d, a, s) for d, s in groups for a in config.plain]
    rows += parallel_map(partial(plain_row, config), plain, config.jobs)
    rank = {group: i for i, group in enumerate(groups)}
    rows.sort(key=lambda row: rank[row["dataset"], row["seed"]])  # stable: masked, then plain
    return merged(config, pd.DataFrame(rows), KEYS, method_names(Config()))


def method_names(config: Config) -> list[str]:
    """The row names of the masked agents, then of the plain ones."""
    return [MASKED_NAMES.get(a, a) for a in config.masked] + [f"plain_{a}" for a in config.plain]


def main(config: Config) -> pd.DataFrame:
    table = train_all(config)
    publish(config, table, summary_text(config, table))
    return table


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
