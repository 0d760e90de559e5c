"""`LogClickModel`: a click model fitted on logged lists, behind the `UserModel` interface.

See :mod:`rec_env.simulator.click_net` for the model and :mod:`rec_env.simulator.fit` for
training (:func:`~rec_env.simulator.fit_log_model`) and the on-disk cache
(:func:`~rec_env.simulator.fit_or_load`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rec_env.cache import load_payload, save_payload
from rec_env.data.lists import PAD_ITEM
from rec_env.simulator.base import placed_mask
from rec_env.simulator.click_net import ClickNet


@dataclass(frozen=True)
class LogClickConfig:
    """Architecture and training of a :class:`LogClickModel`."""

    dim: int = 8
    """d, the user / item factor dimension"""
    epochs: int = 40
    """maximum passes over the training lists"""
    lr: float = 0.01
    """Adam learning rate"""
    batch_size: int = 128
    """lists (requests) per gradient step; every shown slot of a list is a training row"""
    weight_decay: float = 0.0
    """Adam's L2 penalty on all parameters"""
    embedding_l2: float = 5.0
    """L2 prior on the user / item id embeddings (not the feature maps): the loss is
    mean BCE + embedding_l2 * (sum of their squared norms) / (training slots)"""
    patience: int = 3
    """stop after this many epochs without a better validation log-loss"""
    min_delta: float = 1e-4
    """smallest drop of the validation log-loss (nats) that counts as better (a plateau's
    last 0.01 % is not worth more epochs)"""
    average_epochs: float = 1.0
    """horizon, in epochs, of the exponential moving average of the weights that is
    validated and kept (Polyak averaging: less minibatch noise); 0 keeps the raw weights"""
    init_std: float = 0.1
    """standard deviation of the initial id embeddings"""
    seed: int = 0
    """seed of the initial weights and of the order of the training lists"""
    use_position: bool = True
    """learn an examination probability per slot (position bias, multiplying the click
    probability)"""
    use_context: bool = True
    """learn the in-list context terms (similarity to earlier items, clicks so far)"""
    use_popularity: bool = True
    """append each item's log exposure in the training lists (``log(1 + shown slots)``) to
    its features, so items with few logs still get a popularity-based attraction"""
    sparse_ids: bool = False
    """lazy Adam on the user / item id embeddings (``torch.optim.SparseAdam``): a step updates
    only the rows of the ids in its batch, so it no longer costs O(n_items + n_users) (at 1M
    items a dense Adam step spends most of its time on the tables); needs weight_decay = 0"""

    use_interest: bool = False
    """learn how a click moves the in-list taste: a bilinear term in the factor sum of the
    items clicked earlier in the list (the synthetic world's ``interest_shift``)"""
    learn_exits: bool = False
    """learn the probability that a user leaves a list after a slot, with and without a click,
    from where the training lists end before K (the synthetic world's exits); off for logs
    whose lists are short for other reasons (a user's last list, one-slot impressions)"""

    def __post_init__(self) -> None:
        for name in ("dim", "epochs", "batch_size", "patience"):
            if getattr(self, name) < 1:
                raise ValueError(f"LogClickConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("lr", "init_std"):
            if getattr(self, name) <= 0:
                raise ValueError(f"LogClickConfig.{name} must be > 0, got {getattr(self, name)}")
        for name in ("weight_decay", "embedding_l2", "min_delta", "average_epochs"):
            if getattr(self, name) < 0:
                raise ValueError(f"LogClickConfig.{name} must be >= 0, got {getattr(self, name)}")
        if self.sparse_ids and self.weight_decay > 0:
            raise ValueError(
                "LogClickConfig.weight_decay must be 0 with sparse_ids (SparseAdam has no L2 "
                f"penalty; embedding_l2 is the prior on the id embeddings), got {self.weight_decay}"
            )


def build_net(
    config: LogClickConfig,
    item_features: torch.Tensor,
    user_features: torch.Tensor,
    slate_size: int,
) -> ClickNet:
    """A fresh :class:`ClickNet` for ``config`` (weights drawn from torch's current RNG)."""
    return ClickNet(
        item_features,
        user_features,
        slate_size,
        dim=config.dim,
        init_std=config.init_std,
        use_position=config.use_position,
        use_context=config.use_context,
        sparse=config.sparse_ids,
        use_interest=config.use_interest,
    )


class LogClickModel:
    """A fitted click model; implements :class:`~rec_env.simulator.UserModel`.

    :param net: the trained :class:`ClickNet` (put in eval mode, used under ``no_grad``).
    :param config: the config it was built and trained with.
    :param info: provenance saved with the weights, e.g. ``fingerprint`` (of the dataset),
        ``split_seed``, ``best_epoch``, ``best_valid_log_loss``.
    """

    def __init__(self, net: ClickNet, config: LogClickConfig, info: dict[str, Any] | None = None):
        self.net = net.eval()
        self.config = config
        self.info = dict(info or {})
        self.slate_size = net.slate_size
        self.n_items = len(net.item_features)
        self.n_users = len(net.user_features)
        self.exit_after = np.array(self.info.get("exit_after", [0.0, 0.0]))
        """probabilities of leaving after a slot (without, with a click); see learn_exits"""
        self.exits = bool(self.exit_after.any())

    def exit_proba(self, clicks: np.ndarray) -> np.ndarray:
        """See :class:`~rec_env.simulator.base.LeavingUsers`: the learned exit rates."""
        return self.exit_after[np.asarray(clicks, dtype=np.int64)]

    def click_proba(
        self,
        users: np.ndarray,
        slate_items: np.ndarray,
        slate_clicks: np.ndarray,
        candidates: np.ndarray,
        position: np.ndarray,
    ) -> np.ndarray:
        """See :meth:`rec_env.simulator.UserModel.click_proba`.

        A slot before ``position`` that holds ``PAD_ITEM`` counts as not shown (as in OBD
        logs, where each request has one logged slot).

        :raises ValueError: on mismatched shapes, positions outside ``[0, K)``, or user /
            item ids outside the fitted id space.
        """
        users, slate_items, candidates, position = (
            np.asarray(a).astype(np.int64, copy=False)
            for a in (users, slate_items, candidates, position)
        )
        slate_clicks = np.asarray(slate_clicks)
        self._check(users, slate_items, slate_clicks, candidates, position)
        placed = placed_mask(position, self.slate_size) & (slate_items != PAD_ITEM)
        inputs = (
            users,
            np.where(placed, slate_items, 0),
            np.where(placed, slate_clicks, 0).astype(np.float32),
            placed.astype(np.float32),
            candidates.reshape(len(users), -1),
            position,
        )
        with torch.no_grad():
            log_p = self.net.candidate_log_proba(*(torch.from_numpy(a) for a in inputs))
        return torch.exp(log_p).numpy().reshape(candidates.shape)

    def _check(self, users, slate_items, slate_clicks, candidates, position) -> None:
        """Raise ``ValueError`` naming the first problem in a ``click_proba`` call."""
        b, k = len(users) if users.ndim == 1 else -1, self.slate_size
        if b < 0 or slate_items.shape != (b, k) or slate_clicks.shape != (b, k):
            raise ValueError(
                f"users must be [B], slate_items and slate_clicks [B, K={k}] (the fitted K); "
                f"got {users.shape}, {slate_items.shape}, {slate_clicks.shape}"
            )
        if candidates.ndim not in (1, 2) or len(candidates) != b or position.shape != (b,):
            raise ValueError(
                f"candidates must be [B] or [B, M] and position [B] with B={b}; "
                f"got {candidates.shape} and {position.shape}"
            )
        _check_range("position", position, 0, k)
        _check_range("users", users, 0, self.n_users)
        _check_range("candidates", candidates, 0, self.n_items)
        placed = placed_mask(position, k)
        placed_items = np.where(placed, slate_items, 0)
        _check_range("slate_items (slots < position)", placed_items, PAD_ITEM, self.n_items)
        _check_range("slate_clicks (slots < position)", np.where(placed, slate_clicks, 0), 0, 2)

    def save(self, path: str | Path) -> Path:
        """Write weights, config and info to ``path`` atomically
        (:func:`~rec_env.cache.save_payload`)."""
        info = {**self.info, "slate_size": self.slate_size}
        payload = {"config": asdict(self.config), "info": info, "state": self.net.state_dict()}
        return save_payload(payload, path)

    @classmethod
    def load(cls, path: str | Path) -> LogClickModel:
        """Read a model written by :meth:`save` (``torch.load(weights_only=True)``)."""
        payload = load_payload(path)
        config, state, info = LogClickConfig(**payload["config"]), payload["state"], payload["info"]
        net = build_net(config, state["item_features"], state["user_features"], info["slate_size"])
        net.load_state_dict(state)
        return cls(net, config, info)


def _check_range(name: str, values: np.ndarray, low: int, high: int) -> None:
    """Raise ``ValueError`` if any of ``values`` is outside ``[low, high)``, showing the first."""
    bad = (values < low) | (values >= high)
    if bad.any():
        first = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} out of range [{low}, {high}): value {values[tuple(first)]} at index "
            f"{tuple(int(i) for i in first)}"
        )
