"""Teacher vs student efficiency: parameters, training throughput, per-request serving latency.

A request scores C candidates for each of K slots, greedily (slot t's state reads the t
items chosen so far), as :class:`agents.serving.GreedyRanker` does, on three backends:
``eager`` (the module), ``exported`` (its ``torch.export`` file) and ``onnxruntime`` (its
ONNX file on ONNX Runtime: one intra-op thread, sequential execution, every graph
optimisation; skipped, with the reason printed, without the extra ``serve``). One CPU thread;
latency is the median of timed repeats after warmup.

    python -m benchmarks.efficiency            # C=100, K=10, batch 1, 16 and 256
    python -m benchmarks.efficiency --smoke    # tiny sizes, about a minute (ONNX exports)
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from agents.data.logged import LoggedTransitions
from agents.learners.ddqn import DDQN, DDQNConfig
from agents.nn.qnetwork import STUDENT, TEACHER, QNetwork, QNetworkConfig
from agents.serving import GreedyRanker
from agents.serving_export import export_ranker, load_ranker
from agents.serving_onnx import export_onnx, load_onnx_ranker, missing_packages, session_options
from benchmarks.harness.cli import Settings, parser, run_script
from benchmarks.harness.report import markdown_table
from benchmarks.harness.results import parallel_map, publish
from rec_env.checks import InputError, check_choice, check_range, check_types
from rec_env.data import LoggedLists, load_dataset

METHODS = {"teacher": TEACHER, "student": STUDENT, "minimal": TEACHER.scaled(0.0)}
"""``minimal`` has the teacher's layers at the smallest widths (2, no factors): the same op
graph with next to no arithmetic, so its latency is the per-call overhead that no width cut
removes"""
BACKENDS = ("eager", "exported", "onnxruntime")
"""the module, its ``torch.export`` file, its ONNX file on ONNX Runtime"""
LATENCY_TARGET = 0.6
"""the student's latency should be at most this share of the teacher's"""


@dataclass
class Config(Settings):
    name = "efficiency"

    dataset: str = "synthetic"
    """dataset whose catalogue sizes the embedding tables"""
    n_candidates: int = 100
    """C, candidates scored per slot"""
    slate_size: int = 10
    """K, slots filled per request"""
    batch_sizes: tuple[int, ...] = (1, 16, 256)
    """requests per forward call"""
    backends: tuple[str, ...] = BACKENDS
    """what runs the ranker: eager, exported (torch.export), onnxruntime"""
    repeats: int = 30
    """timed calls per latency measurement (the median is reported)"""
    warmup: int = 3
    """untimed calls before each measurement"""
    train_steps: int = 20
    """timed DDQN updates per method for the training throughput (after one warmup)"""
    train_batch: int = 256
    """lists per DDQN update"""
    seed: int = 0
    """seed of the networks and the random requests"""
    jobs: int = 1
    """processes exporting the rankers (all exports end before any timing)"""

    def __post_init__(self) -> None:
        """:raises InputError: naming the field of a wrong type, out of range or unknown."""
        super().__post_init__()
        check_types(self)
        check_range(self, ("n_candidates", "slate_size", "repeats", "train_steps"), low=1)
        check_range(self, ("train_batch", "jobs"), low=1)
        check_range(self, ("warmup",), low=0)
        for backend in self.backends:
            check_choice("Config.backends", backend, BACKENDS)
        if not self.batch_sizes or min(self.batch_sizes) < 1:
            raise InputError(f"Config.batch_sizes must be ints >= 1, got {self.batch_sizes}")


SMOKE = {
    "dataset": "synthetic-tiny",
    "n_candidates": 12,
    "slate_size": 3,
    "batch_sizes": (1, 4),
    "repeats": 3,
    "warmup": 1,
    "train_steps": 2,
    "train_batch": 8,
}


def interleaved_seconds(
    calls: dict[Any, Callable[[], object]], warmup: int, repeats: int, rewarm: bool = False
) -> dict[Any, list[float]]:
    """Wall times (s) of ``repeats`` calls of each, timed in alternating rounds.

    Every round times each call once, so a change in the machine's load (the CPU is shared)
    hits all of them alike instead of whichever happened to run then.

    :param rewarm: call each one once untimed right before its timed call, so that the timing
        finds the caches holding that call's code and weights, as a server calling the same
        model again would, rather than the previous call's.
    """
    for call in calls.values():
        for _ in range(warmup):
            call()
    times: dict[Any, list[float]] = {key: [] for key in calls}
    for _ in range(repeats):
        for key, call in calls.items():
            if rewarm:
                call()
            start = time.perf_counter()
            call()
            times[key].append(time.perf_counter() - start)
    return times


def build(network_config: QNetworkConfig, lists: LoggedLists, config: Config) -> QNetwork:
    torch.manual_seed(config.seed)
    slots = max(network_config.max_slots, config.slate_size)
    return QNetwork(
        replace(network_config, max_slots=slots), lists.item_features, lists.user_features
    )


def train_ms(networks: dict[str, QNetwork], lists: LoggedLists, config: Config) -> dict[str, float]:
    """Median ms of one DDQN update (double target) of ``train_batch`` lists, per method."""
    calls = {}
    for method, network in networks.items():
        learner = DDQN(network, DDQNConfig(batch_size=config.train_batch))
        sampler = LoggedTransitions(lists, "double", 32, torch.Generator().manual_seed(config.seed))
        batches = iter([sampler.sample(config.train_batch) for _ in range(config.train_steps + 1)])
        calls[method] = lambda learner=learner, batches=batches: learner.update(next(batches))
    times = interleaved_seconds(calls, warmup=1, repeats=config.train_steps)
    return {method: 1e3 * statistics.median(seconds) for method, seconds in times.items()}


def requests(network: QNetwork, config: Config, batch: int) -> tuple[torch.Tensor, ...]:
    """``batch`` random requests: user ids, C distinct candidates each, all valid."""
    n_users, n_items = (
        len(t) for t in (network.fields.user_features, network.fields.item_features)
    )
    generator = torch.Generator().manual_seed(config.seed)
    users = torch.randint(0, n_users, (batch,), generator=generator)
    scores = torch.rand(batch, n_items, generator=generator)
    candidates = scores.argsort(dim=1)[:, : config.n_candidates]
    return users, candidates, torch.ones_like(candidates, dtype=torch.bool)


def export_files(network: QNetwork, folder: Path, method: str, config: Config) -> dict:
    """``{backend: file}``: the ranker exported for each backend that reads a file."""
    k, c, files = config.slate_size, config.n_candidates, {}
    if "exported" in config.backends:
        files["exported"] = export_ranker(network, folder / f"{method}.pt2", k, c)
    if "onnxruntime" in config.backends:
        files["onnxruntime"] = export_onnx(network, folder / f"{method}.onnx", k, c)
    return files


def rankers(networks: dict[str, QNetwork], config: Config, folder: Path) -> dict:
    """``{(method, backend): ranker}``, each called as ``(user_ids, candidates, valid)``.

    The exported graphs are timed bare, without the request checks of their loaders.
    """
    for network in networks.values():
        network.eval()
    cells = [(network, folder, method, config) for method, network in networks.items()]
    files = dict(zip(networks, parallel_map(export_files, cells, config.jobs), strict=True))
    load = {
        "exported": load_ranker,
        "onnxruntime": lambda f: load_onnx_ranker(f, session_options()),
    }
    out = {}
    for method, network in networks.items():
        if "eager" in config.backends:
            out[method, "eager"] = GreedyRanker(network, config.slate_size)
        out |= {(method, backend): load[backend](f).program for backend, f in files[method].items()}
    return out


def latency_rows(networks: dict[str, QNetwork], config: Config, folder: Path) -> list[dict]:
    """One row per (method, backend, batch size): median and least latency of a greedy ranking
    call, and the share of requests whose slate equals the eager ranker's."""
    ranking = rankers(networks, config, folder)
    rows = []
    for batch in config.batch_sizes:
        inputs = requests(next(iter(networks.values())), config, batch)
        calls = {key: lambda r=ranker, x=inputs: r(*x) for key, ranker in ranking.items()}
        with torch.no_grad():
            slates = {key: call()[0] for key, call in calls.items()}
            eager = {
                method: GreedyRanker(networks[method], config.slate_size)(*inputs)[0]
                for method in networks
            }
            times = interleaved_seconds(calls, config.warmup, config.repeats, rewarm=True)
        for (method, backend), seconds in times.items():
            ms = 1e3 * statistics.median(seconds)
            same = (slates[method, backend] == eager[method]).all(dim=1).float().mean()
            rows.append(
                {
                    "method": method,
                    "backend": backend,
                    "batch_size": batch,
                    "latency_ms": ms,
                    "latency_min_ms": 1e3 * min(seconds),
                    "latency_per_request_ms": ms / batch,
                    "requests_per_s": 1e3 * batch / ms,
                    "same_slate_as_eager": same.item(),
                }
            )
    return rows


