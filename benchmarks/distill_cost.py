"""What DRL-Rec's exploration costs: one training step against plain DDQN, and the explorer's
memory with a 1M-item catalogue.

1. Time: one DRL-Rec update (teacher + student RL losses, a pool of M items scored at every
   state by both networks, dual-led filter, KL and hint) against one plain DDQN update of the
   teacher plus one of the student, on the same batches, interleaved: the ratio of the
   median times, and the 10th and 90th percentiles of the per-batch ratios (the spread a
   single number hides on a shared machine).
2. Memory: the explorer alone (pool draw, masks, both networks scoring every (state, item))
   on B lists of K slots with a catalogue of ``catalogue_items`` items and random features:
   the peak resident memory it adds (Linux VmHWM reset through /proc/self/clear_refs).

    python -m benchmarks.distill_cost
    python -m benchmarks.distill_cost --smoke
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import distill  # noqa: F401  (registers the distillation methods)
from agents.data.batch import ListBatch
from agents.data.recall import PopularityRecall
from agents.learners.ddqn import DDQN, DDQNConfig
from agents.nn.qnetwork import STUDENT, TEACHER, QNetwork
from agents.training.config import Run, TrainConfig, load_scenario, seed_everything
from agents.training.networks import make_network
from agents.training.offline import offline_sampler
from benchmarks.harness.cli import Settings, parser, run_script
from benchmarks.harness.report import markdown_table
from benchmarks.harness.results import publish
from distill.explore import Explorer
from distill.options import DistillOptions
from distill.trainer import DistillTrainer
from rec_env.checks import check_range

PLAIN = "teacher + student DDQN"
"""the method of the plain updates' row"""


@dataclass
class Config(Settings):
    name = "distill_cost"

    dataset: str = "synthetic"
    """dataset of the timed steps"""
    batch_size: int = 256
    """lists per update (and per explored batch)"""
    pool_size: int = 1000
    """M, items drawn per list"""
    batches: int = 31
    """timed updates per method (medians and ratio percentiles are reported); one more
    warms up"""
    catalogue_items: int = 1_000_000
    """catalogue size of the memory measurement"""
    seed: int = 0
    """seed of networks, batches and pools"""

    def __post_init__(self) -> None:
        """:raises InputError: naming a count below 1."""
        super().__post_init__()
        check_range(self, ("batch_size", "pool_size", "batches", "catalogue_items"), low=1)


SMOKE = {
    "dataset": "synthetic-tiny",
    "batch_size": 16,
    "pool_size": 50,
    "batches": 2,
    "catalogue_items": 5000,
}


def step_times(config: Config) -> dict[str, np.ndarray]:
    """``[batches]`` seconds of each update, DRL-Rec and plain DDQN teacher + student, on the
    same batches in the same order."""
    train = TrainConfig(
        agent="drl-rec",
        dataset=config.dataset,
        seed=config.seed,
        learner=DDQNConfig(batch_size=config.batch_size),
        options=DistillOptions(pool_size=config.pool_size),
    )
    run = Run(train, Path("."), load_scenario(train), logger=None)
    generator = seed_everything(train)
    sampler = offline_sampler(run, generator)
    drl_rec = DistillTrainer(run)
    teacher = DDQN(make_network(run, TEACHER, mf_scale=0.25), train.learner)
    student = DDQN(make_network(run, STUDENT, mf_scale=0.25), train.learner)

    def plain(batch) -> None:
        teacher.update(batch)
        student.update(batch)

    updates = {PLAIN: plain, "drl-rec": drl_rec.update}
    seconds: dict[str, list[float]] = {name: [] for name in updates}
    for i in range(config.batches + 1):
        batch = sampler.sample(config.batch_size)
        for name, update in updates.items():
            start = time.perf_counter()
            update(batch)
            if i > 0:  # the first batch warms up
                seconds[name].append(time.perf_counter() - start)
    return {name: np.asarray(values) for name, values in seconds.items()}


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


@dataclass(frozen=True)
class ExploreInputs:
    """One explorer call's arguments: ``explorer.explore(lists, rows, slots, *pairs)``.

    :param pairs: ``((teacher, states [B, K, H_T]), (student, states [B, K, H_S]))``.
    """

    explorer: Explorer
    lists: ListBatch
    rows: torch.Tensor
    slots: torch.Tensor
    pairs: tuple

    def explore(self):
        return self.explorer.explore(self.lists, self.rows, self.slots, *self.pairs)


