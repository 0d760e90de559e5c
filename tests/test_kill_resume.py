"""A training CLI killed with SIGKILL mid-run and resumed with ``--resume`` ends exactly as an
uninterrupted run with the same seed: the same metrics, scalars and final state, bit for bit
(CPU, one thread)."""

import glob
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from agents_testing import tensors_of

import distill.train
from agents.train import main as train_main
from agents.training.checkpoint import load_checkpoint
from agents.training.loop import CHECKPOINT_NAME

STEPS = 30
TINY = ["--dataset", "synthetic-tiny", "--width", "0.25", "--batch-size", "16", "--seed", "3",
        "--steps", str(STEPS), "--checkpoint-every", "5", "--eval-every", "10", "--log-every", "5",
        "--eval-lists", "20", "--eval-envs", "10", "--num-candidates", "20"]  # fmt: skip
ONLINE = ["--mode", "online", "--agent", "student", "--num-envs", "4", "--buffer-lists", "50",
          "--learning-starts", "8", "--exploration-steps", "20"]  # fmt: skip
MAINS = {"agents.train": train_main, "distill.train": distill.train.main}
UNTIMED = {"run_dir", "run_seconds", "resumed_from"}
"""metrics.json keys that differ between two runs of the same config"""
START_TIMEOUT = 300
"""seconds to wait for the first checkpoint: a hang guard only, never reached by a healthy run"""


def _kill_once(module: str, argv: list[str], out: Path, wait_for: str) -> Path:
    """Start ``python -m module``, SIGKILL it once ``wait_for`` exists in its run folder;
    return the folder."""
    command = [sys.executable, "-m", module, *argv, "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + START_TIMEOUT
    while not glob.glob(str(out / "*" / wait_for)):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no {wait_for} before exit {process.wait()}: {process.stderr.read()}")
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL  # killed, not finished
    process.stderr.close()
    (folder,) = out.iterdir()
    assert not (folder / "metrics.json").exists()
    return folder


def _main(module: str, argv: list[str], capsys) -> dict:
    """Run the CLI in-process; its printed metrics, less the keys that differ between runs."""
    MAINS[module](argv)
    metrics = json.loads(capsys.readouterr().out)
    return {key: value for key, value in metrics.items() if key not in UNTIMED} | {
        "run_dir": Path(metrics["run_dir"]),
        "resumed_from": metrics["resumed_from"],
    }


@pytest.mark.parametrize(
    ("module", "argv", "wait_for"),
    [
        pytest.param("agents.train", ["--agent", "teacher"], CHECKPOINT_NAME, id="teacher"),
        pytest.param(
            "distill.train", ["--method", "drl-rec", "--pool-size", "30"], CHECKPOINT_NAME,
            id="drl-rec", marks=pytest.mark.slow,
        ),
        pytest.param(
            "agents.train", ONLINE, CHECKPOINT_NAME, id="online-student", marks=pytest.mark.slow
        ),
        pytest.param(  # after two checkpoints and best.pt: the kill may land mid-rotation
            "distill.train", ["--method", "drl-rec", "--pool-size", "30"], "checkpoint.prev.pt",
            id="drl-rec-later", marks=pytest.mark.slow,
        ),
    ],
)  # fmt: skip
def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path, capsys, module, argv, wait_for):
    killed = _kill_once(module, [*argv, *TINY], tmp_path / "killed", wait_for)
    resumed = _main(module, ["--resume", str(killed)], capsys)
    straight = _main(module, [*argv, *TINY, "--out", str(tmp_path / "straight")], capsys)
    assert 5 <= resumed.pop("resumed_from") < STEPS and straight.pop("resumed_from") is None
    folders = resumed.pop("run_dir"), straight.pop("run_dir")
    assert resumed == straight  # valid, test and online metrics, selected step: bit-identical
    scalars = [(folder / "scalars.csv").read_text() for folder in folders]
    assert scalars[0] == scalars[1]
    states = [tensors_of(load_checkpoint(folder / CHECKPOINT_NAME)) for folder in folders]
    assert states[0].keys() == states[1].keys()
    assert [name for name in states[0] if not states[0][name].equal(states[1][name])] == []
