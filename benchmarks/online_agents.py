"""Online agents table: clicks per list in ListwiseFeed-v0 of every agent, per dataset and seed.

Each cell is one ``agents.train --mode online`` run (its folder under ``runs_dir``): DDQN
teacher and student trained in the env, MaskablePPO on the same number of env slots, and the
untrained popularity, random and oracle agents. Every agent is scored on the same 1,000 test
requests with the same click uniforms (fixed evaluation seeds), greedily.

On the worlds of ``feed_datasets`` (issue 28 part 4) the table has besides: ``supervised``
and ``teacher-offline`` (offline runs on the log, scored online on the same requests),
``teacher-offline-online`` (an online teacher run warm-started from that seed's
``teacher-offline``: ``init_from``), and ``planner`` (the true model's planner, open loop:
:mod:`benchmarks.harness.planner_policy`); the summary adds each agent's share of
(planner - oracle) and paired tests of the teachers against mf and supervised
(:mod:`benchmarks.harness.feed_report`).

    python -m benchmarks.online_agents                       # synthetic, ml-100k, synthetic-feed
    python -m benchmarks.online_agents --datasets ml-100k --merge   # add / redo one dataset
    python -m benchmarks.online_agents --smoke               # a tiny feed world, seconds

A run that finished in ``runs_dir`` with a cell's very training config is scored, not trained
again, so a stopped table resumes (``--no-reuse`` retrains).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import pandas as pd

from agents.learners.ddqn import DDQNConfig
from agents.training.config import OnlineConfig, TrainConfig, load_config, load_scenario
from agents.training.runner import read_metrics
from benchmarks.harness.cells import run_table
from benchmarks.harness.cli import TableSettings, parser, run_script
from benchmarks.harness.feed_report import feed_section
from benchmarks.harness.planner_policy import evaluate_planner
from benchmarks.harness.report import CURVES, curves, markdown_table, plot_curves, spread
from benchmarks.harness.results import merged, publish
from rec_env.checks import InputError, check_range
from rec_env.data import PUBLIC_WITH_AUC, SyntheticConfig, is_synthetic
from rec_env.data.registry import SYNTHETIC_PRESETS
from rec_env.envs import FeedConfig
from rec_env.simulator.planner import PlannerConfig

KEYS = ["dataset", "method", "seed"]
ONLINE = ("clicks_per_list", "clicks_per_list_ci95", "expected_clicks_per_list", "ctr")
OFFLINE = ("auc", "gauc", "ndcg_at_10")
OFFLINE_RUNS = {"supervised": "supervised", "teacher-offline": "teacher"}
"""feed rows trained offline on the log (scored online like every run): method -> agent"""
WARM_RUNS = {"teacher-offline-online": "teacher-offline"}
"""feed rows of online runs warm-started (init_from) from the same seed's offline row's run"""
FEED_METHODS = (*OFFLINE_RUNS, *WARM_RUNS, "planner")
"""the rows of feed_datasets only"""
ONLINE_TRAINED = ("student", "teacher", "teacher-offline-online")
"""rows with validation curves: DDQN runs trained in the env"""


@dataclass
class Config(TableSettings):
    name = "online_agents"

    datasets: tuple[str, ...] = ("synthetic", *PUBLIC_WITH_AUC, "synthetic-feed")
    """datasets whose simulators the agents train and are scored in"""
    agents: tuple[str, ...] = (
        "random", "popularity", "mf", "supervised", "oracle", "planner", "ppo", "student",
        "teacher", "teacher-offline", "teacher-offline-online",
    )  # fmt: skip
    """agents, as agents.train names them, and the rows of FEED_METHODS (on feed_datasets
    only)"""
    feed_datasets: tuple[str, ...] = ("synthetic-feed",)
    """synthetic worlds that also get the rows of FEED_METHODS, the share of (planner -
    oracle) captured and the paired tests of the teachers (issue 28 part 4)"""
    planner: PlannerConfig = field(default_factory=PlannerConfig)
    """the planner row's beam and local search (rec_env.simulator.planner)"""
    worlds: dict[str, SyntheticConfig] = field(default_factory=dict)
    """synthetic worlds replacing their preset's, by dataset name (the smoke's tiny feed
    world)"""
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
        """:raises InputError: naming a count below 1, or a feed dataset or world that is not
        a synthetic preset (the planner needs its true model)."""
        super().__post_init__()
        check_range(self, ("steps", "eval_every"), low=1)
        for name in ("feed_datasets", "worlds"):
            if not all(is_synthetic(d) for d in getattr(self, name)):
                raise InputError(
                    f"Config.{name} must name synthetic presets {tuple(SYNTHETIC_PRESETS)}, "
                    f"got {tuple(getattr(self, name))}"
                )


