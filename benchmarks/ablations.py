"""DRL-Rec ablations: each part removed or replaced, against full DRL-Rec and the student alone.

The variants change one DRL-Rec option each (distill.options); ``DESCRIPTIONS`` says what each
one does, and a report names only the variants it ran.

    python -m benchmarks.ablations                  # synthetic-gap, 5 seeds
    python -m benchmarks.ablations --ablations no-explore no-kl --seeds 0 1
    python -m benchmarks.ablations --smoke          # a tiny world, seconds
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import pandas as pd

from benchmarks.harness import sweep
from benchmarks.harness.cli import parser, run_script
from benchmarks.harness.sweep import DRL_REC, STUDENT, TEACHER, Variant, comparison, pairs_against
from benchmarks.harness.sweep_plots import PANELS, plot_differences
from distill.filters import FILTERS
from distill.options import OFFICIAL_KL
from rec_env.checks import check_choice

ABLATIONS: dict[str, dict] = {
    "no-explore": {"explore": False},
    **{f"filter={name}": {"filter": name} for name in FILTERS if name != "dual_led"},
    "uniform-confidence": {"confidence": "uniform"},
    "no-kl": {"kl": False},
    "no-hint": {"hint": False},
    "kl-over-positions": {"kl_over": "positions"},
    "kl-official": OFFICIAL_KL,
    **{f"lesson-mode={mode}": {"lesson_mode": mode} for mode in ("eval", "train")},
    "with-q-regression": {"q_regression_weight": 0.3},
}
"""Each ablation by name: the DRL-Rec options it replaces."""
DESCRIPTIONS: dict[str, str] = {
    "no-explore": "no exploration (the lesson of a state is its logged action alone)",
    **{
        f"filter={name}": f"the {name} filter instead of dual-led (distill.filters)"
        for name in FILTERS
        if name != "dual_led"
    },
    "uniform-confidence": "uniform confidence (c = 1) instead of the teacher's TD confidence",
    "no-kl": "no KL",
    "no-hint": "no hint",
    "kl-over-positions": "the KL over each list's logged positions (without confidence, "
    "temperature 1 on both sides) instead of over the lesson",
    "kl-official": "the official code's KL exactly (over the positions, the teacher's Q "
    "divided by 10 and the student's not)",
    "lesson-mode=eval": "the lessons scored in eval mode on both sides (full DRL-Rec: the "
    "teacher in eval mode, the student with dropout on)",
    "lesson-mode=train": "the lessons scored in train mode on both sides",
    "with-q-regression": "the confidence-weighted Q regression added (weight 0.3)",
}
"""Each ablation by name: what it changes, for the report."""
NOTES = (
    "Without exploration a lesson holds the logged action alone: the teacher's and the "
    "student's softmax over one item are both 1, so the lesson KL is 0 and only the hint "
    "teaches. `filter=none` teaches on every pool item (M = 1000); `random` and "
    "`disagreement` pick 2k items, dual-led's budget. With `kl-over-positions` and "
    "`kl-official` the explored items still feed the hint."
)


@dataclass
class Config(sweep.Config):
    name = "ablations"

    ablations: tuple[str, ...] = tuple(ABLATIONS)
    """ablated variants to run (besides the teacher, the student alone and full DRL-Rec)"""

    def __post_init__(self) -> None:
        """:raises InputError: naming the field of a wrong type or value."""
        super().__post_init__()
        for name in self.ablations:
            check_choice("Config.ablations", name, ABLATIONS)


SMOKE = sweep.SMOKE | {"ablations": ("no-explore", "kl-over-positions")}


def variants(config: Config) -> list[Variant]:
    """The teacher, the student alone, full DRL-Rec, then the ablations."""
    ablated = [Variant(name, options=ABLATIONS[name]) for name in config.ablations]
    return [TEACHER, STUDENT, DRL_REC, *ablated]


def against(config: Config) -> dict[str, list[tuple[str, str]]]:
    """Every variant against the student alone, and the ablations against full DRL-Rec."""
    lines = variants(config)
    return {
        "vs the student alone": pairs_against(lines, STUDENT),
        "vs full DRL-Rec": pairs_against(lines, DRL_REC, skip=(TEACHER,)),
    }


def summary_text(config: Config, table: pd.DataFrame) -> str:
    changes = "; ".join(f"`{name}`: {DESCRIPTIONS[name]}" for name in config.ablations)
    intro = f"The variants change one DRL-Rec option each (distill.options): {changes}. {NOTES}"
    return sweep.report(config, table, "DRL-Rec ablations", intro, against(config))


def main(config: Config) -> pd.DataFrame:
    table = sweep.train_all(config, variants(config))
    pairs = against(config)["vs full DRL-Rec"]
    differences = {m: comparison(table, m, pairs) for m in PANELS}
    chart = partial(plot_differences, differences, "full DRL-Rec")
    return sweep.finish(config, table, summary_text(config, table), "ablations.png", chart)


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
