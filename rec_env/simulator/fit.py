"""Fit a :class:`LogClickModel` on a dataset's training split, cache it, or pick the user model.

Training rows are every shown slot of every training list, each scored with its true
in-list context (the items before it in the logged list and their logged clicks), so a
batch of B lists is one ``[B, K]`` forward pass. Item features get one more column, the
item's log exposure in the training lists (:attr:`LogClickConfig.use_popularity`). Loss:
binary cross-entropy plus an L2 prior on the user / item id embeddings
(:attr:`LogClickConfig.embedding_l2`); Adam; an exponential moving average of the weights
(:attr:`LogClickConfig.average_epochs`, less minibatch noise); early stopping on the
validation split's log-loss of the averaged weights (the best epoch's are kept; a drop under
:attr:`LogClickConfig.min_delta` is no better). The lists come from a :class:`ListSource`:
all in memory (:func:`fit_log_model`) or a chunk at a time from a parquet file
(:func:`~rec_env.simulator.fit_log_model_streaming`); one loop, :func:`fit_source`, trains on
either.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm.auto import tqdm

from rec_env.arrays import standardise
from rec_env.cache import keyed_path, load_or_fit
from rec_env.data.fetch import cache_dir as data_cache_dir
from rec_env.data.lists import LoggedLists
from rec_env.simulator.click_net import ClickNet
from rec_env.simulator.list_tensors import ListTensors, LogCounts
from rec_env.simulator.log_model import LogClickConfig, LogClickModel, build_net

if TYPE_CHECKING:
    from rec_env.scenario import Scenario

MODEL_VERSION = 3
"""Version of the model form and training recipe, part of the cache key: bump it when a code
change makes a cached model stale (2: examination x attraction (PBM), weight averaging;
3: log exposure as an item feature, early stopping's min_delta)."""
LATER_FIELDS = ("use_interest", "learn_exits")
"""LogClickConfig fields that enter the cache key only when set (see :func:`cache_path`)"""
FIT_THREADS = 1
"""torch threads while fitting: these small batches ran the ml-100k fit in 2 s on one thread
and over 2 minutes on two threads of a busy 2-core machine (thread oversubscription)."""


class ListSource(Protocol):
    """Where a fit's lists come from: all in memory (:class:`InMemoryLists`) or streamed in
    chunks (:class:`~rec_env.simulator.fit_stream.ParquetSource`).

    :param item_features: ``[n_items, F_i]`` the item features, row = item id.
    :param user_features: ``[n_users, F_u]`` the user features, row = user id.
    :param slate_size: K.
    :param counts: the counts of all the training lists.
    """

    item_features: np.ndarray
    user_features: np.ndarray
    slate_size: int
    counts: LogCounts

    def train_chunks(self, rng: np.random.Generator) -> Iterator[ListTensors]:
        """The training lists, a chunk at a time (the chunk order may draw from ``rng``)."""
        ...

    def valid_chunks(self) -> Iterator[ListTensors]:
        """The validation lists, a chunk at a time."""
        ...


class InMemoryLists:
    """Training and validation lists held in memory: each is one chunk.

    :param train: training lists; their feature tables define the id spaces.
    :param valid: validation lists (same id spaces).
    """

    def __init__(self, train: LoggedLists, valid: LoggedLists):
        self.item_features, self.user_features = train.item_features, train.user_features
        self.slate_size = train.slate_size
        self.counts = LogCounts.from_lists(train)
        self.train = ListTensors.from_lists(train, self.counts)
        self.valid = ListTensors.from_lists(valid)

    def train_chunks(self, rng: np.random.Generator) -> Iterator[ListTensors]:
        yield self.train

    def valid_chunks(self) -> Iterator[ListTensors]:
        yield self.valid


def _valid_log_loss(net: ClickNet, chunks: Iterable[ListTensors], batch_size: int) -> float:
    """Log-loss over all shown validation slots, evaluated ``batch_size`` lists at a time."""
    total, count = 0.0, 0.0
    with torch.no_grad():
        for valid in chunks:
            for start in range(0, len(valid), batch_size):
                rows = slice(start, start + batch_size)
                n_shown = float(valid.shown[rows].sum())
                total += float(valid.bce(net, rows)) * n_shown
                count += n_shown
    return total / count


def item_feature_table(
    item_features: np.ndarray, item_slots: np.ndarray, use_popularity: bool
) -> np.ndarray:
    """``[n_items, F_i (+ 1)]`` the item features the net sees, before standardising:
    ``item_features``, then (``use_popularity``) ``log(1 + item_slots)``, the item's shown
    slots in the training lists."""
    if not use_popularity:
        return item_features
    return np.column_stack([item_features, np.log1p(item_slots)])


def _new_net(source: ListSource, config: LogClickConfig) -> ClickNet:
    """A fresh net on the source's standardised features, its bias at the training click rate."""
    items = item_feature_table(
        source.item_features, source.counts.item_slots, config.use_popularity
    )
    features = (torch.from_numpy(standardise(t)) for t in (items, source.user_features))
    net = build_net(config, *features, source.slate_size)
    rate = float(np.clip(source.counts.click_rate, 1e-4, 1 - 1e-4))
    with torch.no_grad():
        net.bias.fill_(np.log(rate / (1.0 - rate)))  # start at the base rate, not at p = 0.5
    return net


def _optimizers(net: ClickNet, config: LogClickConfig) -> list[torch.optim.Optimizer]:
    """Adam on every weight; with ``config.sparse_ids``, SparseAdam on the id embeddings
    (their gradients are sparse) and Adam on the rest."""
    if not config.sparse_ids:
        return [torch.optim.Adam(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)]
    ids = [net.item_embedding.weight, net.user_embedding.weight]
    rest = [p for name, p in net.named_parameters() if not name.endswith("_embedding.weight")]
    return [torch.optim.Adam(rest, lr=config.lr), torch.optim.SparseAdam(ids, lr=config.lr)]


def _train_epoch(
    net: ClickNet,
    optimizers: list[torch.optim.Optimizer],
    train: ListTensors,
    order: np.ndarray,
    config: LogClickConfig,
    average: AveragedModel | None,
) -> None:
    """One pass over the lists of ``train`` (all training lists, or a chunk of them) in
    ``order``, ``config.batch_size`` lists per step, updating the weight ``average`` (if any)
    after every step."""
    net.train()
    for rows in torch.from_numpy(order).split(config.batch_size):
        for optimizer in optimizers:
            optimizer.zero_grad()
        loss = train.bce(net, rows) + config.embedding_l2 * train.prior(net, rows)
        loss.backward()
        for optimizer in optimizers:
            optimizer.step()
        if average is not None:
            average.update_parameters(net)
    net.eval()


def _weight_average(net: ClickNet, config: LogClickConfig, n_lists: int) -> AveragedModel | None:
    """The exponential moving average of ``net``'s weights over ``config.average_epochs``
    epochs of ``n_lists`` training lists (None when ``average_epochs`` is 0)."""
    if config.average_epochs == 0:
        return None
    steps = config.average_epochs * np.ceil(n_lists / config.batch_size)
    decay = float(np.clip(1.0 - 1.0 / steps, 0.0, 1.0))
    return AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(decay)).eval()


