"""Fit a :class:`~rec_env.simulator.LogClickModel` on a log larger than memory.

The log is a parquet file of whole lists (:class:`~rec_env.data.ParquetLists`); only the
feature tables (``[n_items, F_i]``, ``[n_users, F_u]``) and the per-id counts are held whole.
A seeded random share of the row groups is held out for validation. One pass over the
training row groups counts each item's and user's shown slots and the clicks (the embedding
prior's weights, the popularity feature and the initial bias need them before the first
step); then every epoch reads the training row groups in a new random order, at most
``chunk_rows`` rows at a time, and trains on each chunk's lists in a random order, then
streams the validation row groups for the log-loss. The loop is :func:`fit_source`, the
in-memory fit's: with one chunk holding every list, the two fits coincide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from rec_env.checks import InputError
from rec_env.data.chunked import ParquetLists
from rec_env.simulator.click_net import ClickNet
from rec_env.simulator.fit import FIT_THREADS, fit_source, torch_threads
from rec_env.simulator.list_tensors import ListTensors, LogCounts
from rec_env.simulator.log_model import LogClickConfig, LogClickModel


class ParquetSource:
    """The training and validation row groups of a :class:`~rec_env.data.ParquetLists`, read
    a chunk at a time (a :class:`~rec_env.simulator.fit.ListSource`).

    :param lists: the opened file.
    :param train: ``[G_t]`` training row groups; :param valid: ``[G_v]`` validation row groups.
    """

    def __init__(self, lists: ParquetLists, train: np.ndarray, valid: np.ndarray):
        self.lists, self.train, self.valid = lists, train, valid
        self.item_features, self.user_features = lists.item_features, lists.user_features
        self.slate_size = lists.slate_size
        self.counts = sum(
            (LogCounts.from_lists(chunk) for chunk in lists.chunks(train)),
            start=LogCounts(
                np.zeros(len(lists.item_features), dtype=np.int64),
                np.zeros(len(lists.user_features), dtype=np.int64),
                0,
                0,
            ),
        )

    def train_chunks(self, rng: np.random.Generator) -> Iterator[ListTensors]:
        for chunk in self.lists.chunks(rng.permutation(self.train)):
            yield ListTensors.from_lists(chunk, self.counts)

    def valid_chunks(self) -> Iterator[ListTensors]:
        for chunk in self.lists.chunks(self.valid):
            yield ListTensors.from_lists(chunk)


def fit_log_model_streaming(
    lists: ParquetLists,
    config: LogClickConfig,
    valid_fraction: float = 0.1,
    progress: bool = True,
    prepare: Callable[[ClickNet], None] | None = None,
) -> LogClickModel:
    """Fit a :class:`LogClickModel` on a parquet log read in chunks, never all rows at once.

    At most ``lists.chunk_rows`` log rows (and their ``[N, K]`` tensors) are held at a time.
    Deterministic given ``config.seed``: the validation row groups
    (:meth:`ParquetLists.split`), the initial weights, and each epoch's chunk order and list
    order within a chunk all follow from it. The model is the one :func:`fit_log_model` gives
    (same net, loss, weight averaging and early stopping on the validation log-loss); its
    ``info`` adds ``rows`` and the held-out ``valid_groups``.

    :param lists: the log (:func:`~rec_env.data.write_lists_parquet`'s layout) with its
        feature tables and chunk size.
    :param valid_fraction: share of the row groups held out for validation, in ``(0, 1)``.
    :param progress: show a tqdm bar over epochs.
    :param prepare: as in :func:`fit_log_model`.
    :raises InputError: a bad ``valid_fraction`` or fewer than 2 row groups, or
        ``config.learn_exits`` (exit rates are learned in memory only: :func:`fit_log_model`).
    :raises LogValidationError: a chunk breaks the schema (raised when it is read).
    """
    if config.learn_exits:
        raise InputError("LogClickConfig.learn_exits is not supported by a streaming fit")
    train, valid = lists.split(valid_fraction, config.seed)
    with torch_threads(FIT_THREADS):
        source = ParquetSource(lists, train, valid)
        model = fit_source(source, config, progress, prepare)
    model.info.update(rows=lists.n_rows, valid_groups=valid.tolist())
    return model
