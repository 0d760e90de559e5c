"""`atomic_write`: replace a file all at once, or not at all."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the body returns, move it into place.

    The body writes the whole file to the yielded path (``torch.save``, ``Path.write_bytes``,
    a library's ``save``...). On success the file is fsynced, then ``os.replace``-d onto
    ``path``: readers see the old file or the new one, never a partial one. If the body (or
    the move) raises, the temporary file is removed and ``path`` is left as it was. Missing
    parent folders are created.

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


def _fsync(path: Path) -> None:
    """Flush ``path``'s data to disk, however its writer opened and closed it."""
    with open(path, "rb+") as file:
        os.fsync(file.fileno())
