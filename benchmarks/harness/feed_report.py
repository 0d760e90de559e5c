"""The online agents table's section on feed worlds (issue 28 part 4): what the extra rows are,
each agent's share of (planner - oracle), and paired tests of the DDQN teachers against the
supervised rankers over seeds (:mod:`benchmarks.harness.paired`)."""

from __future__ import annotations

import pandas as pd

from benchmarks.harness.paired import against, shares
from benchmarks.harness.report import markdown_table
from rec_env.simulator.planner import PlannerConfig

METRIC = "expected_clicks_per_list"
TEACHERS = ("teacher", "teacher-offline", "teacher-offline-online")
"""the DDQN teachers tested: online, offline, offline-then-online"""
BASELINES = ("mf", "supervised")
"""what they must beat: greedy on logistic MF and on the supervised click model"""


def feed_section(table: pd.DataFrame, steps: int, planner: PlannerConfig) -> str:
    """Markdown on the feed worlds' rows of ``table`` ("" without any).

    :param steps: the runs' gradient steps (offline ones too).
    :param planner: the planner row's settings.
    """
    if table.empty:
        return ""
    return (
        f"\n## Feed worlds: {', '.join(table['dataset'].unique())}\n\n"
        "supervised: the teacher's network trained offline with BCE on the log's clicks, "
        "greedy on its click logit; teacher-offline: the DDQN teacher trained offline on the "
        f"log; both {steps} steps, the network of best validation AUC, scored online on the "
        "same test requests. teacher-offline-online: an online teacher run warm-started from "
        "the same seed's teacher-offline (init_from: its networks, the target a copy; a fresh "
        "optimiser, replay and exploration schedule), the same budget as teacher. planner: "
        f"the true model's beam search (width {planner.beam_width}) and local search "
        f"({planner.rounds} rounds, {planner.replacements} replacements) over exact expected "
        "clicks, planned at each request's first slot and served as planned whatever the "
        "user clicks (open loop; deterministic: one evaluation, the same for every seed).\n\n"
        "Share of (planner - oracle) each agent captures, on seed means of expected clicks "
        "per list: (agent - oracle) / (planner - oracle); ci95: 95% t half-width over seeds."
        "\n\n"
        + markdown_table(shares(table, METRIC, "oracle", "planner"))
        + "\nPaired tests over seeds (expected clicks per list, the same test requests): mean "
        "difference, two-sided paired t-test and Wilcoxon p; a verdict needs p < 0.05 over "
        "at least 3 seeds.\n\n" + markdown_table(against(table, METRIC, TEACHERS, BASELINES))
    )
