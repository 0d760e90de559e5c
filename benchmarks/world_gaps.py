"""How much list-wise planning and reacting to clicks are worth in each synthetic world.

On the same test requests and candidates (the environment's defaults: the C most shown items),
the true model's expected clicks of: random lists; greedy (each slot the item with the most
expected clicks given the list so far); the planner (beam search over exact expected clicks,
then local search); and the planner served open loop (its list as planned) or closed loop
(planned again after each observed click), with greedy closed loop beside them.

    planning gap   = (planner - greedy) / (greedy - random)
    adaptivity gap = (closed loop - open loop) / (greedy - random)

Random, greedy and the planner are exact (every click path enumerated, exits included);
the loops are Monte Carlo, ``samples`` click paths per request on common random numbers,
each slot counting its click probability given the path so far. Intervals are paired 95%
t-intervals over requests (of the numerator; the denominator is taken as exact). Rows
``fitted`` repeat it all under the simulator fitted on the world's training split (the
environment's ``LogClickModel``, in the same Gram form: what it believes each policy earns),
``fitted, dynamics`` under one that also learns the interest term and the exits;
``planner, true clicks`` is the true value of that model's planned lists.

    python -m benchmarks.world_gaps                      # the presets, 500 test requests
    python -m benchmarks.world_gaps --presets synthetic-feed --requests 200
    python -m benchmarks.world_gaps --smoke              # a tiny world, seconds
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmarks.harness.cli import Settings, parser, run_script
from benchmarks.harness.report import markdown_table, pyplot, save_figure, t_half_width
from benchmarks.harness.results import publish
from rec_env.checks import InputError, check_range
from rec_env.data.registry import SYNTHETIC_PRESETS
from rec_env.envs.recall import make_recall
from rec_env.scenario import Scenario
from rec_env.simulator.click_paths import Lists, PathModel, expected_clicks, start_lists
from rec_env.simulator.fitted_paths import fitted_lists
from rec_env.simulator.planner import PlannerConfig, plan, random_slates, roll_out

FITS = {"fitted": {}, "fitted, dynamics": {"use_interest": True, "learn_exits": True}}
"""the fitted simulators: the environment's LogClickModel, and one that also learns how a
click moves the taste and when users leave (LogClickConfig fields)"""
MODEL_COLUMNS = ("planner, true clicks", "exit after skip", "exit after click")
"""per model: the true value of its planner's lists, and its exit probabilities"""
POLICIES = ("random", "greedy", "planner", "open loop", "closed loop", "greedy closed loop")


@dataclass
class Config(Settings):
    name = "world_gaps"

    presets: tuple[str, ...] = ("synthetic", "synthetic-gap", "synthetic-feed")
    """synthetic worlds (names in rec_env.data.SYNTHETIC_PRESETS)"""
    requests: int = 500
    """test requests per world (the first of the test split)"""
    num_candidates: int = 100
    """C, the environment's popular recall"""
    samples: int = 20
    """Monte Carlo click paths per request for the open and closed loops"""
    random_lists: int = 16
    """random lists per request, each valued exactly"""
    beam_width: int = 20
    """the planner's beam"""
    rounds: int = 3
    """the planner's local search rounds"""
    fitted: bool = True
    """also the gaps the fitted simulators believe in (LogClickModels fitted on the world's
    training split: the environment's, and one with the dynamics terms), and the true
    clicks of their planners' lists"""
    seed: int = 0
    """seed of the random lists and the click paths"""

    def __post_init__(self) -> None:
        """:raises InputError: an unknown preset, or a count below 1."""
        super().__post_init__()
        unknown = [name for name in self.presets if name not in SYNTHETIC_PRESETS]
        if not self.presets or unknown:
            raise InputError(f"Config.presets must name synthetic presets, got {self.presets}")
        check_range(
            self, ("requests", "num_candidates", "samples", "random_lists", "beam_width"), low=1
        )
        check_range(self, ("rounds",), low=0)


SMOKE = {
    "presets": ("synthetic-tiny",),
    "requests": 12,
    "num_candidates": 20,
    "samples": 4,
    "random_lists": 4,
    "beam_width": 3,
    "rounds": 1,
}


