"""`atomic_write`: the new file on success (file and folder fsynced); on failure the old file
and no temporary file. `keep_previous`: the old file kept beside the new one."""

import os
import stat

import pytest
import torch

from agents.training.checkpoint import load_checkpoint, save_checkpoint
from rec_env.files import atomic_write, keep_previous


def test_success_writes_the_file_and_creates_its_folder(tmp_path):
    path = tmp_path / "new" / "model.pt"
    with atomic_write(path) as tmp:
        assert tmp.parent == path.parent and not tmp.exists()
        torch.save({"w": torch.arange(3)}, tmp)
    assert torch.equal(torch.load(path, weights_only=True)["w"], torch.arange(3))
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]


def test_success_replaces_the_previous_file(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"old")
    with atomic_write(path) as tmp:
        tmp.write_bytes(b"new")
    assert path.read_bytes() == b"new" and list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("written", [b"", b"partial"])
def test_an_error_in_the_body_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path, written):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="crash"), atomic_write(path) as tmp:
        if written:
            tmp.write_bytes(written)
        raise RuntimeError("crash")
    assert path.read_bytes() == b"old" and list(tmp_path.iterdir()) == [path]


def test_a_body_that_writes_nothing_fails_and_leaves_nothing(tmp_path):
    path = tmp_path / "out.zip"
    with pytest.raises(FileNotFoundError), atomic_write(path):
        pass
    assert list(tmp_path.iterdir()) == []


def test_temporary_name_has_a_suffix_so_savers_do_not_add_one(tmp_path):
    with atomic_write(tmp_path / "ppo_model.zip") as tmp:
        assert tmp.name.startswith(".ppo_model.zip.") and tmp.suffix == ".tmp"
        tmp.write_bytes(b"zip")


def test_a_failed_checkpoint_keeps_the_previous_one_and_no_temporary_file(tmp_path):
    path = save_checkpoint(tmp_path / "checkpoint.pt", {"step": 1})
    with pytest.raises(Exception, match="pickle"):
        save_checkpoint(path, {"step": 2, "code": lambda: None})  # not picklable
    assert load_checkpoint(path)["step"] == 1 and list(tmp_path.iterdir()) == [path]


def test_the_file_then_its_folder_are_fsynced(tmp_path, monkeypatch):
    synced, fsync = [], os.fsync

    def record(descriptor):
        synced.append(stat.S_ISDIR(os.fstat(descriptor).st_mode))
        fsync(descriptor)

    monkeypatch.setattr(os, "fsync", record)
    with atomic_write(tmp_path / "data.bin") as tmp:
        tmp.write_bytes(b"new")
    assert synced == [False, True]


def _no_hard_links(source, target):
    raise OSError("hard links not supported")


@pytest.mark.parametrize("has_previous", [True, False])
@pytest.mark.parametrize("hard_links", [True, False])
def test_keep_previous_keeps_the_current_file(tmp_path, monkeypatch, has_previous, hard_links):
    if not hard_links:
        monkeypatch.setattr(os, "link", _no_hard_links)  # then it copies
    path, previous = tmp_path / "checkpoint.pt", tmp_path / "checkpoint.prev.pt"
    if has_previous:
        previous.write_bytes(b"older")
    path.write_bytes(b"old")
    keep_previous(path, previous)
    with atomic_write(path) as tmp:
        tmp.write_bytes(b"new")
    assert (previous.read_bytes(), path.read_bytes()) == (b"old", b"new")
    assert sorted(tmp_path.iterdir()) == [previous, path]
