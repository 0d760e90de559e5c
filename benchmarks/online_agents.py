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

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from agents.learners.ddqn import DDQNConfig  # noqa: E402
from agents.train import run  # noqa: E402
from agents.training.config import OnlineConfig, TrainConfig, load_config  # noqa: E402
from agents.training.runner import read_metrics  # noqa: E402
from benchmarks.common import (  # noqa: E402
    markdown_table,
    merge_rows,
    parse_config,
    write_results,
)
from benchmarks.plot import read_scalar  # noqa: E402
from benchmarks.reuse import reused_rows, run_key, train_missing  # noqa: E402
from rec_env.checks import check_range  # noqa: E402
from rec_env.cli import run_cli  # noqa: E402
from rec_env.envs import FeedConfig  # noqa: E402

KEYS = ["dataset", "method", "seed"]
ONLINE = ("clicks_per_list", "clicks_per_list_ci95", "expected_clicks_per_list", "ctr")
OFFLINE = ("auc", "gauc", "ndcg_at_10")
CURVE_TAG = "eval/valid_expected_clicks_per_list"


@dataclass(frozen=True)
class Config:
    out_dir: str = "results/online_agents"
    """where table.csv, summary.md, curves.png, config.json and command.txt go"""
    runs_dir: str = "runs/online_agents"
    """parent of the training runs' folders"""
    datasets: tuple[str, ...] = ("synthetic", "ml-100k")
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
    jobs: int = 2
    """runs trained in parallel (processes of one torch thread each)"""
    merge: bool = False
    """keep the rows of out_dir/table.csv that this run does not redo"""
    reuse: bool = True
    """score the runs in runs_dir that finished with a cell's very training config instead of
    training them again (a stopped table resumes); remove runs_dir to retrain after a code
    change"""
    smoke: bool = False
    """a tiny synthetic world and a few steps (checks the script, numbers meaningless)"""
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
        check_range(self, ("steps", "eval_every", "jobs"), low=1)


SMOKE = {
    "datasets": ("synthetic-tiny",),
    "seeds": (0,),
    "steps": 20,
    "eval_every": 10,
    "out_dir": "results/online_agents_smoke",
    "runs_dir": "runs/online_agents_smoke",
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


def one_row(config: Config, dataset: str, agent: str, seed: int) -> dict:
    """Train one cell and score it."""
    row = run_row(run(train_config(config, dataset, agent, seed)).dir)
    print({k: row[k] for k in (*KEYS, *ONLINE[:3])}, flush=True)
    return row


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
    """Every (dataset, seed, agent) cell, ``jobs`` at a time (results do not depend on it);
    a cell whose run finished in ``runs_dir`` before (``reuse``) is scored, not trained."""
    cells = [(d, a, s) for d in config.datasets for s in config.seeds for a in config.agents]
    keys = [run_key(train_config(config, *cell)) for cell in cells]
    reused = reused_rows(keys, config.runs_dir, run_row) if config.reuse else {}
    return pd.DataFrame(train_missing(cells, keys, reused, partial(one_row, config), config.jobs))


def aggregate(table: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, method): mean +- std over seeds, and the mean evaluation CI half-width."""
    groups = table.groupby(["dataset", "method"], sort=False)

    def spread(x: pd.Series) -> str:
        return f"{x.mean():.3f} +- {x.std(ddof=1):.3f}" if len(x) > 1 else f"{x.mean():.3f}"

    out = groups[["clicks_per_list", "expected_clicks_per_list"]].agg(spread)
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


def plot_curves(table: pd.DataFrame, path: Path) -> None:
    """Validation curves of the DDQN agents (mean over seeds), baselines' test levels dashed."""
    datasets = list(table["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        rows = table[table["dataset"] == dataset]
        for index, (method, group) in enumerate(rows.groupby("method", sort=False)):
            color = f"C{index}"
            if method in ("teacher", "student"):
                runs = [read_scalar(d, CURVE_TAG) for d in group["run_dir"]]
                curve = pd.concat(runs, axis=1).mean(axis=1)
                ax.plot(curve.index, curve.to_numpy(), color=color, label=f"{method} (valid)")
            else:
                level = group["expected_clicks_per_list"].mean()
                ax.axhline(
                    level, linestyle="--", linewidth=1, color=color, label=f"{method} (test)"
                )
        ax.set(title=dataset, xlabel="gradient step", ylabel="expected clicks per list")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


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
    out = Path(config.out_dir)
    if config.merge:
        table = merge_rows(table, out / "table.csv", KEYS, order=list(Config().agents))
    write_results(out, table, summary_text(config, table), config, merged=config.merge)
    plot_curves(table, out / "curves.png")
    print((out / "summary.md").read_text())
    return table


def parse_args(argv: list[str] | None = None) -> Config:
    return parse_config(Config, SMOKE, argv, "python -m benchmarks.online_agents", __doc__)


if __name__ == "__main__":
    run_cli(lambda: main(parse_args()))