def ratios(table: pd.DataFrame) -> pd.DataFrame:
    """Per backend and batch size: student / teacher ratio of every measurement, and the
    minimal network's latency over the teacher's (the share that is per-call overhead)."""
    keys = ["backend", "batch_size"]
    names = ("params", "train_lists_per_s", "latency_ms", "latency_min_ms")
    wide = table.pivot_table(index=keys, columns="method", values=list(names), sort=False)
    out = pd.DataFrame({name: wide[name]["student"] / wide[name]["teacher"] for name in names})
    out = out.rename(columns=lambda c: f"{c}_ratio")
    out["minimal_latency_share"] = wide["latency_ms"]["minimal"] / wide["latency_ms"]["teacher"]
    return out.reset_index()


def backend_note(config: Config) -> tuple[Config, str]:
    """``config`` without the onnxruntime backend if its packages are missing, and why."""
    missing = missing_packages()
    if "onnxruntime" not in config.backends or not missing:
        return config, ""
    note = (
        f"The onnxruntime backend is skipped: {', '.join(missing)} not installed "
        "(`pip install 'rec-listwise[serve]'`).\n\n"
    )
    print(note.strip())
    backends = tuple(b for b in config.backends if b != "onnxruntime")
    if not backends:
        raise InputError(f"Config.backends: nothing to time without onnxruntime; {note.strip()}")
    return replace(config, backends=backends), note


