"""Online agents table: clicks per list in ListwiseFeed-v0 of every agent, per dataset and seed.

Each cell is one ``agents.train --mode online`` run (its folder under ``runs_dir``): DDQN
teacher and student trained in the env, MaskablePPO on the same number of env slots, and the
untrained popularity, random and oracle agents. Every agent is scored on the same 1,000 test
requests with the same click uniforms (fixed evaluation seeds), greedily.

    python -m benchmarks.online_agents                       # synthetic + ml-100k, 3 seeds
    python -m benchmarks.online_agents --datasets ml-100k --merge   # add / redo one dataset
    python -m benchmarks.online_agents --smoke               # a tiny synthetic world, seconds

A run that finished in ``runs_dir`` with a cell's very training config is scored, not trained
again, so a stopped table resumes (``--no-reuse`` retrains).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd

from agents.learners.ddqn import DDQNConfig
from agents.training.config import OnlineConfig, TrainConfig, load_config
from agents.training.runner import read_metrics
from benchmarks.harness.cells import run_table
from benchmarks.harness.cli import TableSettings, parser, run_script
from benchmarks.harness.report import CURVES, curves, markdown_table, plot_curves, spread
from benchmarks.harness.results import merged, publish
from rec_env.checks import check_range
from rec_env.data import PUBLIC_WITH_AUC
from rec_env.envs import FeedConfig

KEYS = ["dataset", "method", "seed"]
ONLINE = ("clicks_per_list", "clicks_per_list_ci95", "expected_clicks_per_list", "ctr")
OFFLINE = ("auc", "gauc", "ndcg_at_10")


@dataclass
class Config(TableSettings):
    name = "online_agents"

    datasets: tuple[str, ...] = ("synthetic", *PUBLIC_WITH_AUC)
    """datasets whose simulators the agents train and are scored in"""
    agents: tuple[str, ...] = (
        "random", "popularity", "mf", "oracle", "ppo", "student", "teacher"
    )  # fmt: skip
    """agents, as agents.train names them"""
    seeds: tuple[int, ...] = (0, 1, 2)
    """training seeds (the split seed and the evaluation seeds stay fixed)"""
    steps: int = 3000
    """DDQN gradient steps (PPO gets the same env slots: steps * num_envs)"""
    eval_every: int = 250
    """steps between evaluations on validation requests (the curves)"""
    learner: DDQNConfig = field(
        default_factory=lambda: DDQNConfig(
            learning_rate=1e-3, factor_learning_rate=3e-4, batch_size=64
        )
    )
    """learner settings of the DDQN agents (online, MF tables faster than 3e-4 did worse on
    validation requests: 1.87 expected clicks at 1e-3 and 3e-3 vs 1.96, synthetic, seed 0)"""
    online: OnlineConfig = field(default_factory=OnlineConfig)
    """online training and evaluation settings"""

    def __post_init__(self) -> None:
        """:raises InputError: naming a count below 1."""
        super().__post_init__()
        check_range(self, ("steps", "eval_every"), low=1)


SMOKE = {
    "datasets": ("synthetic-tiny",),
    "seeds": (0,),
    "steps": 20,
    "eval_every": 10,
    "jobs": 1,
    "reuse": False,
    "learner": DDQNConfig(batch_size=8),
    "online": OnlineConfig(
        num_envs=4,
        learning_starts=8,
        eval_lists=20,
        eval_envs=10,
        env=FeedConfig(num_candidates=20, invalid_action="raise"),
    ),
}


def train_config(config: Config, dataset: str, agent: str, seed: int) -> TrainConfig:
    return TrainConfig(
        agent=agent,
        dataset=dataset,
        mode="online",
        seed=seed,
        steps=config.steps,
        out=config.runs_dir,
        eval_every=config.eval_every,
        checkpoint_every=config.steps,
        learner=config.learner,
        online=config.online,
    )


def run_row(run_dir: str | Path) -> dict:
    """The table row of a finished run: its config and ``metrics.json`` (no offline test
    scores: NaN)."""
    train, metrics = load_config(run_dir), read_metrics(run_dir)
    offline = metrics.get("test", {})
    return {
        "dataset": train.dataset,
        "method": train.agent,
        "seed": train.seed,
        **{name: metrics["online"][name] for name in ONLINE},
        **{f"test_{name}": offline.get(name, float("nan")) for name in OFFLINE},
        "params": metrics.get("params", 0),
        "train_s": metrics["run_seconds"],
        "run_dir": str(run_dir),
    }


def train_all(config: Config) -> pd.DataFrame:
    """Every (dataset, seed, agent) cell (:func:`~benchmarks.harness.cells.run_table`), with
    --merge after the rows of out_dir/table.csv not redone."""
    cells = [(d, a, s) for d in config.datasets for s in config.seeds for a in config.agents]
    table = pd.DataFrame(run_table(config, cells, partial(train_config, config), run_row))
    return merged(config, table, KEYS, order=list(Config().agents))


def aggregate(table: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, method): mean +- std over seeds, and the mean evaluation CI half-width."""
    groups = table.groupby(["dataset", "method"], sort=False)
    out = groups[["clicks_per_list", "expected_clicks_per_list"]].agg(spread, digits=3)
    out["eval_ci95"] = groups["clicks_per_list_ci95"].mean().map("{:.3f}".format)
    out["test_auc"] = groups["test_auc"].mean().map("{:.3f}".format)
    out["train_s"] = groups["train_s"].mean().map("{:.0f}".format)
    out["n_seeds"] = groups.size()
    return out.reset_index()