def explore_inputs(
    item_features: np.ndarray,
    user_features: np.ndarray,
    lists: ListBatch,
    counts: np.ndarray,
    pool_size: int,
    seed: int,
) -> ExploreInputs:
    """Teacher and student presets on these feature tables (``[n_items, F_i]``,
    ``[n_users, F_u]``), their states on ``lists`` and an explorer drawing ``pool_size``
    items per list by popularity ``counts [n_items]``, all seeded by ``seed``."""
    torch.manual_seed(seed)
    teacher = QNetwork(TEACHER, item_features, user_features)
    student = QNetwork(STUDENT, item_features, user_features)
    generator = torch.Generator().manual_seed(seed)
    explorer = Explorer(PopularityRecall(counts, generator), pool_size)
    rows, slots = torch.nonzero(lists.mask, as_tuple=True)
    with torch.no_grad():
        pairs = tuple((net, net.state(lists)) for net in (teacher, student))
    return ExploreInputs(explorer, lists, rows, slots, pairs)


def explorer_memory(config: Config) -> dict[str, float]:
    """Peak MiB the explorer adds, and the distinct pool items it scored per list."""
    rng = np.random.default_rng(config.seed)
    n_items, n_users, k = config.catalogue_items, 1000, 10
    item_features = rng.standard_normal((n_items, 4)).astype(np.float32)
    user_features = rng.standard_normal((n_users, 4)).astype(np.float32)
    b = config.batch_size
    lists = ListBatch(
        user_ids=torch.as_tensor(rng.integers(n_users, size=b)),
        items=torch.as_tensor(rng.integers(n_items, size=(b, k))),
        clicks=torch.as_tensor(rng.random((b, k)) < 0.2, dtype=torch.float32),
        mask=torch.ones(b, k, dtype=torch.bool),
    )
    counts = 1.0 / np.arange(1, n_items + 1)  # Zipf popularity
    inputs = explore_inputs(
        item_features, user_features, lists, counts, config.pool_size, config.seed
    )
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    before = _status_kib("VmRSS")
    result = inputs.explore()
    extra = (_status_kib("VmHWM") - before) / 1024
    return {"extra_peak_mib": extra, "distinct_items_per_list": float(result.pool.shape[1])}


def cost_table(times: dict[str, np.ndarray], memory: dict[str, float]) -> pd.DataFrame:
    """Tidy ``measure, method, value`` rows: each update's median seconds, DRL-Rec / plain
    (ratio of the medians, 10th and 90th percentiles of the per-batch ratios), the memory."""
    medians = {name: float(np.median(values)) for name, values in times.items()}
    per_batch = times["drl-rec"] / times[PLAIN]
    ratio = {
        "step_ratio": medians["drl-rec"] / medians[PLAIN],
        "step_ratio_p10": float(np.percentile(per_batch, 10)),
        "step_ratio_p90": float(np.percentile(per_batch, 90)),
    }
    explorer = {
        "explorer_extra_peak_mib": memory["extra_peak_mib"],
        "pool_distinct_items": memory["distinct_items_per_list"],
    }
    rows = [("step_s", name, value) for name, value in medians.items()]
    rows += [(name, "drl-rec / plain", value) for name, value in ratio.items()]
    rows += [(name, "drl-rec", value) for name, value in explorer.items()]
    return pd.DataFrame(rows, columns=["measure", "method", "value"])


def summary_text(config: Config, table: pd.DataFrame) -> str:
    """summary.md: what was timed and measured, then :func:`cost_table`'s rows."""
    return (
        "# Cost of DRL-Rec's exploration\n\n"
        f"Time: median of {config.batches} updates on batches of {config.batch_size} lists of "
        f"{config.dataset}, M = {config.pool_size} items drawn per list (popular recall), one CPU "
        "thread; the same batches for both, interleaved; `step_ratio` is the ratio of the "
        "medians, `step_ratio_p10` / `p90` the percentiles of the per-batch ratios. Memory: "
        "the explorer alone on "
        f"{config.batch_size} lists x 10 slots, a {config.catalogue_items:,}-item catalogue "
        "(Zipf popularity), teacher and student presets.\n\n"
        + markdown_table(table, floatfmt=".4g")
    )


def main(config: Config) -> pd.DataFrame:
    torch.set_num_threads(1)
    memory = explorer_memory(config)  # first: memory freed by the timed steps would hide it
    table = cost_table(step_times(config), memory)
    publish(config, table, summary_text(config, table))
    return table


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
