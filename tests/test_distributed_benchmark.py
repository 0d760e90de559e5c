"""The 1- vs 2-process training benchmark: its launch commands, the parameter comparison, and
a smoke run."""

import sys

import pytest
import torch

from benchmarks.distributed import (
    main,
    max_abs_difference,
    network_parameters,
    parse_args,
    train_command,
)


def test_two_processes_launch_under_torch_distributed_run():
    trainer = ["distill.train", "--method", "drl-rec"]
    assert train_command(trainer, 1, ["--steps", "4"]) == [
        sys.executable,
        *("-m", "distill.train", "--method", "drl-rec", "--steps", "4"),
    ]
    assert train_command(trainer, 2, ["--steps", "4"]) == [
        sys.executable,
        *("-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"),
        *("-m", "distill.train", "--method", "drl-rec", "--steps", "4", "--distributed"),
    ]


def test_only_online_networks_are_compared():
    def state(shift: float) -> dict:
        learner = {
            "network": {"w": torch.zeros(2) + shift},
            "target_network": {"w": torch.full((2,), 9.0)},
            "optimizer": {"state": {0: {"exp_avg": torch.full((2,), shift * 7)}}},
        }
        return {"teacher": learner, "student": {**learner, "network": {"w": torch.ones(3)}}}

    networks = network_parameters(state(0.25))
    assert set(networks) == {"teacher/network/w", "student/network/w"}
    assert max_abs_difference(network_parameters(state(0.0)), networks) == 0.25
    with pytest.raises(ValueError, match="different tensors"):
        max_abs_difference(networks, {"teacher/network/w": torch.zeros(2)})


@pytest.mark.slow
def test_smoke_run_times_both_agents_in_one_and_two_processes(tmp_path):
    table = main(parse_args(["--smoke", "--out-dir", str(tmp_path)])).set_index("agent")
    assert list(table.index) == ["teacher", "drl-rec"]
    for processes in ("1p", "2p"):
        assert (table[f"train_s_{processes}"] > 0).all()
        assert (table[f"wall_s_{processes}"] > table[f"train_s_{processes}"]).all()
    speedup = table["lists_per_s_2p"] / table["lists_per_s_1p"]
    assert table["speedup_2p_1p"].tolist() == pytest.approx(speedup.tolist())
    assert (table["max_abs_param_diff"] < 1.0).all()
    assert (tmp_path / "summary.md").read_text().startswith("# Data-parallel training")
