"""Checkpoint files: checksummed, written atomically, loaded with ``weights_only=True``.

A checkpoint file is one header line, then the ``torch.save`` bytes of the state::

    rec-checkpoint sha256=<64 hex digits of the payload> bytes=<payload length>\\n
    <payload>

:func:`load_checkpoint` checks both before unpickling: an empty, truncated or corrupted file,
or one without the header, raises :class:`CorruptCheckpointError` naming the file; given the
path of a previous checkpoint (:func:`previous_path`, kept by :func:`save_checkpoint`), it
falls back to that one instead, with a :class:`CheckpointFallbackWarning` naming both files.
Only tensors and primitive containers go in, so loading never unpickles code. What a
training checkpoint holds is the loop's business (:mod:`agents.training.loop`).
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from pathlib import Path

import torch

from rec_env.checks import InputError
from rec_env.files import atomic_write, keep_previous

HEADER = re.compile(rb"rec-checkpoint sha256=([0-9a-f]{64}) bytes=([0-9]+)\n")
"""the first line of a checkpoint file"""
HEADER_MAX_BYTES = 128
"""no header line is longer"""


class CorruptCheckpointError(InputError):
    """A checkpoint file is empty, truncated, corrupted or has no checksum header."""


class CheckpointFallbackWarning(UserWarning):
    """A checkpoint was unusable and the previous one was loaded instead."""


def previous_path(path: str | Path) -> Path:
    """Where :func:`save_checkpoint` keeps the previous checkpoint: ``checkpoint.prev.pt``
    beside ``checkpoint.pt``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.prev{path.suffix}")


def save_checkpoint(path: str | Path, state: dict, previous: str | Path | None = None) -> Path:
    """Write ``state`` (tensors and primitives) to ``path`` with its checksum header.

    Written with :func:`~rec_env.files.atomic_write` (fsynced, renamed, folder fsynced): a
    crash mid-write leaves the previous file intact and no temporary file behind.

    :param previous: where to keep the file ``path`` holds now, if it is intact (rotated
        atomically before the new one is written; at every instant both files are complete).
        None: the old file is simply replaced.
    """
    path = Path(path)
    if previous is not None and path.is_file() and _verify(path.read_bytes()) is None:
        keep_previous(path, previous)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    header = f"rec-checkpoint sha256={hashlib.sha256(payload).hexdigest()} bytes={len(payload)}\n"
    with atomic_write(path) as tmp:
        tmp.write_bytes(header.encode() + payload)
    return path


def load_checkpoint(path: str | Path, previous: str | Path | None = None) -> dict:
    """The checkpoint at ``path`` (tensors and primitives only), its checksum verified.

    :param previous: a checkpoint to load instead if ``path`` is missing or unusable (with a
        :class:`CheckpointFallbackWarning` naming both files).
    :raises CorruptCheckpointError: ``path`` (and ``previous``, if given and present) is
        empty, truncated, corrupted, has no checksum header or holds more than tensors and
        primitives; the message names the file(s) and what is wrong.
    :raises FileNotFoundError: neither file exists.
    """
    path = Path(path)
    try:
        return _load(path)
    except (CorruptCheckpointError, FileNotFoundError) as error:
        if previous is None or not Path(previous).is_file():
            raise
        problem = error
    try:
        state = _load(Path(previous))
    except CorruptCheckpointError as error:
        raise CorruptCheckpointError(f"{problem}; the previous one too: {error}") from None
    warnings.warn(
        f"{problem}; loaded the previous checkpoint {previous} instead",
        CheckpointFallbackWarning,
        stacklevel=2,
    )
    return state


def _load(path: Path) -> dict:
    """The verified checkpoint at ``path``."""
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    data = path.read_bytes()
    problem = _verify(data)
    if problem is not None:
        raise CorruptCheckpointError(f"checkpoint {path} {problem}")
    payload = data[HEADER.match(data).end() :]
    try:
        return torch.load(io.BytesIO(payload), weights_only=True)
    except Exception as error:  # a valid checksum over a payload torch refuses
        raise CorruptCheckpointError(
            f"checkpoint {path} cannot be loaded with weights_only=True: {error}"
        ) from None


def _verify(data: bytes) -> str | None:
    """What is wrong with a checkpoint file's bytes (None: header and checksum match)."""
    if not data:
        return "is empty (0 bytes)"
    header = HEADER.match(data[:HEADER_MAX_BYTES])
    if header is None:
        return (
            "has no checksum header (the file's start is damaged, or it was not written by "
            "agents.training.checkpoint.save_checkpoint)"
        )
    payload = memoryview(data)[header.end() :]
    expected = int(header.group(2))
    if len(payload) != expected:
        return f"is truncated or padded: {len(payload)} payload bytes, the header says {expected}"
    if hashlib.sha256(payload).hexdigest() != header.group(1).decode():
        return "is corrupted: its sha256 does not match the one in its header"
    return None
