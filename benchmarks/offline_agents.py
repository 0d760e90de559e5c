"""Offline agents table: held-out AUC, GAUC and NDCG@10 of every agent, per dataset, split and seed.

Each cell is one ``agents.train`` run (its folder under ``runs_dir``); scores are Q(s_t, a_t)
of the logged test slots given the logged prefix.

    python -m benchmarks.offline_agents            # synthetic + ml-100k, the full budget
    python -m benchmarks.offline_agents --smoke    # a tiny synthetic world, seconds
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from agents.learners.ddqn import DDQNConfig
from agents.metrics import evaluate_offline
from agents.train import run
from agents.training.config import TrainConfig
from benchmarks.common import (
    learner_changes,
    markdown_table,
    merge_rows,
    parse_config,
    write_results,
)
from rec_env.cli import run_cli
from rec_env.data import is_synthetic
from rec_env.scenario import Scenario

METRICS = ("auc", "gauc", "ndcg_at_10")
REFERENCES = """\
Reference test AUC on ml-100k (same lists and click = rating >= 4; fitted outside this
project, the `mf` row is this project's own fit): by request,
popularity 0.663, item click rate 0.712, MF d=8 0.778, LightGBM 0.759; by time,
popularity 0.642, MF 0.71. An AUC above ~0.80 on the random split would suggest leakage.
"""


@dataclass
class Config:
    out_dir: str = "results/offline_agents"
    """where table.csv, summary.md, config.json and command.txt go"""
    runs_dir: str = "runs/offline_agents"
    """parent of the training runs' folders"""
    datasets: tuple[str, ...] = ("synthetic", "ml-100k")
    """datasets to train and test on"""
    splits: tuple[str, ...] = ("request", "time")
    """split kinds (request, time)"""
    agents: tuple[str, ...] = ("random", "popularity", "mf", "supervised", "student", "teacher")
    """agents, as agents.train names them"""
    seeds: tuple[int, ...] = (0,)
    """training seeds (the split seed stays 0)"""
    steps: int = 1000
    """gradient steps per trained agent"""
    eval_every: int = 50
    """steps between validation evaluations (each may become the selected network)"""
    select_best: bool = True
    """end each run with its network of best validation AUC (early stopping)"""
    merge: bool = False
    """add to the rows already in out_dir/table.csv (same dataset, split, method, seed replaced)"""
    smoke: bool = False
    """a tiny synthetic world and 3 steps (checks the script, numbers meaningless)"""
    learner_by_dataset: dict[str, DDQNConfig] = field(
        default_factory=lambda: {
            "synthetic": DDQNConfig(learning_rate=1e-3),
            "ml-100k": DDQNConfig(learning_rate=3e-4, factor_weight_decay=1.0, target="logged"),
        }
    )
    """learner settings per dataset (others get `learner`), chosen on validation AUC (ml-100k teacher, seed 0,
    random MF tables): the small ml-100k log overfits within a few hundred steps at lr 1e-3;
    MF tables decayed at 1.0 (0.7735, vs 0.7717 at 0.1 and 0.7640 at 3.0) and the logged next
    item as a' (0.7781, vs 0.7735 with the double target and 0.7730 logged without decay)"""
    mf_warm_start: tuple[str, ...] = ("ml-100k",)
    """datasets whose networks start from the `mf` baseline's fit (ml-100k seed 0: teacher
    valid AUC 0.788 vs 0.778 from random MF tables; on synthetic MF is far below the network)"""
    learner: DDQNConfig = field(default_factory=DDQNConfig)
    """learner settings of the datasets not in learner_by_dataset"""


SMOKE = {
    "out_dir": "results/offline_agents_smoke",
    "runs_dir": "runs/offline_agents_smoke",
    "datasets": ("synthetic-tiny",),
    "splits": ("request",),
    "steps": 3,
    "eval_every": 3,
    "learner": DDQNConfig(batch_size=16, n_recall=4),
}


def train_config(config: Config, dataset: str, split: str, agent: str, seed: int) -> TrainConfig:
    return TrainConfig(
        agent=agent,
        dataset=dataset,
        seed=seed,
        steps=config.steps,
        split=split,
        out=config.runs_dir,
        eval_every=config.eval_every,
        select_best=config.select_best,
        checkpoint_every=config.steps,
        mf_warm_start=dataset in config.mf_warm_start,
        learner=config.learner_by_dataset.get(dataset, config.learner),
    )


def one_row(config: Config, dataset: str, split: str, agent: str, seed: int) -> dict:
    result = run(train_config(config, dataset, split, agent, seed))
    test = result.metrics["test"]
    return {
        "dataset": dataset,
        "split": split,
        "method": agent,
        "seed": seed,
        **{name: test[name] for name in METRICS},
        "n_users_skipped": test["n_users_skipped"],
        "params": result.metrics.get("params", 0),
        "train_s": result.metrics["run_seconds"],
        "run_dir": str(result.dir),
    }


def oracle_row(name: str, split: str) -> dict:
    """Synthetic only: the metrics of the true click probabilities (the ceiling of any model)."""
    scenario = Scenario.build(name, split)
    dataset = scenario.dataset
    log = dataset.log
    requests, row = np.unique(log["request_id"].to_numpy(), return_inverse=True)
    proba = np.zeros((len(requests), dataset.slate_size))
    proba[row, log["position"].to_numpy()] = log["proba"].to_numpy()
    metrics = evaluate_offline(
        lambda lists: proba[np.searchsorted(requests, lists.request_ids)], scenario.splits.test
    )
    row = {"dataset": name, "split": split, "method": "oracle", "seed": 0, **metrics}
    return {**row, "params": 0, "train_s": 0.0, "run_dir": ""}


def aggregate(table: pd.DataFrame) -> pd.DataFrame:
    """Mean +- std over seeds per (dataset, split, method), in the configured method order."""
    groups = table.groupby(["dataset", "split", "method"], sort=False)
    out = groups[list(METRICS)].agg(
        lambda x: f"{x.mean():.4f} +- {x.std(ddof=1):.4f}" if len(x) > 1 else f"{x.mean():.4f}"
    )
    out["n_seeds"] = groups.size()
    return out.reset_index()


def main(config: Config) -> pd.DataFrame:
    rows = []
    for dataset in config.datasets:
        for split in config.splits:
            if is_synthetic(dataset):
                rows.append(oracle_row(dataset, split))
            for seed in config.seeds:
                for agent in config.agents:
                    rows.append(one_row(config, dataset, split, agent, seed))
                    print(
                        {k: rows[-1][k] for k in ("dataset", "split", "method", "seed", *METRICS)},
                        flush=True,
                    )
    table = pd.DataFrame(rows)
    if config.merge:
        keys = ["dataset", "split", "method", "seed"]
        order = ["oracle", *Config().agents]
        table = merge_rows(table, Path(config.out_dir) / "table.csv", keys, order)
    summary = (
        f"# Offline agents: held-out test metrics\n\n{config.steps} steps of "
        f"{config.learner.batch_size} lists per trained agent, Adam lr "
        f"{config.learner.learning_rate:g} (MF tables {config.learner.factor_learning_rate:g}), "
        f"DDQN target `{config.learner.target}`, gamma {config.learner.gamma:g}, 1 CPU thread; "
        f"per dataset {learner_changes(config.learner, config.learner_by_dataset)}; MF warm start on {config.mf_warm_start}. "
        + (
            f"Each run ends with its network of best validation AUC, checked every "
            f"{config.eval_every} steps (early stopping).\n\n"
            if config.select_best
            else "Each run ends with its last network.\n\n"
        )
        + "AUC / GAUC of Q(s_t, a_t) on the test split's shown slots (the model sees the logged "
        "prefix), NDCG@10 of each test list re-ranked by those scores. Split seed 0 "
        "(80/10/10); mean +- std over training seeds. `oracle` (synthetic only) scores with "
        "the true click probabilities of the log: the ceiling.\n\n"
        + markdown_table(aggregate(table))
        + "\n"
        + REFERENCES
    )
    write_results(config.out_dir, table, summary, config, merged=config.merge)
    print(summary)
    return table


def parse_args(argv: list[str] | None = None) -> Config:
    return parse_config(Config, SMOKE, argv, "python -m benchmarks.offline_agents", __doc__)


if __name__ == "__main__":
    run_cli(lambda: main(parse_args()))
