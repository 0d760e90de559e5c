"""Small numpy helpers shared by the data, the simulators and the environments."""

from __future__ import annotations

import numpy as np


def take_rows(table: np.ndarray, ids: np.ndarray | int) -> np.ndarray:
    """``table[ids]``: the rows of ``table`` (``[n, ...]``) at ``ids`` (an array, or one id).

    ``take`` gathers rows several times faster than fancy indexing; one id is a view.
    """
    return table.take(ids, axis=0) if isinstance(ids, np.ndarray) else table[ids]


def take_columns(table: np.ndarray, ids: np.ndarray | int) -> np.ndarray:
    """``table[:, ids]``: the columns of ``table`` (``[d, n]``) at ``ids`` (``[d, *ids.shape]``),
    or one id's column (``[d]``, a view)."""
    return table.take(ids, axis=1) if isinstance(ids, np.ndarray) else table[:, ids]