def answer(table: pd.DataFrame, ratio: pd.DataFrame) -> str:
    """In words: per batch size, the student / teacher latency ratio on the backend where the
    teacher is fastest, against :data:`LATENCY_TARGET`; and every backend's at the smallest
    batch."""
    teacher = table[table["method"] == "teacher"]
    fastest = teacher.loc[teacher.groupby("batch_size")["latency_ms"].idxmin()]
    best = ratio.merge(fastest[["backend", "batch_size"]], on=["backend", "batch_size"])
    per_batch = [
        f"batch {row.batch_size} on {row.backend}: {row.latency_ms_ratio:.2f} median, "
        f"{row.latency_min_ms_ratio:.2f} least "
        f"({'meets' if row.latency_ms_ratio <= LATENCY_TARGET else 'misses'} the target "
        "by the median)"
        for row in best.itertuples()
    ]
    smallest = ratio[ratio["batch_size"] == ratio["batch_size"].min()]
    parts = [
        f"{row.backend} {row.latency_ms_ratio:.2f} (minimal network: "
        f"{row.minimal_latency_share:.2f})"
        for row in smallest.itertuples()
    ]
    return (
        f"Student / teacher latency on the fastest backend (target <= {LATENCY_TARGET}): "
        + "; ".join(per_batch)
        + f".\n\nAt batch {smallest['batch_size'].iloc[0]}, student / teacher latency: "
        + "; ".join(parts)
        + ". The minimal network's share is the part of the teacher's time that no width cut "
        "removes; the lower it is on a backend, the more that backend shows the width "
        "difference.\n\n"
    )


def summary_text(config: Config, table: pd.DataFrame, note: str = "") -> str:
    """summary.md: what was timed, ``note`` (a skipped backend; empty: none), the table, the
    student / teacher ratios (:func:`ratios`) and :func:`answer`."""
    ratio = ratios(table)
    return (
        f"# Efficiency: student vs teacher ({table['dataset'].iloc[0]}, C={config.n_candidates}, "
        f"K={config.slate_size}, 1 CPU thread)\n\n"
        "Latency: median wall time of one call filling K slots greedily for `batch_size` "
        "requests (`latency_per_request_ms` = that / `batch_size`). Backends: `eager` is the "
        "PyTorch module, `exported` its `torch.export` file, `onnxruntime` its ONNX file on "
        "ONNX Runtime (one intra-op thread, sequential, all graph optimisations); the files "
        "are timed bare, without the request checks of their loaders. "
        "`same_slate_as_eager`: share of requests ranked exactly as the eager module does. "
        "`latency_min_ms`: the least of the same calls, the one that other jobs on the shared "
        "CPU disturbed least (their time slices land inside some calls and lengthen the "
        "longer calls more often). Each timed call follows an untimed call of the same "
        "ranker, so it finds its code and weights in the caches. "
        "Training: median time of one DDQN update (double target). The calls alternate, so "
        "load changes on the shared CPU hit all alike. `minimal` is the teacher at every "
        "width's minimum (2): its latency is the fixed per-op cost of the layer graph. "
        f"Targets: student params <= 0.5 and latency <= {LATENCY_TARGET} of the teacher's.\n\n"
        + note
        + markdown_table(table)
        + "\n## Student / teacher\n\n"
        + markdown_table(ratio)
        + "\n"
        + answer(table, ratio)
    )


def main(config: Config) -> pd.DataFrame:
    torch.set_num_threads(1)
    config, note = backend_note(config)
    dataset = load_dataset(config.dataset)
    lists = LoggedLists.from_dataset(dataset)
    networks = {method: build(preset, lists, config) for method, preset in METHODS.items()}
    update_ms = train_ms(networks, lists, config)
    with tempfile.TemporaryDirectory() as folder:
        table = pd.DataFrame(latency_rows(networks, config, Path(folder)))
    table.insert(1, "params", table["method"].map({m: n.n_params() for m, n in networks.items()}))
    lists_per_s = {m: 1e3 * config.train_batch / ms for m, ms in update_ms.items()}
    table.insert(2, "train_lists_per_s", table["method"].map(lists_per_s))
    table.insert(0, "dataset", dataset.name)
    publish(config, table, summary_text(config, table, note))
    return table


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
