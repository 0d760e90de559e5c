"""Checkpoint files carry a sha256 header: a damaged file is refused naming it, and a reader
given the previous checkpoint falls back to it with a warning naming both files."""

import io
from dataclasses import dataclass, replace

import pytest
import torch
from agents_testing import tiny_config

from agents.train import run
from agents.training.checkpoint import (
    CheckpointFallbackWarning,
    CorruptCheckpointError,
    load_checkpoint,
    previous_path,
    save_checkpoint,
)
from agents.training.logger import ScalarLogger
from agents.training.loop import CHECKPOINT_NAME, PREVIOUS_CHECKPOINT_NAME


def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _flip_a_byte(data: bytes) -> bytes:
    middle = len(data) * 2 // 3  # inside the payload, past the header line
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


def _drop_the_header(data: bytes) -> bytes:
    return data[data.index(b"\n") + 1 :]  # what a plain torch.save writes


def _empty(data: bytes) -> bytes:
    return b""


DAMAGES = [
    pytest.param(_truncate, "is truncated", id="truncated"),
    pytest.param(_flip_a_byte, "is corrupted: its sha256 does not match", id="flipped-byte"),
    pytest.param(_drop_the_header, "has no checksum header", id="missing-checksum"),
    pytest.param(_empty, r"is empty \(0 bytes\)", id="empty"),
]


def _damage(path, damage) -> None:
    path.write_bytes(damage(path.read_bytes()))


def _state(step: int) -> dict:
    return {"step": step, "weights": torch.arange(1000, dtype=torch.float32) * step}


@pytest.fixture
def two_checkpoints(tmp_path):
    """``checkpoint.pt`` of step 2 with ``checkpoint.prev.pt`` of step 1."""
    path = tmp_path / "checkpoint.pt"
    for step in (1, 2):
        save_checkpoint(path, _state(step), previous_path(path))
    return path, previous_path(path)


def test_round_trip_and_rotation(two_checkpoints):
    path, previous = two_checkpoints
    assert previous.name == "checkpoint.prev.pt"
    assert torch.equal(load_checkpoint(path)["weights"], _state(2)["weights"])
    assert load_checkpoint(previous)["step"] == 1
    assert sorted(p.name for p in path.parent.iterdir()) == [previous.name, path.name]


@pytest.mark.parametrize(("damage", "message"), DAMAGES)
def test_a_damaged_checkpoint_is_refused_naming_the_file(tmp_path, damage, message):
    path = save_checkpoint(tmp_path / "best.pt", _state(1))
    _damage(path, damage)
    with pytest.raises(CorruptCheckpointError, match=f"checkpoint {path} {message}"):
        load_checkpoint(path)


@pytest.mark.parametrize(("damage", "message"), DAMAGES)
def test_a_damaged_checkpoint_falls_back_to_the_previous_one(two_checkpoints, damage, message):
    path, previous = two_checkpoints
    _damage(path, damage)
    expected = f"checkpoint {path} {message}.*loaded the previous checkpoint {previous} instead"
    with pytest.warns(CheckpointFallbackWarning, match=expected):
        assert load_checkpoint(path, previous)["step"] == 1


def test_a_missing_checkpoint_falls_back_and_neither_raises(two_checkpoints, tmp_path):
    path, previous = two_checkpoints
    path.unlink()
    with pytest.warns(CheckpointFallbackWarning, match=f"{path}.*{previous}"):
        assert load_checkpoint(path, previous)["step"] == 1
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "none.pt")):
        load_checkpoint(tmp_path / "none.pt", tmp_path / "none.prev.pt")


@pytest.mark.parametrize(("damage", "message"), DAMAGES[:2])
def test_when_both_are_damaged_the_error_names_both(two_checkpoints, damage, message):
    path, previous = two_checkpoints
    _damage(path, damage)
    _damage(previous, _empty)
    with pytest.raises(CorruptCheckpointError, match=f"{path} {message}.*{previous} is empty"):
        load_checkpoint(path, previous)


def test_a_damaged_checkpoint_is_not_rotated_over_the_good_previous_one(two_checkpoints):
    path, previous = two_checkpoints
    _damage(path, _flip_a_byte)
    save_checkpoint(path, _state(3), previous)
    assert load_checkpoint(path)["step"] == 3 and load_checkpoint(previous)["step"] == 1


@dataclass
class _Code:
    """Not a tensor or primitive: torch.save pickles it, weights_only=True refuses it."""

    value: int = 1


def test_a_payload_with_code_is_refused_although_its_checksum_matches(tmp_path):
    path = save_checkpoint(tmp_path / "checkpoint.pt", {"object": _Code()})
    with pytest.raises(CorruptCheckpointError, match=f"{path} cannot be loaded with weights_only"):
        load_checkpoint(path)


def test_a_plain_torch_file_is_refused_not_unpickled(tmp_path):
    path = tmp_path / "checkpoint.pt"
    buffer = io.BytesIO()
    torch.save({"step": 1}, buffer)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(CorruptCheckpointError, match="has no checksum header"):
        load_checkpoint(path)


def test_resume_falls_back_to_the_previous_checkpoint_and_still_equals_a_straight_run(
    tmp_path,
):
    config = tiny_config(tmp_path, steps=4)  # checkpoints at 2 and 4
    straight = run(replace(config, steps=6))
    first_leg = run(config)
    path = first_leg.dir / CHECKPOINT_NAME
    _damage(path, _flip_a_byte)
    with pytest.warns(CheckpointFallbackWarning, match=PREVIOUS_CHECKPOINT_NAME):
        resumed = run(replace(config, steps=6), resume_dir=first_leg.dir)
    assert resumed.metrics["resumed_from"] == 2
    assert resumed.metrics["test"] == straight.metrics["test"]
    assert load_checkpoint(path)["step"] == 6 and load_checkpoint(previous_path(path))["step"] == 4


def test_resume_refuses_a_damaged_checkpoint_without_a_previous_one(tmp_path):
    first_leg = run(tiny_config(tmp_path, steps=2))  # one checkpoint only
    path = first_leg.dir / CHECKPOINT_NAME
    _damage(path, _truncate)
    with pytest.raises(CorruptCheckpointError, match=f"checkpoint {path} is truncated"):
        run(tiny_config(tmp_path, steps=4), resume_dir=first_leg.dir)


@pytest.mark.parametrize("torn", ["", "7,losses/lo", "1"])
def test_the_scalar_log_drops_a_line_cut_short_by_a_kill(tmp_path, torn):
    (tmp_path / "scalars.csv").write_text(f"step,tag,value\n1,a,0.5\n6,a,0.25\n{torn}")
    ScalarLogger(tmp_path, resume_step=6).close()
    rows = (tmp_path / "scalars.csv").read_text().splitlines()
    assert rows == ["step,tag,value", "1,a,0.5", "6,a,0.25"]
