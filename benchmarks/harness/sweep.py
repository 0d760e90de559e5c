"""Sweeps of DRL-Rec's settings: named variants x seeds, each variant compared with references.

A variant is one line of a sweep: an agent (``teacher``, ``student`` or a distiller), the
DRL-Rec options it changes and the width of the network it serves. Every (variant, seed) is one
main-table cell (:func:`benchmarks.main_table.run_row` of its run: the main table's learner, MF warm
start, best-validation selection and test metrics) with the sweep's ``steps`` and
``eval_every``. The summary compares variants with reference variants seed by seed
(:func:`benchmarks.harness.paired.paired_test`). A row of an earlier table (``reuse_from``) is taken
instead of training again where its run folder holds the very ``TrainConfig`` of the cell
(the runs folder aside), and so is a finished run of the cell in the sweep's own ``runs_dir``
(a stopped sweep resumes where it was); the ``source`` column says which rows were.

:mod:`benchmarks.ablations`, :mod:`benchmarks.compression` and :mod:`benchmarks.k_sweep` are
sweeps; :mod:`benchmarks.harness.sweep_plots` draws them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import pandas as pd

from agents.nn.qnetwork import STUDENT_WIDTH
from agents.training.config import CONFIG_NAME, TrainConfig, load_config
from benchmarks import main_table
from benchmarks.harness import sections as main_table_sections
from benchmarks.harness.cells import run_key, run_table
from benchmarks.harness.cli import OfflineTableSettings
from benchmarks.harness.paired import gap_closed, paired_test
from benchmarks.harness.report import markdown_table, t_half_width
from benchmarks.harness.results import merged, publish
from distill.options import METHODS
from rec_env.checks import InputError, check_choice, check_dataset, check_range, check_types

SWEEP_TABLES = tuple(
    f"results/{name}/table.csv" for name in ("main_table", "ablations", "k_sweep", "compression")
)
"""tables whose rows a sweep reuses by default (a missing one is skipped)"""
AGENTS = ("teacher", "student", *METHODS)
"""the agents a variant may train"""


@dataclass(frozen=True)
class Variant:
    """One line of a sweep."""

    label: str
    """its name in the table, the summary and the figures"""
    method: str = "drl-rec"
    """the agent trained: teacher, student (DDQN alone) or a distiller (distill.options)"""
    options: dict = field(default_factory=dict)
    """a distiller's options that replace the sweep's base options"""
    width: float = STUDENT_WIDTH
    """widths of the served network as a share of the teacher preset's (the teacher: 1)"""
    x: float = math.nan
    """its value on the sweep's axis (k, width); NaN: off the axis (a reference level)"""
    train_share: float = 1.0
    """share of the train lists its runs keep (TrainConfig.train_share, seeded per run seed)"""
    teachers: dict = field(default_factory=dict)
    """a distiller's frozen trained teacher per seed, {seed: run folder} (its teacher_from);
    empty: teacher and student trained jointly"""

    def __post_init__(self) -> None:
        """:raises InputError: naming the field of a wrong type or value."""
        check_types(self)
        check_choice("Variant.method", self.method, AGENTS)
        check_range(self, ("width", "train_share"), low=0, high=1, low_open=True)
        if (self.options or self.teachers) and self.method not in METHODS:
            raise InputError(f"Variant {self.label!r}: agent {self.method!r} takes no options")


TEACHER = Variant("teacher", "teacher", width=1.0)
"""the teacher alone (its validation AUC is the ceiling of the gap closed)"""
STUDENT = Variant("student", "student")
"""the student alone at the student preset's width"""
DRL_REC = Variant("drl-rec")
"""DRL-Rec with the sweep's base options"""


@dataclass
class Config(OfflineTableSettings):
    """Settings every sweep shares (each script adds its own)."""

    dataset: str = "synthetic-gap"
    """dataset to train and test on"""
    steps: int = 400
    """gradient steps per run (the main table's)"""
    eval_every: int = 50
    """steps between validation evaluations (each may become the selected network); the main
    table's, so its teacher, student and DRL-Rec runs are reused"""
    eval_lists: int = 1000
    """test requests of the online evaluation"""
    base_options: dict = field(default_factory=dict)
    """DRL-Rec options every distiller variant starts from (JSON), e.g. the main table's
    --method-options for drl-rec; empty: the defaults"""
    reuse_from: tuple[str, ...] = SWEEP_TABLES
    """earlier tables (table.csv with a run_dir column) whose rows are reused (with reuse)"""

    def __post_init__(self) -> None:
        """:raises InputError: naming the field of a wrong type or value."""
        super().__post_init__()
        check_types(self)
        check_dataset(f"{type(self).__name__}.dataset", self.dataset)
        check_range(self, ("steps", "eval_every", "eval_lists"), low=1)
        METHODS["drl-rec"](**self.base_options)  # names the bad option, if any


