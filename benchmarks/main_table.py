"""Main table: a student distilled from a teacher, next to the teacher and the student alone.

Every cell is one training run (``agents.train`` for the agents, ``distill.train`` for the
distillers), offline from the logged train lists, ending with the network of best validation
AUC; the distillers train their teacher jointly from scratch and serve their student;
``supervised`` is the teacher's network trained with BCE on clicks; ``mf``, the logistic MF
ranker, is the reference the teacher must not lose to, and ``popularity`` (train click
counts) the plainest one. Scores on the test split: ``auc`` of Q(s_t, a_t) with the logged
prefix (items and clicks of slots < t), ``auc_items_only`` with the prefix clicks hidden (as
when a whole list is built before the user sees it), GAUC, NDCG@10, and the expected clicks
per list of the greedy policy on test requests of ListwiseFeed-v0 (on ml-100k and obd the
fitted simulator); on obd (39 test clicks, so AUC is noise) the summary reports the expected
clicks alone, with 95% confidence intervals. A cell whose run already finished in
``--runs-dir`` with the identical training config is scored instead of trained again, so a
stopped table resumes (``--no-reuse`` retrains).

    python -m benchmarks.main_table                 # synthetic-gap, ml-100k, obd, 5 seeds
    python -m benchmarks.main_table --datasets obd --seeds 0 1 2 --merge
    python -m benchmarks.main_table --seeds 0 1 --merge   # add seeds to an existing table
    python -m benchmarks.main_table --smoke         # a tiny world, seconds
    python -m benchmarks.main_table --converged     # each run to its own best (early stopping)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd

import distill  # noqa: F401  (registers the distillation methods)
from agents.learners.ddqn import DDQNConfig
from agents.metrics import evaluate_offline
from agents.train import load_agent
from agents.training.config import OnlineConfig, TrainConfig, load_config, load_scenario
from agents.training.registry import spec_of
from agents.training.runner import read_metrics
from benchmarks.harness.cells import offline_run, run_table
from benchmarks.harness.cli import OfflineTableSettings, parser, run_script
from benchmarks.harness.results import learner_changes, merged, publish, sorted_rows
from benchmarks.harness.sections import params_table, summary_tables
from distill.options import METHODS
from rec_env.checks import check_range
from rec_env.data import FEW_CLICKS, PUBLIC_DATASETS

ONLINE_METRICS = ("clicks_per_list", "expected_clicks_per_list", "expected_clicks_per_list_ci95")
"""online scores kept per run (``*_ci95``: half-width of the 95% CI over the test requests)"""
ONLINE_NOTE = (
    " On {} (too few test clicks for an AUC) only the expected clicks per list are shown: "
    "mean [95% t-interval over seeds, n - 1 degrees of freedom]; +- requests is the 95% "
    "half-width over the test requests of one run (mean over seeds). Every run is scored on "
    "the same test requests and click draws, so the seed interval is conditional on them "
    "(training noise only) and the paired tests compare methods on the same lists; with 3 "
    "seeds Wilcoxon cannot go below 0.25."
)
"""summary.md's note on the ``online_only`` datasets"""
ROW_COLUMNS = (
    "dataset", "method", "seed", "auc", "gauc", "ndcg_at_10", "auc_items_only",
    *ONLINE_METRICS, "params", "train_s", "run_dir",
)  # fmt: skip
"""the columns of a row of :func:`run_row`"""

TUNED_OPTIONS = {
    "drl-rec": {"student_temperature": 1.0, "teacher_temperature": 1.0},
    "kd": {"student_temperature": 2.0, "teacher_temperature": 2.0},
    "hint": {"hint_weight": 0.3},
    "policy-distill": {"teacher_temperature": 1.0},
    "ranking-distill": {"ranking_weight": 0.1},
}
"""Each distiller's setting of best validation AUC in results/distill_tuning (synthetic-gap,
seed 0; ``python -m benchmarks.distill_tuning`` prints them)"""


@dataclass
class Config(OfflineTableSettings):
    name = "main_table"

    datasets: tuple[str, ...] = ("synthetic-gap", *PUBLIC_DATASETS)
    """datasets to train and test on"""
    methods: tuple[str, ...] = ("teacher", "student", "supervised", *METHODS, "mf", "popularity")
    """teacher and student alone, supervised, the distillers (distill.options.METHODS),
    logistic MF, popularity"""
    steps: int = 400
    """gradient steps per run (on synthetic-gap the teacher's validation AUC peaks by then);
    with --converged, early stopping within max_epochs instead"""
    eval_every: int = 50
    """steps between validation evaluations (each may become the selected network)"""
    eval_lists: int = 1000
    """test requests of the online evaluation"""
    learner_by_dataset: dict[str, DDQNConfig] = field(
        default_factory=lambda: {
            "synthetic-gap": DDQNConfig(learning_rate=1e-3, factor_learning_rate=3e-4),
            "ml-100k": DDQNConfig(learning_rate=3e-4, factor_weight_decay=1.0, target="logged"),
        }
    )
    """learner settings per dataset (others get `learner`); ml-100k's are the offline agents
    table's (chosen on its validation AUC); synthetic-gap's from a first search on the teacher
    and student alone (seed 0: MF tables at 3e-4 beat 3e-3 for both); obd gets `learner`
    (its 39 validation clicks cannot choose settings)"""
    mf_warm_start: tuple[str, ...] = ("synthetic-gap", *PUBLIC_DATASETS)
    """datasets whose networks (teacher and student alike) start from a fitted logistic MF"""
    online_only: tuple[str, ...] = FEW_CLICKS
    """datasets summarised by the expected clicks alone, with 95% confidence intervals (too
    few test clicks for an AUC: obd has 39)"""
    learner: DDQNConfig = field(default_factory=DDQNConfig)
    """learner settings of the datasets not in learner_by_dataset"""
    method_options: dict = field(default_factory=lambda: dict(TUNED_OPTIONS))
    """distillers' options that replace their defaults, {method: {field: value}} (JSON on the
    command line); by default the choices of benchmarks.distill_tuning"""

    def __post_init__(self) -> None:
        """:raises InputError: naming a count below 1."""
        super().__post_init__()
        check_range(self, ("steps", "eval_every", "eval_lists"), low=1)


