"""Logs larger than memory: a parquet file of whole lists, read a chunk of row groups at a time.

Layout: the canonical columns (:data:`~rec_env.data.REQUIRED_COLUMNS`, ids already the dense
indices of the feature tables), rows sorted by ``request_id`` and every row group cut at a
list boundary, so no request spans two row groups. :func:`write_lists_parquet` writes it;
:class:`ParquetLists` checks it from the file's metadata alone when it opens the file (each
row group's largest ``request_id`` must be below the next group's smallest, from the parquet
column statistics). A chunk is a set of whole row groups, so a list is never split across
chunks, and each chunk goes through :func:`~rec_env.data.validate_log` when it is read.

>>> write_lists_parquet(dataset.log, "log.parquet", group_rows=100_000)  # doctest: +SKIP
>>> lists = ParquetLists("log.parquet", items, users, slate_size=10, chunk_rows=1_000_000)  # doctest: +SKIP
>>> for chunk in lists.chunks(range(lists.n_groups)):  # LoggedLists, <= 1M rows each  # doctest: +SKIP
...     ...
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rec_env.checks import InputError
from rec_env.data.dataset import LogFileError
from rec_env.data.lists import LoggedLists
from rec_env.data.schema import REQUIRED_COLUMNS, LogValidationError, validate_log
from rec_env.files import atomic_write

GROUP_ROWS = 100_000
"""default most rows per row group written by :func:`write_lists_parquet`"""
LAYOUT_HINT = "write the file with rec_env.data.write_lists_parquet"


def write_lists_parquet(
    log: pd.DataFrame | Iterable[pd.DataFrame], path: str | Path, group_rows: int = GROUP_ROWS
) -> Path:
    """Write a canonical log as parquet in the layout :class:`ParquetLists` reads.

    Only the canonical columns are written. Each frame is validated
    (:func:`~rec_env.data.validate_log`) and sorted by request, then cut into row groups of
    at most ``group_rows`` rows at list boundaries. The file appears all at once
    (:func:`~rec_env.files.atomic_write`).

    :param log: one frame, or frames of whole lists in increasing ``request_id`` order (e.g.
        a generator, to write a log larger than memory one piece at a time).
    :param group_rows: most rows per row group; at least the longest list.
    :raises InputError: ``group_rows`` below 1 or below a list's length.
    :raises LogValidationError: a frame breaks the schema, or its requests do not all come
        after the previous frame's.
    """
    if not isinstance(group_rows, (int, np.integer)) or group_rows < 1:
        raise InputError(f"group_rows must be an int >= 1, got {group_rows!r}")
    frames = [log] if isinstance(log, pd.DataFrame) else log
    path = Path(path)
    last_request, writer = -1, None
    with atomic_write(path) as tmp:
        try:
            for frame in frames:
                frame = validate_log(frame)[list(REQUIRED_COLUMNS)]
                request = frame["request_id"].to_numpy()
                if request[0] <= last_request:
                    raise LogValidationError(
                        f"frames must hold increasing requests: {request[0]} follows "
                        f"{last_request}",
                        "request_id",
                    )
                last_request = int(request[-1])
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                for start, stop in _list_cuts(request, group_rows):
                    writer.write_table(
                        table.slice(start, stop - start), row_group_size=stop - start
                    )
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            raise LogValidationError("the log is empty (no frames)")
    return path


def _list_cuts(request: np.ndarray, group_rows: int) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` row ranges of at most ``group_rows`` rows, cut where ``request``
    (sorted ``[N]``) changes."""
    starts = np.flatnonzero(np.r_[True, request[1:] != request[:-1]])
    bounds = np.r_[starts, len(request)]
    start = 0
    while start < len(request):
        stop = bounds[np.searchsorted(bounds, start + group_rows, side="right") - 1]
        if stop <= start:
            raise InputError(
                f"group_rows ({group_rows}) is below the length of request "
                f"{request[start]}: a row group must hold whole lists"
            )
        yield start, int(stop)
        start = int(stop)