CONVERGED = ("converged", "patience", "max_epochs")
"""the training-budget switch a sweep passes on to its main-table cells"""
SHARED = ("seeds", "steps", "eval_every", "eval_lists", "jobs", "reuse")
"""the main table's ``--smoke`` settings that a sweep's takes"""
SMOKE = {"dataset": main_table.SMOKE["datasets"][0], **{k: main_table.SMOKE[k] for k in SHARED}}
"""the ``--smoke`` overrides every sweep starts from: the main table's tiny world, 2 steps"""


def train_config(config: Config, variant: Variant, seed: int) -> TrainConfig:
    """The main table's run of ``variant.method`` with the variant's options, width, share of
    the train lists and frozen teacher (``variant.teachers[seed]``)."""
    if variant.teachers and seed not in variant.teachers:
        raise InputError(f"Variant {variant.label!r}: teachers has no run for seed {seed}")
    table = main_table.Config(**(main_table.SMOKE if config.smoke else {}))
    options = {**config.base_options, **variant.options}
    if variant.method in METHODS:
        options["student_width"] = variant.width
        options |= {"teacher_from": variant.teachers[seed]} if variant.teachers else {}
    table = replace(
        table,
        runs_dir=config.runs_dir,
        steps=config.steps,
        eval_every=config.eval_every,
        eval_lists=config.eval_lists,
        method_options={variant.method: options},
        **{name: getattr(config, name) for name in CONVERGED},
    )
    train = main_table.train_config(table, config.dataset, variant.method, seed)
    train = replace(train, train_share=variant.train_share)
    if variant.method in METHODS:  # the student's width is an option, the teacher's is 1
        return train
    preset = STUDENT_WIDTH if variant.method == "student" else 1.0  # TrainConfig.width scales it
    return replace(train, width=variant.width / preset)


def reusable_rows(paths: tuple[str, ...]) -> dict[str, dict]:
    """``{run_key: row}`` of the rows in ``paths`` whose run folder still holds its config.

    Tables without every column of a main-table row are skipped, and so are missing files.
    """
    rows = {}
    for path in paths:
        if not Path(path).is_file():
            continue
        table = pd.read_csv(path)
        if not set(main_table.ROW_COLUMNS) <= set(table.columns):
            continue
        for row in table[list(main_table.ROW_COLUMNS)].to_dict("records"):
            if isinstance(row["run_dir"], str) and (Path(row["run_dir"]) / CONFIG_NAME).is_file():
                rows[run_key(load_config(row["run_dir"]))] = row | {"source": path}
    return rows


def train_all(config: Config, variants: list[Variant], x_name: str = "") -> pd.DataFrame:
    """Every (variant, seed) cell (:func:`~benchmarks.harness.cells.run_table`): rows of the
    ``reuse_from`` tables first, then finished runs in ``runs_dir``, the rest trained; rows in
    variant order, then seed, with --merge after the rows of out_dir/table.csv not redone.

    :param x_name: the name of the variants' axis value column (empty: no such column).
    """
    labels = [v.label for v in variants]
    if len(set(labels)) != len(labels):
        raise InputError(f"variant labels must be unique, got {labels}")
    cells = [(v, s) for v in variants for s in config.seeds]
    earlier = reusable_rows(config.reuse_from) if config.reuse else {}
    cell_config = partial(train_config, config)
    rows = run_table(config, cells, cell_config, main_table.run_row, earlier, source="source")
    table = pd.DataFrame(
        {"variant": variant.label, **({x_name: variant.x} if x_name else {}), **row}
        for (variant, _), row in zip(cells, rows, strict=True)
    )
    return merged(config, table, ["variant", "seed"], labels)


def pairs_against(variants: list[Variant], reference: Variant, skip=()) -> list:
    """``(variant, reference)`` label pairs for every variant but the reference and ``skip``."""
    return [(v.label, reference.label) for v in variants if v not in (reference, *skip)]