def fit_log_model(
    train: LoggedLists,
    valid: LoggedLists,
    config: LogClickConfig,
    progress: bool = True,
    prepare: Callable[[ClickNet], None] | None = None,
) -> LogClickModel:
    """Fit a :class:`LogClickModel` on ``train`` with early stopping on ``valid``.

    Deterministic given ``config.seed``: ``torch.manual_seed(seed)`` before the weights are
    drawn, and the list order of each epoch from ``np.random.default_rng(seed)``.
    A log larger than memory: :func:`~rec_env.simulator.fit_log_model_streaming`.

    :param train: training lists; their feature tables define the id spaces.
    :param valid: validation lists (same id spaces), at least one shown slot.
    :param progress: show a tqdm bar over epochs with the validation log-loss.
    :param prepare: called on the fresh net before training, e.g. to set some weights and
        freeze them (``requires_grad_(False)``: the optimiser leaves them as they are).
    """
    if not valid.mask.any():
        raise ValueError("the validation split has no shown slot; use a larger dataset")
    with torch_threads(FIT_THREADS):
        model = fit_source(InMemoryLists(train, valid), config, progress, prepare)
    if config.learn_exits:
        model.info["exit_after"] = exit_rates(train)
        model.exit_after, model.exits = np.array(model.info["exit_after"]), True
    return model


def exit_rates(lists: LoggedLists) -> list[float]:
    """``[after a slot without a click, after a click]``: the share of the shown slots
    before the last (K - 1) after which the list ends."""
    shown, clicks = lists.mask[:, :-1], lists.clicks[:, :-1].astype(bool)
    ended = shown & ~lists.mask[:, 1:]
    return [float(ended[shown & c].sum() / max((shown & c).sum(), 1)) for c in (~clicks, clicks)]


