"""The training progress bar ends with its count equal to its total, equal to the updates done
(an online run goes past ``steps`` to the end of its round of lists)."""

import re

import pytest
from agents_testing import tiny_config

from agents.train import run
from agents.training.loop import read_checkpoint


def last_bar_count(stderr: str, desc: str) -> tuple[int, int]:
    """``(n, total)`` of the last frame tqdm drew of the bar called ``desc`` (a bar past its
    total draws ``"{n}it"`` instead, and fails here)."""
    frames = [line for line in stderr.replace("\r", "\n").splitlines() if line.startswith(desc)]
    assert frames, f"no {desc!r} bar in the output"
    count = re.search(r"\| (\d+)/(\d+) \[", frames[-1])
    assert count, f"the bar ends without a total: {frames[-1]!r}"
    return int(count[1]), int(count[2])


@pytest.mark.parametrize("mode, steps", [("offline", 6), ("online", 6), ("online", 11)])
def test_the_bar_ends_at_its_total_and_counts_the_updates(tmp_path, capsys, mode, steps):
    config = tiny_config(tmp_path, mode=mode, steps=steps, eval_every=100, checkpoint_every=100)
    result = run(config)
    updates = read_checkpoint(result.dir)["step"]
    assert updates >= steps  # online: K = 10 updates per round, the first round has one
    assert last_bar_count(capsys.readouterr().err, f"teacher {mode}") == (updates, updates)
