"""The data-limited positive control: a student with the teacher's architecture trained on a
seeded 5% of the train lists, alone and distilled from a frozen teacher trained on all of them
(issue 27). Catalogue, validation and test stay whole, so every run is scored on the same
requests; the teacher knows items and users the student's lists lack, so a working distiller
must close part of the gap.

Per seed: the full-data teacher (a main-table cell), then at ``train_share`` the student alone,
KD, DRL-Rec, Q-regression and DRL-Rec + Q-regression, each distiller with that seed's teacher
run as its frozen ``teacher_from``. The table adds each run's AUC on its own kept train lists
(``train_auc``: overfitting) and the steps it used.

    python -m benchmarks.positive_control            # synthetic-gap, 5 seeds
    python -m benchmarks.positive_control --seeds 0 1 2 --converged --max-epochs 40
    python -m benchmarks.positive_control --smoke    # a tiny world, seconds
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from agents.training.runner import read_metrics
from benchmarks.harness import sweep
from benchmarks.harness.cli import parser, run_script
from benchmarks.harness.report import formatted, markdown_table
from benchmarks.harness.results import merged, publish
from benchmarks.harness.sweep import TEACHER, Variant
from benchmarks.main_table import TUNED_OPTIONS
from rec_env.checks import check_range


@dataclass
class Config(sweep.Config):
    name = "positive_control"

    train_share: float = 0.05
    """share of the train lists the student and the distillers keep (seeded per run seed)"""
    student_width: float = 1.0
    """the student's widths as a share of the teacher's (1: the teacher's architecture)"""
    q_regression_weight: float = 0.3
    """weight of the Q-regression term in the DRL-Rec + Q-regression line"""

    def __post_init__(self) -> None:
        """:raises InputError: naming the field of a wrong type or value."""
        super().__post_init__()
        check_range(self, ("train_share", "student_width"), low=0, high=1, low_open=True)
        check_range(self, ("q_regression_weight",), low=0, low_open=True)


SMOKE = sweep.SMOKE | {"train_share": 0.5}
DISTILLERS = ("kd", "drl-rec", "q-regression")
"""the distillers run with their main-table options, then DRL-Rec + Q-regression"""


def limited_variants(config: Config, teachers: dict[int, str]) -> list[Variant]:
    """The student alone and the distillers on ``config.train_share`` of the train lists, at
    ``config.student_width``, each distiller taught by the frozen ``teachers[seed]`` run."""
    limited = {"width": config.student_width, "train_share": config.train_share}
    student = Variant("student", "student", **limited)
    both = {**TUNED_OPTIONS["drl-rec"], "q_regression_weight": config.q_regression_weight}
    distilled = [(m, m, TUNED_OPTIONS.get(m, {})) for m in DISTILLERS]
    distilled.append(("drl-rec + q-regression", "drl-rec", both))
    return [student] + [
        Variant(label, method, options=options, teachers=teachers, **limited)
        for label, method, options in distilled
    ]


def with_run_columns(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with each run's ``train_auc`` (on its kept train lists; NaN for a full-data
    run, which does not score them) and ``steps_used`` (the step its loop stopped at)."""
    metrics = [read_metrics(run_dir) for run_dir in table["run_dir"]]
    return table.assign(
        train_auc=[m.get("train", {}).get("auc", float("nan")) for m in metrics],
        steps_used=[m["stopped_step"] for m in metrics],
    )


def overfitting_table(table: pd.DataFrame, labels: list[str]) -> str:
    """Per variant, means over seeds: train vs test AUC and the steps used (markdown)."""
    means = table.groupby("variant")[["train_auc", "auc", "steps_used"]].mean().loc[labels]
    shown = {
        "train AUC (kept lists)": formatted(means["train_auc"], ".4f"),
        "test AUC": formatted(means["auc"], ".4f"),
        "train - test": formatted(means["train_auc"] - means["auc"], "+.4f"),
        "steps used": formatted(means["steps_used"], ".0f"),
    }
    return markdown_table(pd.DataFrame({"variant": labels, **shown}))


def summary_text(config: Config, table: pd.DataFrame) -> str:
    """The report: settings, the overfitting table, the paired comparisons with the student."""
    labels = list(dict.fromkeys(table["variant"]))
    intro = " ".join(part.replace("\n", " ") for part in __doc__.split("\n\n")[:2])
    intro += (
        f" Train share {config.train_share:g}, student width {config.student_width:g} of the "
        f"teacher's; distiller options {TUNED_OPTIONS['drl-rec']} for DRL-Rec, "
        f"{TUNED_OPTIONS['kd']} for KD, Q-regression at its default weight, "
        f"DRL-Rec + Q-regression with q_regression_weight {config.q_regression_weight:g}.\n\n"
        "Train vs test AUC (means over seeds; the teacher's train lists are not scored) and "
        "the steps each run used:\n\n" + overfitting_table(table, labels)
    )
    pairs = [(label, "student") for label in labels if label != "student"]  # the teacher: the gap
    against = {"vs the student alone": pairs}
    return sweep.report(config, table, "Positive control: a data-limited student", intro, against)


def main(config: Config) -> pd.DataFrame:
    single = replace(config, merge=False)
    teachers = sweep.train_all(single, [TEACHER])
    runs = dict(zip(teachers["seed"].astype(int), teachers["run_dir"], strict=True))
    limited = limited_variants(config, runs)
    table = pd.concat([teachers, sweep.train_all(single, limited)], ignore_index=True)
    labels = [TEACHER.label, *(v.label for v in limited)]
    table = merged(config, with_run_columns(table), ["variant", "seed"], labels)
    publish(config, table, summary_text(config, table))
    return table


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
