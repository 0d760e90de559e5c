"""`LogDataset`: a validated log with its item and user feature tables and the vocabularies of
its ids, and file I/O for logs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rec_env.data.features import MAX_LEVELS, decode_features, feature_table
from rec_env.data.ids import encode_ids, range_vocabularies
from rec_env.data.schema import LogValidationError, validate_log
from rec_env.data.vocabulary import Vocabularies

ITEM_PREFIX = "i_"
USER_PREFIX = "u_"
READERS = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}
ROW = "__row__"
"""Column carrying each row's place in the raw log through validation (errors show raw rows)."""


class LogFileError(LogValidationError):
    """A log file is missing, empty, of an unknown format or cannot be parsed."""


@dataclass(frozen=True)
class LogDataset:
    """A validated log plus the feature tables that describe its ids.

    The log and the tables hold dense indices (``0..n-1``) in ``user_id``, ``request_id`` and
    ``item_id``; :attr:`vocabularies` maps them to the log's own ids and back.

    :param name: dataset name (``"synthetic"``, ``"ml-100k"``, ``"obd"`` or a file stem).
    :param log: the validated log, one row per shown slot (see :mod:`rec_env.data.schema`).
    :param items: numeric item features, indexed by ``item_id``, columns ``i_*``, no NaN.
    :param users: numeric user features, indexed by ``user_id``, columns ``u_*``, no NaN.
    :param slate_size: K, the number of slots in a list.
    :param extras: dataset-specific objects, e.g. ``"world"`` (the synthetic ground truth).
    :param vocabularies: the id (and categorical feature) vocabularies; ``None``: the log's
        ids already are the indices (range vocabularies of ``max id + 1`` over the log and
        the tables, as for the built-in datasets).
    """

    name: str
    log: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame
    slate_size: int
    extras: dict[str, Any] = field(default_factory=dict)
    vocabularies: Vocabularies | None = None

    def __post_init__(self) -> None:
        _check_feature_table(self.items, ITEM_PREFIX, "item_id")
        _check_feature_table(self.users, USER_PREFIX, "user_id")
        if self.vocabularies is None:
            vocabularies = range_vocabularies(self.log, self.items, self.users)
            object.__setattr__(self, "vocabularies", vocabularies)
        _check_indices(self)

    @property
    def n_items(self) -> int:
        """Number of items: the size of the item vocabulary."""
        return len(self.vocabularies.items)

    @property
    def n_users(self) -> int:
        """Number of users: the size of the user vocabulary."""
        return len(self.vocabularies.users)

    def fingerprint(self) -> str:
        """sha256 of the log's canonical columns, the feature tables, K and the vocabularies
        (cache key for fitted models)."""
        digest = hashlib.sha256()
        for frame in (self.log, self.items, self.users):
            digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
        digest.update(str(self.slate_size).encode())
        digest.update(self.vocabularies.digest_bytes())
        return digest.hexdigest()

    def to_frame(self) -> pd.DataFrame:
        """The log in the user's own terms: the raw ids, and the user and item features joined
        in as ``u_*`` / ``i_*`` columns (categorical ones as their levels again)."""
        vocab = self.vocabularies
        users, items = (decode_features(t, vocab.categories) for t in (self.users, self.items))
        frame = self.log.join(users, on="user_id").join(items, on="item_id")
        for column, ids in (("user_id", vocab.users), ("request_id", vocab.requests)):
            frame[column] = ids.decode(frame[column].to_numpy())
        frame["item_id"] = vocab.items.decode(frame["item_id"].to_numpy())
        return frame

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_frame` as parquet (or CSV by suffix); :func:`load_log` reads it back
        with the same vocabularies, feature tables and fingerprint (ids that never occur in
        the log, as in some built-in datasets, are not written)."""
        path = Path(path)
        frame = self.to_frame()
        if path.suffix == ".csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
        return path


def _check_feature_table(table: pd.DataFrame, prefix: str, index_name: str) -> None:
    bad = [c for c in table.columns if not c.startswith(prefix)]
    if bad:
        raise LogValidationError(f"{index_name} feature columns must start with {prefix!r}: {bad}")
    not_numeric = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    if not_numeric:
        raise LogValidationError(
            f"{index_name} features must be numeric in a LogDataset: {not_numeric}; "
            "load_log / dataset_from_log encode categorical columns"
        )
    missing = table.isna().sum()
    if missing.any():
        counts = {column: int(n) for column, n in missing[missing > 0].items()}
        raise LogValidationError(
            f"{index_name} features have missing values (NaN), count by column: {counts}; "
            "load_log / dataset_from_log fill them"
        )
    infinite = table.columns[np.isinf(table.to_numpy(np.float64)).any(axis=0)].tolist()
    if infinite:
        raise LogValidationError(f"{index_name} features have infinite values: {infinite}")
    if table.index.has_duplicates:
        raise LogValidationError(f"{index_name} feature table has duplicate ids")


def _check_indices(dataset: LogDataset) -> None:
    """Every index of the log and of the feature tables is inside its vocabulary."""
    vocab = dataset.vocabularies
    no_table = pd.Index([], dtype=np.int64)
    checks = (
        ("user_id", len(vocab.users), dataset.users.index),
        ("item_id", len(vocab.items), dataset.items.index),
        ("request_id", len(vocab.requests), no_table),
    )
    for column, size, table_index in checks:
        largest = int(max(dataset.log[column].max(), table_index.to_numpy().max(initial=-1)))
        if largest >= size:
            raise LogValidationError(
                f"index {largest} outside the vocabulary of {size} ids", column
            )


def dataset_from_log(
    name: str,
    log: pd.DataFrame,
    slate_size: int | None = None,
    max_levels: int = MAX_LEVELS,
    **extras: Any,
) -> LogDataset:
    """A :class:`LogDataset` of a raw log: ids of any kind, ``u_*`` / ``i_*`` feature columns.

    Ids are mapped to dense indices (:mod:`rec_env.data.vocabulary`), the log is validated
    (:func:`validate_log`), and the feature columns become the user and item tables by the
    rules of :mod:`rec_env.data.features`. ``slate_size`` defaults to ``max(position) + 1``.

    :param max_levels: most one-hot columns of a categorical feature; rarer levels are merged
        into ``"<other>"`` with a :class:`~rec_env.data.LogDataWarning`.
    :raises LogValidationError: bad ids, a log that breaks the schema, or bad features; the
        offending rows are shown as they are in ``log`` (raw ids and timestamps).
    :raises InputError: ``max_levels`` is not an int >= 2.
    """
    raw = log
    log, ids = encode_ids(log)  # a copy
    log[ROW] = np.arange(len(log))
    try:
        log = validate_log(log, slate_size)
        items, item_levels = feature_table(log, ITEM_PREFIX, "item_id", max_levels)
        users, user_levels = feature_table(log, USER_PREFIX, "user_id", max_levels)
    except LogValidationError as error:
        if error.rows is None or ROW not in error.rows.columns:
            raise
        raise error.with_rows(raw.iloc[error.rows[ROW].to_numpy()]) from None
    slate_size = slate_size or int(log["position"].max()) + 1
    features = [c for c in log.columns if c.startswith((ITEM_PREFIX, USER_PREFIX))]
    log = log.drop(columns=[ROW, *features])
    vocabularies = Vocabularies(
        ids["user_id"], ids["item_id"], ids["request_id"], {**user_levels, **item_levels}
    )
    return LogDataset(name, log, items, users, slate_size, dict(extras), vocabularies)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or parquet file, turning every failure into a :class:`LogFileError`."""
    path = Path(path)
    if not path.is_file():
        raise LogFileError(f"log file not found: {path}")
    if path.stat().st_size == 0:
        raise LogFileError(f"log file is empty: {path}")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise LogFileError(
            f"unsupported extension {path.suffix!r} for {path}; use .csv or .parquet"
        )
    try:
        table = reader(path)
    except pd.errors.EmptyDataError as error:
        raise LogFileError(f"log file has no data: {path}") from error
    except Exception as error:  # any parser failure: name the file and the cause
        raise LogFileError(f"cannot read {path}: {type(error).__name__}: {error}") from error
    if len(table) == 0:
        raise LogFileError(f"log file has a header but no rows: {path}")
    return table


def load_log(
    path: str | Path, slate_size: int | None = None, max_levels: int = MAX_LEVELS
) -> LogDataset:
    """Load a user's own log (CSV or parquet) in the canonical schema.

    :param path: a ``.csv`` or ``.parquet`` file, one row per shown slot; ``u_*`` / ``i_*``
        columns become the user / item feature tables (see :func:`dataset_from_log`).
    :param slate_size: K; defaults to the longest position + 1.
    :param max_levels: most one-hot columns of a categorical feature (the rest: ``"<other>"``).
    :raises LogFileError: the file is missing, empty, unreadable or has another extension.
    :raises LogValidationError: the content breaks the schema.
    """
    table = read_table(path)
    return dataset_from_log(Path(path).stem, table, slate_size, max_levels)


def dense_features(table: pd.DataFrame, size: int) -> np.ndarray:
    """Feature table as a dense ``[size, F]`` float32 array indexed by id (zeros for absent ids)."""
    dense = np.zeros((size, table.shape[1]), dtype=np.float32)
    dense[table.index.to_numpy()] = table.to_numpy(dtype=np.float32)
    return dense
