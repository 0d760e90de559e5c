"""Student width against test AUC and expected clicks: DRL-Rec and the student alone at each
width, the teacher as the ceiling (the paper: DRL-Rec's AUC gains hold at 50% compression
and beyond).

Each width is a share of the teacher preset's widths (embeddings, model, MLP, MF factors;
rounded to multiples of the attention heads), for DRL-Rec's student (its student_width
option) and for the student alone (TrainConfig.width on the student preset: the same
network). The figure's x axis is the served network's parameters over the teacher's.

    python -m benchmarks.compression                # synthetic-gap, 5 seeds
    python -m benchmarks.compression --widths 0.3 0.5 --seeds 0 1
    python -m benchmarks.compression --smoke        # a tiny world, seconds
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import pandas as pd

from benchmarks.harness import sweep
from benchmarks.harness.cli import parser, run_script
from benchmarks.harness.sweep import TEACHER, Variant
from benchmarks.harness.sweep_plots import plot_lines
from rec_env.checks import InputError


@dataclass
class Config(sweep.Config):
    name = "compression"

    widths: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
    """student widths as shares of the teacher's (on synthetic-gap 0.12 to 0.69 of its
    parameters; 0.5 is the student preset)"""

    def __post_init__(self) -> None:
        """:raises InputError: naming the field of a wrong type or value."""
        super().__post_init__()
        if not self.widths or not all(0 < w <= 1 for w in self.widths):
            raise InputError(f"Config.widths must be shares in (0, 1], got {self.widths}")
        if len(set(self.widths)) != len(self.widths):
            raise InputError(f"Config.widths must be distinct, got {self.widths}")


SMOKE = sweep.SMOKE | {"widths": (0.3, 0.5)}


def width_variants(width: float) -> tuple[Variant, Variant]:
    """The student alone and DRL-Rec's student at ``width``."""
    return (
        Variant(f"student w={width:g}", "student", width=width, x=width),
        Variant(f"drl-rec w={width:g}", width=width, x=width),
    )


def summary_text(config: Config, table: pd.DataFrame) -> str:
    """The report, DRL-Rec paired with the student alone width by width."""
    against = {
        "DRL-Rec vs the student alone at the same width": [
            (drl_rec.label, student.label)
            for student, drl_rec in map(width_variants, config.widths)
        ]
    }
    intro = " ".join(part.replace("\n", " ") for part in __doc__.split("\n\n")[:2])
    return sweep.report(config, table, "Compression: student width", intro, against)


def main(config: Config) -> pd.DataFrame:
    lines = [TEACHER, *(v for width in config.widths for v in width_variants(width))]
    table = sweep.train_all(config, lines, "width").drop(columns="param_ratio", errors="ignore")
    teacher = table.loc[table["variant"] == "teacher", "params"].mean()
    table.insert(2, "param_ratio", table["params"] / teacher)
    xlabel = "parameters of the served network / the teacher's (log scale)"
    lines = partial(
        plot_lines, table, "param_ratio", xlabel, ("student", "drl-rec"), ("teacher",), log_x=True
    )
    return sweep.finish(config, table, summary_text(config, table), "compression.png", lines)


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
