"""`LogDataset`: a validated log with its item and user feature tables, and file I/O for logs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rec_env.data.schema import LogValidationError, validate_log

ITEM_PREFIX = "i_"
USER_PREFIX = "u_"


class LogFileError(LogValidationError):
    """A log file is missing, empty, of an unknown format or cannot be parsed."""


@dataclass(frozen=True)
class LogDataset:
    """A validated log plus the feature tables that describe its ids.

    :param name: dataset name (``"synthetic"``, ``"ml-100k"``, ``"obd"`` or a file stem).
    :param log: the validated log, one row per shown slot (see :mod:`rec_env.data.schema`).
    :param items: numeric item features, indexed by ``item_id``, columns ``i_*``.
    :param users: numeric user features, indexed by ``user_id``, columns ``u_*``.
    :param slate_size: K, the number of slots in a list.
    :param extras: dataset-specific objects, e.g. ``"world"`` (the synthetic ground truth).
    """

    name: str
    log: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame
    slate_size: int
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_feature_table(self.items, ITEM_PREFIX, "item_id")
        _check_feature_table(self.users, USER_PREFIX, "user_id")

    @property
    def n_items(self) -> int:
        """Size of the item id space: ``max(item_id) + 1`` over the log and the item table."""
        return _id_space(self.log["item_id"], self.items)

    @property
    def n_users(self) -> int:
        """Size of the user id space: ``max(user_id) + 1`` over the log and the user table."""
        return _id_space(self.log["user_id"], self.users)

    def fingerprint(self) -> str:
        """sha256 of the log's canonical columns and the feature tables (cache key for fitted models)."""
        digest = hashlib.sha256()
        for frame in (self.log, self.items, self.users):
            digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
        digest.update(str(self.slate_size).encode())
        return digest.hexdigest()

    def to_frame(self) -> pd.DataFrame:
        """The log with the user and item features joined in as ``u_*`` / ``i_*`` columns."""
        return self.log.join(self.users, on="user_id").join(self.items, on="item_id")

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_frame` as parquet (or CSV by suffix); :func:`load_log` reads it back."""
        path = Path(path)
        frame = self.to_frame()
        if path.suffix == ".csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
        return path


def _id_space(ids: pd.Series, table: pd.DataFrame) -> int:
    return int(max(ids.max(), table.index.to_numpy().max(initial=-1))) + 1


def _check_feature_table(table: pd.DataFrame, prefix: str, index_name: str) -> None:
    bad = [c for c in table.columns if not c.startswith(prefix)]
    if bad:
        raise LogValidationError(f"{index_name} feature columns must start with {prefix!r}: {bad}")
    not_numeric = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    if not_numeric:
        raise LogValidationError(f"{index_name} features must be numeric: {not_numeric}")
    if table.index.has_duplicates:
        raise LogValidationError(f"{index_name} feature table has duplicate ids")


def feature_table(log: pd.DataFrame, prefix: str, key: str) -> pd.DataFrame:
    """The ``prefix*`` columns of ``log``, one row per ``key`` (its first occurrence), sorted by key."""
    columns = [c for c in log.columns if c.startswith(prefix)]
    table = log[[key, *columns]].drop_duplicates(key).set_index(key).sort_index()
    return table


def dataset_from_log(
    name: str, log: pd.DataFrame, slate_size: int | None = None, **extras: Any
) -> LogDataset:
    """Validate a log that carries its own ``u_*`` / ``i_*`` columns and split out the feature tables.

    Feature values are taken from each id's first row. ``slate_size`` defaults to
    ``max(position) + 1``.
    """
    log = validate_log(log, slate_size)
    slate_size = slate_size or int(log["position"].max()) + 1
    items = feature_table(log, ITEM_PREFIX, "item_id")
    users = feature_table(log, USER_PREFIX, "user_id")
    log = log.drop(columns=[*items.columns, *users.columns])
    return LogDataset(name, log, items, users, slate_size, dict(extras))


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or parquet file, turning every failure into a :class:`LogFileError`."""
    path = Path(path)
    if not path.is_file():
        raise LogFileError(f"log file not found: {path}")
    if path.stat().st_size == 0:
        raise LogFileError(f"log file is empty: {path}")
    readers = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise LogFileError(f"unknown log format {path.suffix!r} for {path}; use .csv or .parquet")
    try:
        table = reader(path)
    except pd.errors.EmptyDataError as error:
        raise LogFileError(f"log file has no data: {path}") from error
    except Exception as error:  # any parser failure: name the file and the cause
        raise LogFileError(f"cannot read {path}: {type(error).__name__}: {error}") from error
    if len(table) == 0:
        raise LogFileError(f"log file has a header but no rows: {path}")
    return table


def load_log(path: str | Path, slate_size: int | None = None) -> LogDataset:
    """Load a user's own log (CSV or parquet) in the canonical schema.

    :param path: a ``.csv`` or ``.parquet`` file, one row per shown slot; ``u_*`` / ``i_*``
        columns become the user / item feature tables.
    :param slate_size: K; defaults to the longest position + 1.
    :raises LogFileError: the file is missing, empty or unreadable.
    :raises LogValidationError: the content breaks the schema.
    """
    table = read_table(path)
    return dataset_from_log(Path(path).stem, table, slate_size)


def dense_features(table: pd.DataFrame, size: int) -> np.ndarray:
    """Feature table as a dense ``[size, F]`` float32 array indexed by id (zeros for absent ids)."""
    dense = np.zeros((size, table.shape[1]), dtype=np.float32)
    dense[table.index.to_numpy()] = table.to_numpy(dtype=np.float32)
    return dense