FEED_DYNAMICS = ("interest_shift", "click_shift", "exit_after_skip", "exit_after_click")
TINY_FEED = replace(
    SYNTHETIC_PRESETS["synthetic-tiny"],
    **{name: getattr(SYNTHETIC_PRESETS["synthetic-feed"], name) for name in FEED_DYNAMICS},
)
"""synthetic-tiny with synthetic-feed's dynamics: the smoke's world"""

SMOKE = {
    "datasets": ("synthetic-tiny",),
    "feed_datasets": ("synthetic-tiny",),
    "worlds": {"synthetic-tiny": TINY_FEED},
    "planner": PlannerConfig(beam_width=3, rounds=1),
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


def train_config(
    config: Config, dataset: str, method: str, seed: int, init_from: str | None = None
) -> TrainConfig:
    """The run of a cell: an online run of agent ``method``, or the offline run of a feed row
    (OFFLINE_RUNS), or a warm-started online one (``init_from``)."""
    return TrainConfig(
        agent=OFFLINE_RUNS.get(WARM_RUNS.get(method, method), method),
        dataset=dataset,
        mode="offline" if method in OFFLINE_RUNS else "online",
        seed=seed,
        steps=config.steps,
        out=config.runs_dir,
        eval_every=config.eval_every,
        checkpoint_every=config.steps,
        learner=config.learner,
        online=config.online,
        synthetic=config.worlds.get(dataset),
        init_from=init_from,
    )


def warm_config(config: Config, sources: dict, dataset: str, method: str, seed: int):
    """:func:`train_config` of a WARM_RUNS cell, from its source cell's run in ``sources``
    (``{(dataset, method, seed): run_dir}``)."""
    init_from = sources[dataset, WARM_RUNS[method], seed]
    return train_config(config, dataset, method, seed, init_from=init_from)


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


def methods(config: Config, dataset: str) -> list[str]:
    """The rows of ``dataset``: ``config.agents``, those of FEED_METHODS on feed_datasets only."""
    feed = dataset in config.feed_datasets
    return [agent for agent in config.agents if feed or agent not in FEED_METHODS]


def train_all(config: Config) -> pd.DataFrame:
    """Every (dataset, seed, method) cell: the runs (:func:`~benchmarks.harness.cells.run_table`),
    then those warm-started from them, then the planner's rows; with --merge after the rows of
    out_dir/table.csv not redone."""
    cells = [(d, m, s) for d in config.datasets for s in config.seeds for m in methods(config, d)]
    warm = [cell for cell in cells if cell[1] in WARM_RUNS]
    sources = [(d, WARM_RUNS[m], s) for d, m, s in warm]
    first = [c for c in cells if c[1] != "planner" and c not in warm]
    first += [c for c in dict.fromkeys(sources) if c not in first]
    trained = run_table(config, first, partial(train_config, config), run_row)
    rows = dict(zip(first, trained, strict=True))
    if warm:
        dirs = {cell: rows[cell]["run_dir"] for cell in sources}
        trained = run_table(config, warm, partial(warm_config, config, dirs), run_row)
        rows |= zip(warm, trained, strict=True)
    rows |= planner_rows(config, [cell for cell in cells if cell[1] == "planner"])
    table = pd.DataFrame([rows[cell] | {"method": cell[1]} for cell in cells])
    return merged(config, table, KEYS, order=list(Config().agents))


def planner_rows(config: Config, cells: list[tuple]) -> dict[tuple, dict]:
    """The planner's row of each cell: one evaluation per dataset on the test requests of
    every run (:func:`~benchmarks.harness.planner_policy.evaluate_planner`; deterministic, so
    the same for every seed), no training (train_s 0)."""
    rows = {}
    for dataset in dict.fromkeys(d for d, _, _ in cells):
        scenario = load_scenario(train_config(config, dataset, "random", 0))
        summary = evaluate_planner(scenario, config.online, config.planner)
        for seed in [s for d, _, s in cells if d == dataset]:
            rows[dataset, "planner", seed] = {
                "dataset": dataset,
                "method": "planner",
                "seed": seed,
                **{name: summary[name] for name in ONLINE},
                **{f"test_{name}": float("nan") for name in OFFLINE},
                "params": 0,
                "train_s": 0.0,
                "run_dir": "",
            }
    return rows


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
    trained = table["method"].isin(ONLINE_TRAINED)
    tag, label = CURVES["clicks"]
    levels = table[~trained].groupby(["dataset", "method"], sort=False)
    levels = levels["expected_clicks_per_list"].mean().rename("value").reset_index()
    lines = curves(table.loc[trained, "run_dir"], tag)
    method_of_run = dict(zip(table["run_dir"].astype(str), table["method"], strict=True))
    lines["method"] = lines["run"].map(method_of_run)
    return plot_curves(lines, label, path, levels)


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
        + feed_section(
            table[table["dataset"].isin(config.feed_datasets)], config.steps, config.planner
        )
    )


def main(config: Config) -> pd.DataFrame:
    table = train_all(config)
    out = publish(config, table, summary_text(config, table))
    plot_validation_curves(table, out / "curves.png")
    return table


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
