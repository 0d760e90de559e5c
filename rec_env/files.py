"""Crash-safe files: `atomic_write` replaces a file all at once or not at all, and
`keep_previous` keeps the file it is about to replace."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the body returns, move it into place.

    The body writes the whole file to the yielded path (``torch.save``, ``Path.write_bytes``,
    a library's ``save``...). On success the file is fsynced, then ``os.replace``-d onto
    ``path``, then the folder is fsynced (so the rename itself survives a power cut):
    readers see the old file or the new one, never a partial one. If the body (or the move)
    raises, the temporary file is removed and ``path`` is left as it was. Missing parent
    folders are created.

    The temporary file does not exist until the body creates it (so it gets the permissions
    of a file written directly). Its name, ``.<name>.<16 random hex digits>.tmp``, is hidden
    and has a suffix of its own, so writers that add an extension to a bare name (e.g.
    ``.zip``) write where they are told.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def keep_previous(path: str | Path, previous: str | Path) -> None:
    """Make ``previous`` hold what ``path`` holds now, atomically (with :func:`atomic_write`).

    A hard link where the file system allows one (no copy of the bytes), else a copy. At
    every instant ``previous`` is its old file or ``path``'s, complete.
    """
    with atomic_write(previous) as tmp:
        try:
            os.link(path, tmp)
        except OSError:  # no hard links here (e.g. FAT, some network file systems)
            shutil.copyfile(path, tmp)


def _fsync(path: Path) -> None:
    """Flush ``path``'s data to disk, however its writer opened and closed it."""
    with open(path, "rb+") as file:
        os.fsync(file.fileno())


def _fsync_folder(folder: Path) -> None:
    """Flush ``folder``'s entries (a rename into it) to disk; POSIX only (Windows cannot open
    a folder, and its ``os.replace`` is durable on return)."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
