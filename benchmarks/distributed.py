"""Data-parallel training throughput: the same offline run in 1 and in 2 processes.

For the teacher (``python -m agents.train``, DDQN) and DRL-Rec (``python -m distill.train``),
one offline training config (global batch of ``batch_size`` lists, ``steps`` updates, one torch
thread per process, no MF warm start, no evaluation or best-network selection during training,
no online evaluation) runs as an ordinary process and under
``python -m torch.distributed.run --standalone --nproc_per_node=2 ... --distributed`` (gloo on
CPU: each rank learns on half of every global batch, :mod:`agents.training.distributed`).

Timed: ``run_seconds`` of the run's ``metrics.json`` (rank 0), i.e. building the networks, the
``steps`` updates and writing the final checkpoint; not the interpreter start, imports, the
dataset load, the process-group set-up or the final evaluation (``wall_s`` is the whole
command). Reported: lists/s (``steps * batch_size / run_seconds``), the speed-up 2p / 1p and
the largest absolute difference between the final online-network parameters of the two runs
(from their checkpoints).

    python -m benchmarks.distributed
    python -m benchmarks.distributed --smoke
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from torch import Tensor

from agents.training.loop import read_checkpoint
from agents.training.runner import read_metrics
from benchmarks.harness.cli import Settings, parser, run_script
from benchmarks.harness.report import markdown_table
from benchmarks.harness.results import publish

TRAINERS = {
    "teacher": ["agents.train", "--agent", "teacher"],
    "drl-rec": ["distill.train", "--method", "drl-rec"],
}
"""each benchmarked agent's module and the flags that choose it"""
NO_EVALUATION = 10**9
"""``--eval-every`` and ``--checkpoint-every`` beyond any run: one checkpoint, at the end"""


@dataclass
class Config(Settings):
    name = "distributed"

    dataset: str = "synthetic-gap"
    """dataset of every run"""
    steps: int = 100
    """updates per run"""
    batch_size: int = 256
    """lists in the global batch (each of 2 processes learns on half)"""
    seed: int = 0
    """seed of every run (networks, batches)"""


SMOKE = {
    "dataset": "synthetic-tiny",
    "steps": 4,
    "batch_size": 16,
}


def train_command(trainer: list[str], processes: int, flags: list[str]) -> list[str]:
    """The command line of one run: ``python -m <trainer> <flags>``, or with several processes
    the same under ``torch.distributed.run`` with ``--distributed``."""
    if processes == 1:
        return [sys.executable, "-m", *trainer, *flags]
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    return [sys.executable, *launcher, "-m", *trainer, *flags, "--distributed"]


def train_flags(config: Config, out: Path) -> list[str]:
    """The flags shared by every run: the benchmark's config, nothing between the updates."""
    return [
        *("--dataset", config.dataset, "--seed", str(config.seed), "--steps", str(config.steps)),
        *("--batch-size", str(config.batch_size), "--threads", "1", "--no-mf-warm-start"),
        *("--eval-every", str(NO_EVALUATION), "--checkpoint-every", str(NO_EVALUATION)),
        *("--no-select-best", "--eval-lists", "0", "--out", str(out)),
    ]


def network_parameters(state: dict, prefix: str = "") -> dict[str, Tensor]:
    """Every online network's tensors in a checkpoint's ``trainable`` state, by path (a DDQN's
    ``network/...``; a distiller's ``teacher/network/...`` and ``student/network/...``)."""
    found: dict[str, Tensor] = {}
    for key, value in state.items():
        if key == "network":
            found.update({f"{prefix}network/{name}": t for name, t in value.items()})
        elif isinstance(value, dict):
            found.update(network_parameters(value, f"{prefix}{key}/"))
    return found


def max_abs_difference(a: dict[str, Tensor], b: dict[str, Tensor]) -> float:
    """The largest ``|a - b|`` over tensors of the same paths (``a`` and ``b`` name the same)."""
    if a.keys() != b.keys():
        raise ValueError(f"different tensors: {sorted(a.keys() ^ b.keys())}")
    return max(float((a[name].double() - b[name].double()).abs().max()) for name in a)


def train(command: list[str], out: Path) -> tuple[dict, dict[str, Tensor], float]:
    """Run ``command`` (its runs go to ``out``): its metrics, final networks and wall seconds."""
    start = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    wall = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-4000:]}")
    (folder,) = [path for path in out.iterdir() if path.is_dir()]
    metrics = read_metrics(folder)
    return metrics, network_parameters(read_checkpoint(folder)["trainable"]), wall


def compare(agent: str, config: Config, scratch: Path) -> dict:
    """One table row: ``agent`` trained by 1 and by 2 processes."""
    row: dict = {"agent": agent, "steps": config.steps, "global_batch": config.batch_size}
    networks = {}
    for processes in (1, 2):
        out = scratch / f"{agent}-{processes}p"
        command = train_command(TRAINERS[agent], processes, train_flags(config, out))
        print(" ".join(command), flush=True)
        metrics, networks[processes], wall = train(command, out)
        seconds = metrics["run_seconds"]
        row[f"train_s_{processes}p"] = seconds
        row[f"lists_per_s_{processes}p"] = config.steps * config.batch_size / seconds
        row[f"wall_s_{processes}p"] = wall
    row["speedup_2p_1p"] = row["lists_per_s_2p"] / row["lists_per_s_1p"]
    row["max_abs_param_diff"] = max_abs_difference(networks[1], networks[2])
    return row


def summarise(table: pd.DataFrame, config: Config) -> str:
    cores, load = os.cpu_count(), os.getloadavg()[0]
    return (
        "# Data-parallel training: 1 vs 2 processes\n\n"
        f"Offline training on {config.dataset}, global batch {config.batch_size} lists, "
        f"{config.steps} updates, seed {config.seed}, one torch thread per process, gloo on CPU; "
        "2 processes under `python -m torch.distributed.run --nproc_per_node=2 ... "
        "--distributed`, each learning on half of every batch. `train_s`: the run's "
        "`run_seconds` (building the networks, the updates, the final checkpoint; not start-up, "
        "dataset load or the final evaluation); `wall_s`: the whole command. "
        "`max_abs_param_diff`: the largest absolute difference between the final online "
        "networks of the 1- and 2-process runs (for DRL-Rec, teacher and student). The presets "
        "use dropout and each rank draws its own masks, so the two runs part by that noise, "
        "which Adam turns into steps of up to about the learning rate (3e-3 for the factor "
        "embeddings) per update whatever the gradient's size; without dropout they agree to "
        "~1e-8 (`tests/test_distributed.py`).\n\n"
        f"Machine: {cores} CPU cores, 1-minute load average {load:.2f} at the end. 2 processes "
        f"on {cores} cores is the most this machine can show: the speed-up with more processes "
        "(or nodes) is not measured here.\n\n" + markdown_table(table, floatfmt=".4g")
    )


def main(config: Config) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as scratch:
        table = pd.DataFrame([compare(agent, config, Path(scratch)) for agent in TRAINERS])
    summary = summarise(table, config)
    publish(config, table, summary)
    return table


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