class ParquetLists:
    """A parquet log of whole lists (:func:`write_lists_parquet`'s layout), read in chunks.

    Opening reads the metadata only. :meth:`chunks` reads whole row groups, at most
    ``chunk_rows`` rows at a time, and checks each chunk against the schema and the feature
    tables.

    :param path: the ``.parquet`` file.
    :param item_features: ``[n_items, F_i]`` float32 item features, row = the log's ``item_id``.
    :param user_features: ``[n_users, F_u]`` float32 user features, row = the log's ``user_id``.
    :param slate_size: K, the longest list.
    :param chunk_rows: most log rows held at once; at least the largest row group.
    :raises LogFileError: the file is missing or is not parquet.
    :raises LogValidationError: a canonical column is missing, or row groups are not sorted
        and cut at list boundaries (``request_id``).
    :raises InputError: ``chunk_rows`` or ``slate_size`` below 1, or ``chunk_rows`` below the
        largest row group.
    """

    def __init__(
        self,
        path: str | Path,
        item_features: np.ndarray,
        user_features: np.ndarray,
        slate_size: int,
        chunk_rows: int,
    ):
        for name, value in (("chunk_rows", chunk_rows), ("slate_size", slate_size)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise InputError(f"{name} must be an int >= 1, got {value!r}")
        self.path = Path(path)
        self.item_features, self.user_features = item_features, user_features
        self.slate_size, self.chunk_rows = int(slate_size), int(chunk_rows)
        self.file = _open(self.path)
        metadata = self.file.metadata
        self.group_rows = np.array([metadata.row_group(g).num_rows for g in range(self.n_groups)])
        self._check_columns()
        self._check_groups()
        if self.group_rows.max(initial=0) > self.chunk_rows:
            raise InputError(
                f"chunk_rows ({self.chunk_rows}) is below the largest row group of {self.path} "
                f"({self.group_rows.max()} rows): raise chunk_rows or rewrite the file with "
                "smaller row groups (write_lists_parquet(group_rows=...))"
            )

    @property
    def n_groups(self) -> int:
        """Row groups in the file."""
        return self.file.metadata.num_row_groups

    @property
    def n_rows(self) -> int:
        """Log rows (shown slots) in the file."""
        return self.file.metadata.num_rows

    def split(self, valid_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Sorted row-group indices ``(train, valid)``: a seeded random ``valid_fraction`` of
        the row groups (at least one) held out for validation, the rest (at least one) to train.

        :raises InputError: ``valid_fraction`` outside ``(0, 1)``, or fewer than 2 row groups.
        """
        if not 0.0 < valid_fraction < 1.0:
            raise InputError(f"valid_fraction must be in (0, 1), got {valid_fraction!r}")
        if self.n_groups < 2:
            raise InputError(
                f"{self.path} has {self.n_groups} row group(s), too few to hold one out for "
                "validation: write it with smaller row groups (write_lists_parquet(group_rows=...))"
            )
        n_valid = min(max(1, round(valid_fraction * self.n_groups)), self.n_groups - 1)
        order = np.random.default_rng(seed).permutation(self.n_groups)
        return np.sort(order[n_valid:]), np.sort(order[:n_valid])

    def chunks(self, groups: Sequence[int] | np.ndarray) -> Iterator[LoggedLists]:
        """The lists of row ``groups``, in that order, packed into chunks of at most
        ``chunk_rows`` rows (consecutive groups of the order, read together).

        :raises LogValidationError: a chunk breaks the schema or holds an id outside the
            feature tables.
        """
        for part in _pack(self.group_rows, np.asarray(groups, dtype=np.int64), self.chunk_rows):
            table = self.file.read_row_groups(part, columns=list(REQUIRED_COLUMNS))
            log = validate_log(table.to_pandas(), self.slate_size)
            for column, table_ in (
                ("item_id", self.item_features),
                ("user_id", self.user_features),
            ):
                largest = int(log[column].max())
                if largest >= len(table_):
                    raise LogValidationError(
                        f"index {largest} outside the feature table of {len(table_)} rows", column
                    )
            yield LoggedLists.from_log(log, self.slate_size, self.item_features, self.user_features)

    def _check_columns(self) -> None:
        names = self.file.schema_arrow.names
        for column in REQUIRED_COLUMNS:
            if column not in names:
                raise LogValidationError(
                    f"missing from {self.path}; a log needs columns {list(REQUIRED_COLUMNS)}, "
                    f"got {names}",
                    column,
                )

    def _check_groups(self) -> None:
        """Each row group's request ids lie strictly above the previous group's."""
        index = self.file.schema_arrow.names.index("request_id")
        bounds = []
        for g in range(self.n_groups):
            stats = self.file.metadata.row_group(g).column(index).statistics
            if stats is None or not stats.has_min_max:
                raise LogValidationError(
                    f"row group {g} of {self.path} has no min / max statistics; {LAYOUT_HINT}",
                    "request_id",
                )
            bounds.append((stats.min, stats.max))
        low, high = np.array(bounds, dtype=np.int64).reshape(-1, 2).T
        overlap = np.flatnonzero(high[:-1] >= low[1:])
        if len(overlap):
            g = int(overlap[0])
            raise LogValidationError(
                f"row groups {g} and {g + 1} of {self.path} overlap (request ids "
                f"{low[g]}..{high[g]}, then {low[g + 1]}..{high[g + 1]}): rows must be sorted by "
                f"request with row groups cut at list boundaries; {LAYOUT_HINT}",
                "request_id",
            )


def _open(path: Path) -> pq.ParquetFile:
    if not path.is_file():
        raise LogFileError(f"log file not found: {path}")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise LogFileError(f"cannot read {path} as parquet: {error}") from error


def _pack(sizes: np.ndarray, groups: np.ndarray, limit: int) -> Iterator[list[int]]:
    """``groups`` in order, cut into runs whose ``sizes`` sum to at most ``limit``."""
    part, rows = [], 0
    for group in groups.tolist():
        if part and rows + sizes[group] > limit:
            yield part
            part, rows = [], 0
        part.append(group)
        rows += int(sizes[group])
    if part:
        yield part