def ordering_checks(table: pd.DataFrame) -> str:
    """Whether trained DDQN > popularity > random in expected clicks per list (seed means)."""
    means = table.groupby(["dataset", "method"])["expected_clicks_per_list"].mean()
    lines = []
    for dataset in table["dataset"].unique():
        m = means[dataset]
        if not {"teacher", "popularity", "random"} <= set(m.index):
            continue
        for agent in ("teacher", "student"):
            if agent in m.index:
                holds = m[agent] > m["popularity"] > m["random"]
                lines.append(
                    f"- {dataset}: {agent} {m[agent]:.3f} > popularity {m['popularity']:.3f} > "
                    f"random {m['random']:.3f}: {'holds' if holds else 'does NOT hold'}"
                )
                if "mf" in m.index:
                    beats = "beats" if m[agent] > m["mf"] else "does NOT beat"
                    lines.append(f"- {dataset}: {agent} {beats} mf ({m['mf']:.3f})")
    return "\n".join(lines) + "\n"


def plot_validation_curves(table: pd.DataFrame, path: Path) -> Path:
    """Validation curves of the DDQN agents (mean over seeds, min-max band), the other agents'
    test levels dashed."""
    trained = table["method"].isin(["teacher", "student"])
    tag, label = CURVES["clicks"]
    levels = table[~trained].groupby(["dataset", "method"], sort=False)
    levels = levels["expected_clicks_per_list"].mean().rename("value").reset_index()
    return plot_curves(curves(table.loc[trained, "run_dir"], tag), label, path, levels)


def summary_text(config: Config, table: pd.DataFrame) -> str:
    return (
        "# Online agents: clicks per list in ListwiseFeed-v0\n\n"
        f"DDQN teacher / student: {config.steps} gradient steps on batches of "
        f"{config.learner.batch_size} lists, Adam lr {config.learner.learning_rate:g} (MF tables "
        f"{config.learner.factor_learning_rate:g}), gamma "
        f"{config.learner.gamma:g}, {config.online.num_envs} envs, epsilon "
        f"{config.online.exploration_start:g} -> {config.online.exploration_end:g} over "
        f"{config.online.exploration_steps} steps, replay of {config.online.buffer_lists} lists. "
        f"MaskablePPO (sb3-contrib defaults, FlatFeatures): the same "
        f"{config.steps * config.online.num_envs:,} env slots. mf: logistic MF fitted on the "
        "log's train split (L2 by validation AUC), greedy on its logit, no list context. "
        "oracle: greedy on the env's own "
        "click model (the ground truth on synthetic; on ml-100k the fitted simulator itself).\n\n"
        f"Scores: {config.online.eval_lists} test requests, the same for every agent (fixed "
        "seeds: same users, candidates and click uniforms), greedy actions. clicks_per_list = "
        "sampled clicks, expected_clicks_per_list = sum of click probabilities (lower "
        "variance); mean +- std over training seeds; eval_ci95 = mean 95% CI half-width of "
        "one evaluation; test_auc = AUC of the agent's Q on the logged test slots.\n\n"
        + markdown_table(aggregate(table))
        + "\nSanity check (trained DDQN > popularity > random):\n\n"
        + ordering_checks(table)
        + "\nCurves: curves.png (expected clicks per list on validation requests).\n"
    )


def main(config: Config) -> pd.DataFrame:
    table = train_all(config)
    out = publish(config, table, summary_text(config, table))
    plot_validation_curves(table, out / "curves.png")
    return table


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