def comparison(table: pd.DataFrame, metric: str, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """Per ``(variant, reference)`` pair: the variant's mean +- std of ``metric``, the paired
    test against the reference by seed, the 95% confidence half-width of the mean difference
    (t over the seeds) and, where the reference is a student alone, the share of its gap to
    the teacher closed.

    :param table: :func:`train_all` rows (one dataset).
    """
    scores = table.pivot_table(index="seed", columns="variant", values=metric)
    method = table.groupby("variant")["method"].first()
    rows = []
    for variant, reference in pairs:
        both = scores[[variant, reference]].dropna()
        diff = both[variant] - both[reference]
        n = len(diff)
        row = {
            "dataset": table["dataset"].iloc[0],
            "variant": variant,
            "reference": reference,
            "n_seeds": n,
            "mean": scores[variant].mean(),
            "std": scores[variant].std(ddof=1),
            **paired_test(both[variant].to_numpy(), both[reference].to_numpy()),
            "ci95": t_half_width(diff),
            "gap_closed": math.nan,
            "reference_method": method[reference],
        }
        if method[reference] == "student" and "teacher" in scores:
            means = scores[[variant, reference, "teacher"]].mean()
            row["gap_closed"] = gap_closed(*means)
        rows.append(row)
    return pd.DataFrame(rows)


def params_table(table: pd.DataFrame) -> str:
    """Parameters of each variant's served network and their share of the teacher's."""
    params = table.groupby("variant", sort=False)["params"].first()
    share = params / params.get("teacher", math.nan)
    shown = pd.DataFrame(
        {"variant": params.index, "params": params.astype(int), "share of teacher": share}
    )
    return markdown_table(shown.assign(**{"share of teacher": share.map("{:.1%}".format)}))


def sections(table: pd.DataFrame, against: dict[str, list[tuple[str, str]]]) -> str:
    """Per compared metric and per non-empty set of pairs (``{title: pairs}``), a markdown
    section."""
    parts = []
    for metric in main_table_sections.COMPARED:
        for title, pairs in against.items():
            if not pairs:
                continue
            compared = comparison(table, metric, pairs)
            students = (compared["reference_method"] == "student").all()  # gap closed shown
            reference = "student" if students else "/".join(compared["reference"].unique())
            shown = compared.rename(columns={"variant": "method"})
            parts.append(
                main_table_sections.section(f"{metric}: {title}", metric, shown, reference)
            )
    return "\n".join(parts)


def reuse_note(table: pd.DataFrame) -> str:
    """Which rows were trained and which were taken from earlier tables."""
    counts = table["source"].value_counts()
    taken = [f"{n} from {source}" for source, n in counts.items() if source != "trained"]
    if not taken:
        return f"All {len(table)} runs trained here."
    reused = sorted(set(table.loc[table["source"] != "trained", "variant"]))
    return (
        f"{counts.get('trained', 0)} of {len(table)} runs trained here; "
        + ", ".join(taken)
        + f" (variants {', '.join(reused)}): their run folders hold the identical training "
        "config (the code version is not recorded, so a row is as recent as its run)."
    )


def report(
    config: Config,
    table: pd.DataFrame,
    title: str,
    intro: str,
    against: dict[str, list[tuple[str, str]]],
) -> str:
    """The summary: what was run, the parameters, and the paired comparisons."""
    train = train_config(config, DRL_REC, config.seeds[0])
    return (
        f"# {title}\n\n{intro}\n\n"
        f"Dataset {config.dataset}, seeds {list(config.seeds)}; every run is a main-table cell "
        f"(benchmarks.main_table: Adam lr {train.learner.learning_rate:g}, MF tables' lr "
        f"{train.learner.factor_learning_rate:g}, MF warm start {train.mf_warm_start}, the "
        f"network of best validation AUC kept) of "
        f"{config.budget(config.steps, train.learner.batch_size)}, validation every "
        f"{config.eval_every} steps, "
        f"{config.eval_lists} online test requests; DRL-Rec base options "
        f"{config.base_options or 'the defaults'} (distill.options). {reuse_note(table)} "
        "Mean +- std over seeds; paired by seed (t-test, Wilcoxon); `beats` / `loses` need "
        "p (t) < 0.05 over at least 3 seeds. Gap closed = (variant - student) / "
        "(teacher - student) of the means.\n\n"
        "Parameters of the served network:\n\n"
        + params_table(table)
        + "\n"
        + sections(table, against)
    )


def finish(config: Config, table: pd.DataFrame, summary: str, figure: str, draw) -> pd.DataFrame:
    """Write the results layout and the figure (``draw(out_dir / figure)``), print the summary."""
    out = publish(config, table, summary)
    print(f"Figure: {draw(out / figure)}")
    return table
