"""Data-parallel training (agents.training.distributed): sharding, refusals, and a 2-process
run against a 1-process run with the same global batch."""

from __future__ import annotations

import socket
from dataclasses import fields, replace

import pytest
import torch
import torch.multiprocessing as mp
from agents_testing import TINY, tiny_config, tiny_lists

from agents.data.logged import LoggedTransitions
from agents.learners.ddqn import DDQN
from agents.training import AgentSpec, register
from agents.training.distributed import ShardedTransitions, World, init_world, learners_of
from agents.training.loop import read_checkpoint
from agents.training.networks import make_network
from agents.training.runner import run
from rec_env.checks import InputError

NO_DROPOUT = replace(TINY, dropout=0.0)
"""dropout masks come from each rank's own RNG stream, so only a dropout-free network can
match a 1-process run"""
register(
    "test-ddp-teacher",
    AgentSpec(
        modes=("offline",),
        make_trainable=lambda r: DDQN(make_network(r, NO_DROPOUT, 0.25), r.config.learner),
    ),
    overwrite=True,
)
PARAMETER_ATOL = 1e-5
"""float32 gradients summed in another order (two half-batch means all-reduced vs one
full-batch mean) differ by ~1e-7 relative; Adam steps of 2e-4 over 6 updates keep the
parameters within 1e-5"""


@pytest.mark.parametrize("size", [1, 2, 4])
def test_shards_partition_the_global_batch(size):
    parts = [World(rank, size).shard(16) for rank in range(size)]
    assert [i for part in parts for i in range(16)[part]] == list(range(16))


def test_batch_size_not_a_multiple_of_the_world_is_refused():
    with pytest.raises(InputError, match=r"batch_size \(10\).*multiple.*\(4\)"):
        World(1, 4).shard(10)


@pytest.mark.parametrize("target", ["double", "logged"])
@pytest.mark.parametrize("size", [2, 4])
def test_rank_batches_concatenate_to_the_one_process_batch(target, size):
    lists = tiny_lists()
    alone = LoggedTransitions(lists, target, 4, torch.Generator().manual_seed(3))
    ranks = [
        ShardedTransitions(lists, target, 4, torch.Generator().manual_seed(3), World(r, size), 8)
        for r in range(size)
    ]
    for _ in range(3):  # the generators stay in step across draws
        whole = alone.sample(8)
        parts = [sampler.sample(8) for sampler in ranks]
        for field in fields(whole):
            if field.name != "lists":
                expected = getattr(whole, field.name)
                assert torch.equal(torch.cat([getattr(p, field.name) for p in parts]), expected)
        assert torch.equal(torch.cat([p.lists.items for p in parts]), whole.lists.items)


def test_a_sharded_sampler_refuses_another_batch_size():
    sampler = ShardedTransitions(tiny_lists(), "logged", 4, torch.Generator(), World(0, 2), 8)
    with pytest.raises(ValueError, match="global batches of 8"):
        sampler.sample(6)


@pytest.mark.parametrize("missing", ["RANK", "MASTER_PORT"])
def test_distributed_outside_torchrun_names_the_missing_variable(missing):
    environ = {
        "RANK": "0",
        "WORLD_SIZE": "2",
        "LOCAL_RANK": "0",
        "MASTER_ADDR": "h",
        "MASTER_PORT": "1",
    }
    del environ[missing]
    with pytest.raises(InputError, match=f"{missing} missing.*torchrun --nproc_per_node"):
        init_world(environ)


def test_a_non_integer_rank_is_named():
    environ = {
        "RANK": "x",
        "WORLD_SIZE": "2",
        "LOCAL_RANK": "0",
        "MASTER_ADDR": "h",
        "MASTER_PORT": "1",
    }
    with pytest.raises(InputError, match="RANK must be an integer, got 'x'"):
        init_world(environ)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mode": "online"}, "offline only"),
        ({"agent": "popularity"}, "'popularity' is fitted"),
        ({"learner": replace(tiny_config(".").learner, batch_size=15)}, r"batch_size \(15\)"),
    ],
)
def test_what_several_processes_cannot_run_is_refused_before_any_folder(tmp_path, changes, message):
    with pytest.raises(InputError, match=message):
        run(tiny_config(tmp_path, **changes), world=World(0, 2))
    assert list(tmp_path.iterdir()) == []


def test_a_trainable_without_learners_cannot_average_gradients():
    with pytest.raises(InputError, match="object is not a Learner"):
        learners_of(object())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _train_rank(rank: int, size: int, port: int, config) -> None:
    """One torchrun-like process: the variables torchrun sets, then the runner."""
    import os

    os.environ.update(
        RANK=str(rank),
        WORLD_SIZE=str(size),
        LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    world = init_world()
    try:
        run(config, world=world)
    finally:
        torch.distributed.destroy_process_group()


def final_network(folder) -> dict[str, torch.Tensor]:
    (path,) = [p for p in folder.iterdir() if p.is_dir()]
    return read_checkpoint(path)["trainable"]["network"]


@pytest.mark.slow
@pytest.mark.parametrize("target", ["double", "logged"])
def test_two_processes_match_one_with_the_same_global_batch(tmp_path, target):
    config = tiny_config(tmp_path, agent="test-ddp-teacher", select_best=False)
    config = replace(config, learner=replace(config.learner, target=target))
    run(replace(config, out=str(tmp_path / "one")))
    two = replace(config, out=str(tmp_path / "two"))
    mp.spawn(_train_rank, args=(2, _free_port(), two), nprocs=2, join=True)
    alone, together = final_network(tmp_path / "one"), final_network(tmp_path / "two")
    gap = max(float((together[name] - tensor).abs().max()) for name, tensor in alone.items())
    print(f"max abs parameter difference, 2 vs 1 process ({target}): {gap:.3g}")
    assert gap <= PARAMETER_ATOL