SMOKE = {
    "datasets": ("synthetic-tiny",),
    "seeds": (0, 1),
    "steps": 2,
    "eval_every": 2,
    "eval_lists": 20,
    "jobs": 1,
    "reuse": False,
    "mf_warm_start": (),
    "learner": DDQNConfig(batch_size=16, n_recall=4),
}


def method_options(config: Config, method: str):
    """The options of a distiller (its defaults, replaced by ``config.method_options``);
    None for the agents without options."""
    if method not in METHODS:
        return None
    return METHODS[method](**config.method_options.get(method, {}))


def train_config(config: Config, dataset: str, method: str, seed: int) -> TrainConfig:
    online = OnlineConfig(eval_lists=config.eval_lists, eval_envs=min(100, config.eval_lists))
    options = method_options(config, method)
    return offline_run(config, dataset, method, seed, online=online, options=options)


def run_row(run_dir: str | Path) -> dict:
    """The table row (``ROW_COLUMNS``) of a finished run: its config and ``metrics.json``."""
    run_dir = Path(run_dir)
    train = load_config(run_dir)
    metrics = read_metrics(run_dir)
    test, online = metrics["test"], metrics["online"]
    return {
        "dataset": train.dataset,
        "method": train.agent,
        "seed": train.seed,
        **{name: test[name] for name in ("auc", "gauc", "ndcg_at_10")},
        "auc_items_only": items_only_auc(run_dir, train.agent, test["auc"]),
        **{name: online[name] for name in ONLINE_METRICS},
        "params": metrics.get("params", float("nan")),  # MF, popularity: no network
        "train_s": metrics["run_seconds"],
        "run_dir": str(run_dir),
    }


def items_only_auc(run_dir: Path, method: str, auc: float) -> float:
    """Test AUC of the run's served network with the prefix clicks hidden; a fitted ranker
    without a network (MF, popularity) never reads the prefix, so its ``auc``."""
    if not spec_of(method).trained_by_loop:
        return auc
    scenario = load_scenario(load_config(run_dir))
    agent = load_agent(run_dir, scenario=scenario)
    hidden = partial(agent.score_logged, observed_clicks=False)
    return evaluate_offline(hidden, scenario.splits.test)["auc"]


def train_all(config: Config) -> pd.DataFrame:
    """Every (dataset, seed, method) cell (:func:`~benchmarks.harness.cells.run_table`), in the
    default method order, with --merge after the rows of out_dir/table.csv not redone."""
    cells = [(d, m, s) for d in config.datasets for s in config.seeds for m in config.methods]
    table = pd.DataFrame(run_table(config, cells, partial(train_config, config), run_row))
    order = list(Config().methods)
    table = sorted_rows(table, ["dataset", "seed", "method"], order)
    return merged(config, table, ["dataset", "method", "seed"], order)


def main(config: Config) -> pd.DataFrame:
    table = train_all(config)
    publish(config, table, summary_text(config, table))
    return table


def summary_text(config: Config, table: pd.DataFrame) -> str:
    """summary.md: the settings, the parameters and the comparison sections."""
    online = [d for d in table["dataset"].unique() if d in config.online_only]
    return (
        "# Main table: distilled students vs the student alone\n\n"
        + __doc__.split("\n\n")[1].replace("\n", " ")
        + f"\n\n{config.budget(config.steps, config.learner.batch_size)} per run "
        f"(Adam lr {config.learner.learning_rate:g}; per dataset "
        f"{learner_changes(config.learner, config.learner_by_dataset)}), "
        f"MF warm start on {config.mf_warm_start}, validation every {config.eval_every} steps. "
        "Distillers use their method's default options (distill.options)"
        + (f", except {config.method_options}" if config.method_options else "")
        + ". Mean +- std over seeds; each method is compared with the "
        "student alone, seed by seed (paired t-test; Wilcoxon signed-rank, which cannot go "
        "below 0.0625 with 5 seeds); `beats` / `loses` need p (t) < 0.05 over at least 3 seeds. Gap closed = "
        "(method - student) / (teacher - student) of the means."
        + (ONLINE_NOTE.format(", ".join(online)) if online else "")
        + "\n\nParameters (the served network; the student's hint projection is not counted):\n\n"
        + params_table(table)
        + "\n"
        + summary_tables(table, config.online_only)
    )


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
