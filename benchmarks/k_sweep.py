"""DRL-Rec's k, the explored items each side of the dual-led filter keeps per state, against
test AUC and expected clicks (the paper finds k = 3 best).

k = 0 keeps no explored item: the lesson of a state is its logged action alone. DistillOptions
refuses top_k = 0, and a lesson without explored items is what explore=False builds (the pool
is never drawn), so k = 0 is run as DRL-Rec with explore=False; its lesson KL is over one item,
hence 0, and only the hint teaches.

    python -m benchmarks.k_sweep                    # synthetic-gap, 5 seeds
    python -m benchmarks.k_sweep --ks 1 3 10 --seeds 0 1
    python -m benchmarks.k_sweep --smoke            # a tiny world, seconds
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import pandas as pd

from benchmarks.harness import sweep
from benchmarks.harness.cli import parser, run_script
from benchmarks.harness.sweep import STUDENT, TEACHER, Variant, pairs_against
from benchmarks.harness.sweep_plots import plot_lines
from distill.options import METHODS
from rec_env.checks import InputError


@dataclass
class Config(sweep.Config):
    name = "k_sweep"

    ks: tuple[int, ...] = (0, 1, 2, 3, 5, 10, 20)
    """k values, explored items per side of the filter (0: no exploration)"""

    def __post_init__(self) -> None:
        """:raises InputError: naming the field of a wrong type or value."""
        super().__post_init__()
        if not self.ks or min(self.ks) < 0 or len(set(self.ks)) != len(self.ks):
            raise InputError(f"Config.ks must be distinct values >= 0, got {self.ks}")


SMOKE = sweep.SMOKE | {"ks": (0, 3)}


def k_variant(k: int) -> Variant:
    """DRL-Rec keeping k items per side (k = 0: without exploration)."""
    return Variant(f"k={k}", options={"explore": False} if k == 0 else {"top_k": k}, x=k)


def variants(config: Config) -> list[Variant]:
    """The teacher, the student alone, then DRL-Rec at each k."""
    return [TEACHER, STUDENT, *(k_variant(k) for k in config.ks)]


def summary_text(config: Config, table: pd.DataFrame) -> str:
    """The report, paired against the student alone and (if swept) DRL-Rec's default k."""
    lines = variants(config)
    against = {"vs the student alone": pairs_against(lines, STUDENT)}
    default_k = METHODS["drl-rec"](**config.base_options).top_k
    if default_k in config.ks:
        against[f"vs DRL-Rec's k = {default_k}"] = pairs_against(lines[2:], k_variant(default_k))
    intro = " ".join(part.replace("\n", " ") for part in __doc__.split("\n\n")[:2])
    return sweep.report(config, table, "DRL-Rec's k", intro, against)


def main(config: Config) -> pd.DataFrame:
    table = sweep.train_all(config, variants(config), x_name="k")
    xlabel = "k, explored items per side of the dual-led filter"
    lines = partial(plot_lines, table, "k", xlabel, ("drl-rec",), ("student", "teacher"))
    return sweep.finish(config, table, summary_text(config, table), "k_sweep.png", lines)


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
