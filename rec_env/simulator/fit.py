"""Fit a :class:`LogClickModel` on a dataset's training split, cache it, or pick the user model.

Training rows are every shown slot of every training list, each scored with its true
in-list context (the items before it in the logged list and their logged clicks), so a
batch of B lists is one ``[B, K]`` forward pass. Item features get one more column, the
item's log exposure in the training lists (:attr:`LogClickConfig.use_popularity`). Loss:
binary cross-entropy plus an L2 prior on the user / item id embeddings
(:attr:`LogClickConfig.embedding_l2`); Adam; an exponential moving average of the weights
(:attr:`LogClickConfig.average_epochs`, less minibatch noise); early stopping on the
validation split's log-loss of the averaged weights (the best epoch's are kept; a drop under
:attr:`LogClickConfig.min_delta` is no better).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm.auto import tqdm

from rec_env.arrays import standardise
from rec_env.data.catalogue import item_counts
from rec_env.data.fetch import cache_dir as data_cache_dir
from rec_env.data.lists import LoggedLists
from rec_env.simulator.click_net import ClickNet
from rec_env.simulator.log_model import LogClickConfig, LogClickModel, build_net

if TYPE_CHECKING:
    from rec_env.scenario import Scenario

MODEL_VERSION = 3
"""Version of the model form and training recipe, part of the cache key: bump it when a code
change makes a cached model stale (2: examination x attraction (PBM), weight averaging;
3: log exposure as an item feature, early stopping's min_delta)."""
FIT_THREADS = 1
"""torch threads while fitting: these small batches ran the ml-100k fit in 2 s on one thread
and over 2 minutes on two threads of a busy 2-core machine (thread oversubscription)."""


@dataclass(frozen=True)
class ListTensors:
    """Logged lists as torch tensors, with the weights of the embedding prior.

    :param users: ``[N]`` user ids.
    :param items: ``[N, K]`` item ids, 0 where not shown.
    :param clicks: ``[N, K]`` float32.
    :param shown: ``[N, K]`` float32, 1 where an item was shown.
    :param user_prior: ``[N]`` the list's shown slots / its user's shown slots in these lists.
    :param item_prior: ``[N, K]`` 1 / the item's shown slots in these lists (0 where not shown).
        Summed over all lists, each user's and item's prior weight is 1.
    """

    users: torch.Tensor
    items: torch.Tensor
    clicks: torch.Tensor
    shown: torch.Tensor
    user_prior: torch.Tensor
    item_prior: torch.Tensor

    @classmethod
    def from_lists(cls, lists: LoggedLists) -> ListTensors:
        items = np.where(lists.mask, lists.items, 0)
        length = lists.mask.sum(axis=1)
        user_slots = np.bincount(lists.user_ids, weights=length)[lists.user_ids]
        item_slots = np.bincount(items[lists.mask])[items]
        tensors = (
            lists.user_ids.astype(np.int64),
            items,
            lists.clicks.astype(np.float32),
            lists.mask.astype(np.float32),
            (length / np.maximum(user_slots, 1)).astype(np.float32),
            np.where(lists.mask, 1.0 / np.maximum(item_slots, 1), 0.0).astype(np.float32),
        )
        return cls(*(torch.from_numpy(t) for t in tensors))

    def __len__(self) -> int:
        return len(self.users)

    def bce(self, net: ClickNet, rows: torch.Tensor | slice) -> torch.Tensor:
        """Mean binary cross-entropy (nats) over the shown slots of lists ``rows``."""
        shown, clicks = self.shown[rows], self.clicks[rows]
        log_p = net.list_log_proba(self.users[rows], self.items[rows], clicks, shown)
        loss = -(clicks * log_p + (1.0 - clicks) * log1mexp(log_p))
        return (loss * shown).sum() / shown.sum().clamp(min=1.0)

    def prior(self, net: ClickNet, rows: torch.Tensor) -> torch.Tensor:
        """Unbiased batch estimate of ``sum ||id embedding||^2 / shown slots`` over all ids.

        Only the id embeddings are penalised, so an id with few logs shrinks towards what
        its features predict, not towards zero.
        """
        user = net.user_embedding(self.users[rows]).square().sum(-1) * self.user_prior[rows]
        item = net.item_embedding(self.items[rows]).square().sum(-1) * self.item_prior[rows]
        return (user.sum() + item.sum()) / self.shown[rows].sum().clamp(min=1.0)


def log1mexp(log_p: torch.Tensor) -> torch.Tensor:
    """``log(1 - exp(log_p))`` elementwise for ``log_p < 0``, accurate at both ends
    (Maechler's switch at ``log 1/2``)."""
    near_one = log_p > -np.log(2.0)
    return torch.where(
        near_one,
        torch.log(-torch.expm1(log_p.clamp(max=-1e-7))),
        torch.log1p(-torch.exp(log_p.clamp(max=-np.log(2.0)))),
    )


def _valid_log_loss(net: ClickNet, valid: ListTensors, batch_size: int) -> float:
    """Log-loss over all shown validation slots, evaluated in chunks of ``batch_size`` lists."""
    total, count = 0.0, 0.0
    with torch.no_grad():
        for start in range(0, len(valid), batch_size):
            rows = slice(start, start + batch_size)
            n_shown = float(valid.shown[rows].sum())
            total += float(valid.bce(net, rows)) * n_shown
            count += n_shown
    return total / count


def item_feature_table(train: LoggedLists, use_popularity: bool) -> np.ndarray:
    """``[n_items, F_i (+ 1)]`` the item features the net sees, before standardising: the
    dataset's, then (``use_popularity``) ``log(1 + the item's shown slots in train)``."""
    if not use_popularity:
        return train.item_features
    return np.column_stack([train.item_features, np.log1p(item_counts(train))])


def _new_net(train: LoggedLists, config: LogClickConfig) -> ClickNet:
    """A fresh net on ``train``'s standardised features, its bias at the training click rate."""
    items = item_feature_table(train, config.use_popularity)
    features = (torch.from_numpy(standardise(t)) for t in (items, train.user_features))
    net = build_net(config, *features, train.slate_size)
    rate = float(np.clip(train.clicks[train.mask].mean(), 1e-4, 1 - 1e-4))
    with torch.no_grad():
        net.bias.fill_(np.log(rate / (1.0 - rate)))  # start at the base rate, not at p = 0.5
    return net


def _train_epoch(
    net: ClickNet,
    optimizer: torch.optim.Optimizer,
    train: ListTensors,
    order: np.ndarray,
    config: LogClickConfig,
    average: AveragedModel | None,
) -> None:
    """One pass over the training lists in ``order``, ``config.batch_size`` lists per step,
    updating the weight ``average`` (if any) after every step."""
    net.train()
    for rows in torch.from_numpy(order).split(config.batch_size):
        optimizer.zero_grad()
        loss = train.bce(net, rows) + config.embedding_l2 * train.prior(net, rows)
        loss.backward()
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

    :param train: training lists; their feature tables define the id spaces.
    :param valid: validation lists (same id spaces), at least one shown slot.
    :param progress: show a tqdm bar over epochs with the validation log-loss.
    :param prepare: called on the fresh net before training, e.g. to set some weights and
        freeze them (``requires_grad_(False)``: the optimiser leaves them as they are).
    """
    if not valid.mask.any():
        raise ValueError("the validation split has no shown slot; use a larger dataset")
    with _torch_threads(FIT_THREADS):
        return _fit(train, valid, config, progress, prepare)


@contextlib.contextmanager
def _torch_threads(n: int):
    """Run torch on ``n`` CPU threads, restoring the caller's setting afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _fit(
    train: LoggedLists,
    valid: LoggedLists,
    config: LogClickConfig,
    progress: bool,
    prepare: Callable[[ClickNet], None] | None,
) -> LogClickModel:
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    net = _new_net(train, config)
    if prepare is not None:
        prepare(net)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    train_t, valid_t = ListTensors.from_lists(train), ListTensors.from_lists(valid)
    average = _weight_average(net, config, len(train_t))
    validated = net if average is None else average.module
    best_loss, best_state, best_epoch = float("inf"), copy.deepcopy(net.state_dict()), 0
    bar = tqdm(
        range(1, config.epochs + 1), desc="fit click model", unit="epoch", disable=not progress
    )
    for epoch in bar:
        _train_epoch(net, optimizer, train_t, rng.permutation(len(train_t)), config, average)
        loss = _valid_log_loss(validated, valid_t, config.batch_size)
        if loss < best_loss - config.min_delta:
            best_loss, best_state, best_epoch = loss, copy.deepcopy(validated.state_dict()), epoch
        bar.set_postfix(valid_log_loss=f"{loss:.4f}", best_epoch=best_epoch)
        if epoch - best_epoch >= config.patience:
            break
    net.load_state_dict(best_state)
    info = {"best_epoch": best_epoch, "epochs_run": epoch, "best_valid_log_loss": best_loss}
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
        "config": asdict(config),
        "split": list(split),
        "model_version": MODEL_VERSION,
    }
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    folder = Path(folder) if folder is not None else data_cache_dir() / "models"
    return folder / f"{name}-{key}.pt"


def fit_or_load(
    scenario: Scenario,
    config: LogClickConfig,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> LogClickModel:
    """The model fitted on ``scenario``'s training lists (early stopping on its validation
    lists), from the disk cache when present.

    :param cache_dir: folder of cached models; defaults to ``rec_env.data.cache_dir() / "models"``.
    :param progress: show the training progress bar (when it fits).
    """
    dataset = scenario.dataset
    fingerprint = dataset.fingerprint()
    split = (scenario.split, scenario.split_seed)
    folder = Path(cache_dir) if cache_dir is not None else None
    path = cache_path(dataset.name, fingerprint, config, split, folder)
    if path.is_file():
        return LogClickModel.load(path)
    splits = scenario.splits
    model = fit_log_model(splits.train, splits.valid, config, progress=progress)
    model.info.update(
        dataset=dataset.name, fingerprint=fingerprint, split=split[0], split_seed=split[1]
    )
    model.save(path)
    return model