def test_requests(scenario: Scenario, config: Config) -> tuple[np.ndarray, np.ndarray]:
    """The first ``config.requests`` test requests: their users ``[N]`` and the environment's
    popular candidates ``[N, C]``."""
    rows = scenario.request_rows("test")[: config.requests]
    k = scenario.lists.slate_size
    recall = make_recall("popular", scenario.catalogue, config.num_candidates, k)
    candidates = np.array(recall(scenario.lists.items[rows], np.zeros((len(rows), 0))))
    return scenario.lists.user_ids[rows], candidates


def policy_values(
    lists: Lists, paths: PathModel, k: int, config: Config, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each policy's expected clicks ``[N]`` on ``lists`` under the model of ``paths``, and
    the planner's lists ``[N, K]``."""
    planner = PlannerConfig(config.beam_width, config.rounds)
    greedy_config = PlannerConfig(beam_width=1, rounds=0)
    planned, greedy = plan(paths, lists, k, planner), plan(paths, lists, k, greedy_config)
    random = random_slates(lists, k, config.random_lists, rng)
    values = {
        "random": expected_clicks(paths, lists, random).mean(1),
        "greedy": expected_clicks(paths, lists, greedy[:, None])[:, 0],
        "planner": expected_clicks(paths, lists, planned[:, None])[:, 0],
    }
    origin = np.repeat(np.arange(len(lists)), config.samples)
    samples, uniforms = lists.rows(origin), rng.random((len(origin), k))
    loops = {
        "open loop": roll_out(paths, samples, planned[origin], uniforms),
        "closed loop": roll_out(paths, samples, planned[origin], uniforms, planner, origin),
        "greedy closed loop": roll_out(
            paths, samples, greedy[origin], uniforms, greedy_config, origin
        ),
    }
    for policy, clicks in loops.items():
        values[policy] = clicks.reshape(len(lists), config.samples).mean(1)
    return values, planned


def world_values(name: str, config: Config, rng: np.random.Generator) -> pd.DataFrame:
    """One row per test request of world ``name`` and model (``truth``; ``fitted`` with
    ``config.fitted``): each policy's expected clicks under that model, and the true expected
    clicks of that model's planned lists (``planner, true clicks``)."""
    scenario = Scenario.build(name, progress=False)
    users, candidates = test_requests(scenario, config)
    truth = scenario.user_model
    k = truth.slate_size
    true_lists, true_paths = start_lists(truth, users, candidates), PathModel.of(truth)
    models = {"truth": (true_lists, true_paths)}
    if config.fitted:
        for model, overrides in FITS.items():
            fit = scenario.fitted_user_model(**overrides)
            models[model] = fitted_lists(fit, users, candidates)
    frames = []
    for model, (lists, paths) in models.items():
        values, planned = policy_values(lists, paths, k, config, rng)
        true_value = expected_clicks(true_paths, true_lists, planned[:, None])[:, 0]
        values["planner, true clicks"] = true_value
        values["exit after skip"] = 1.0 - paths.stay_after_skip  # the model's, learned or true
        values["exit after click"] = 1.0 - paths.stay_after_click
        frames.append(pd.DataFrame({"world": name, "model": model, **values}))
    return pd.concat(frames)


def log_shape(name: str) -> dict[str, float]:
    """Whether a world's log looks like a feed: click rate per shown slot, CTR at the first
    and last slot, and the share of lists with a click that were shown in full."""
    lists = Scenario.build(name, progress=False).lists
    shown, clicks = lists.mask, lists.clicks.astype(bool)
    ctr = clicks.sum(0) / np.maximum(shown.sum(0), 1)
    engaged = clicks.any(1)
    return {
        "click_rate": float(clicks.sum() / shown.sum()),
        "ctr_first": float(ctr[0]),
        "ctr_last": float(ctr[-1]),
        "engaged_full": float(shown[engaged].all(1).mean()),
    }


def gaps(values: pd.DataFrame) -> pd.DataFrame:
    """Per world and model: mean expected clicks of each policy, the paired differences with
    their 95% half-widths and the planning and adaptivity gaps."""
    rows = []
    for (world, model), runs in values.groupby(["world", "model"], sort=False):
        scale = runs["greedy"].mean() - runs["random"].mean()
        row = {"world": world, "model": model, **runs[[*POLICIES, *MODEL_COLUMNS]].mean()}
        for key, (high, low) in {
            "planning": ("planner", "greedy"),
            "adaptivity": ("closed loop", "open loop"),
        }.items():
            diff = runs[high] - runs[low]
            mean, half = diff.mean(), t_half_width(diff)
            row |= {f"{high} - {low}": mean, f"{key} ci95": half}
            row |= {f"{key} gap": mean / scale, f"{key} gap ci95": half / scale}
        rows.append(row | log_shape(world))
    return pd.DataFrame(rows)


def plot(table: pd.DataFrame, path: str) -> None:
    """Expected clicks per policy and world (left); the two gaps with their intervals (right)."""
    fig, (left, right) = pyplot().subplots(1, 2, figsize=(11, 4))
    fits = {name: table[table["model"] == name].set_index("world") for name in FITS}
    table = table[table["model"] == "truth"]
    x = np.arange(len(table))
    for i, policy in enumerate(POLICIES):
        left.bar(x + (i - 2.5) * 0.13, table[policy], 0.13, label=policy)
    left.set(xticks=x, xticklabels=table["world"], ylabel="expected clicks per list")
    left.legend(fontsize=7)
    for i, key in enumerate(("planning", "adaptivity")):
        right.bar(
            x + (i - 0.5) * 0.35,
            table[f"{key} gap"],
            0.35,
            yerr=table[f"{key} gap ci95"],
            label=f"{key} gap",
        )
        for (name, fit), marker in zip(fits.items(), "x+", strict=True):
            if len(fit):
                believed = fit[f"{key} gap"].reindex(table["world"])
                label = f"believed by {name}" if i == 0 else None
                right.scatter(x + (i - 0.5) * 0.35, believed, c="k", marker=marker, label=label)
    right.axhline(0.15, ls="--", c="C0", lw=0.8, label="feed target, planning")
    right.axhline(0.05, ls="--", c="C1", lw=0.8, label="feed target, adaptivity")
    right.set(xticks=x, xticklabels=table["world"], ylabel="share of greedy - random")
    right.legend(fontsize=8)
    save_figure(fig, path)


COLUMNS = """Columns: each policy's mean expected clicks per list under the row's model
(`planner, true clicks`: the true value of that model's planner's lists; `exit after
skip` / `exit after click`: the model's exit probabilities, learned or true); the paired
differences with their 95% half-widths (`ci95`) and the gaps. Log shape (the whole log): `click_rate`
clicks per shown slot, `ctr_first` / `ctr_last` the click rate at the first / last slot,
`engaged_full` the share of lists with a click that were shown in full."""


def summary_text(config: Config, table: pd.DataFrame) -> str:
    """The docstring's description, the table, and whether each world meets the feed
    targets (planning gap >= 0.15, adaptivity gap >= 0.05)."""
    title, description, gaps_defined, how = __doc__.split("\n\n")[:4]
    met = [
        f"* {row.world} ({row.model}): planning gap {row['planning gap']:.3f} +- {row['planning gap ci95']:.3f}"
        f" ({'meets' if row['planning gap'] >= 0.15 else 'below'} 0.15), adaptivity gap "
        f"{row['adaptivity gap']:.3f} +- {row['adaptivity gap ci95']:.3f}"
        f" ({'meets' if row['adaptivity gap'] >= 0.05 else 'below'} 0.05)"
        for _, row in table.iterrows()
    ]
    sizes = f"{config.requests} test requests, C = {config.num_candidates}, {config.samples} "
    sizes += f"click paths per request for the loops, seed {config.seed}."
    return "\n\n".join(
        [
            "# World gaps",
            f"{title} {description}".replace("\n", " "),
            f"```\n{gaps_defined.strip()}\n```".replace("    ", ""),
            how.replace("\n", " ") + " " + sizes,
            markdown_table(table.round(4)),
            COLUMNS.replace("\n", " "),
            "\n".join(met),
            "![gaps](world_gaps.png)\n",
        ]
    )


def main(config: Config) -> pd.DataFrame:
    values = pd.concat(
        [
            world_values(name, config, np.random.default_rng([config.seed, i]))
            for i, name in enumerate(config.presets)
        ]
    )
    table = gaps(values)
    plot(table, f"{config.out_dir}/world_gaps.png")
    publish(config, table, summary_text(config, table))
    return table


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