@contextlib.contextmanager
def torch_threads(n: int):
    """Run torch on ``n`` CPU threads, restoring the caller's setting afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def fit_source(
    source: ListSource,
    config: LogClickConfig,
    progress: bool = True,
    prepare: Callable[[ClickNet], None] | None = None,
) -> LogClickModel:
    """The training loop behind both fits: per epoch, every training chunk (its lists in a
    random order), then the validation log-loss of the (averaged) weights; the best epoch's
    weights are kept. ``info`` records ``epoch_seconds`` (training + validation, per epoch).
    Arguments as in :func:`fit_log_model`."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    net = _new_net(source, config)
    if prepare is not None:
        prepare(net)
    optimizers = _optimizers(net, config)
    average = _weight_average(net, config, source.counts.n_lists)
    validated = net if average is None else average.module
    best_loss, best_state, best_epoch = float("inf"), copy.deepcopy(net.state_dict()), 0
    bar = tqdm(
        range(1, config.epochs + 1), desc="fit click model", unit="epoch", disable=not progress
    )
    seconds = []
    for epoch in bar:
        start = time.perf_counter()
        for chunk in source.train_chunks(rng):
            _train_epoch(net, optimizers, chunk, rng.permutation(len(chunk)), config, average)
        loss = _valid_log_loss(validated, source.valid_chunks(), config.batch_size)
        seconds.append(time.perf_counter() - start)
        if loss < best_loss - config.min_delta:
            best_loss, best_state, best_epoch = loss, copy.deepcopy(validated.state_dict()), epoch
        bar.set_postfix(valid_log_loss=f"{loss:.4f}", best_epoch=best_epoch)
        if epoch - best_epoch >= config.patience:
            break
    net.load_state_dict(best_state)
    info = {
        "best_epoch": best_epoch,
        "epochs_run": epoch,
        "best_valid_log_loss": best_loss,
        "epoch_seconds": seconds,
    }
    return LogClickModel(net, config, info)


def cache_path(
    name: str,
    fingerprint: str,
    config: LogClickConfig,
    split: tuple[str, int],
    folder: Path | None = None,
) -> Path:
    """``<folder>/<name>-<key>.pt``, ``key`` a hash of the dataset fingerprint, config, split
    and :data:`MODEL_VERSION`.

    :param name: the dataset's name; :param fingerprint: its :meth:`LogDataset.fingerprint`.
    :param split: ``(kind, seed)`` of the train / valid / test split the model is fitted on.
    :param folder: defaults to ``rec_env.data.cache_dir() / "models"``.
    """
    recipe = {
        "dataset": fingerprint,
        "config": _config_key(config),
        "split": list(split),
        "model_version": MODEL_VERSION,
    }
    return keyed_path(folder if folder is not None else data_cache_dir() / "models", name, recipe)


def _config_key(config: LogClickConfig) -> dict:
    """The config's fields for the cache key; the fields added after MODEL_VERSION 3 enter
    only when set, so models cached before them keep their keys."""
    fields = asdict(config)
    for name in LATER_FIELDS:
        if not fields[name]:
            del fields[name]
    return fields


def fit_or_load(
    scenario: Scenario,
    config: LogClickConfig,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> LogClickModel:
    """The model fitted on ``scenario``'s training lists (early stopping on its validation
    lists), from the disk cache when present (an unreadable cache file is refitted, with a
    warning: :func:`~rec_env.cache.load_or_fit`).

    :param cache_dir: folder of cached models; defaults to ``rec_env.data.cache_dir() / "models"``.
    :param progress: show the training progress bar (when it fits).
    """
    dataset = scenario.dataset
    fingerprint = dataset.fingerprint()
    split = (scenario.split, scenario.split_seed)
    folder = Path(cache_dir) if cache_dir is not None else None
    path = cache_path(dataset.name, fingerprint, config, split, folder)

    def fit() -> LogClickModel:
        splits = scenario.splits
        model = fit_log_model(splits.train, splits.valid, config, progress=progress)
        model.info.update(
            dataset=dataset.name, fingerprint=fingerprint, split=split[0], split_seed=split[1]
        )
        return model

    return load_or_fit(path, fit, LogClickModel.load, LogClickModel.save)
