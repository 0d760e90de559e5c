"""Serving a Q-network outside any environment: greedy slot-by-slot ranking.

The list is built before the user reacts, so the clicks of the items already placed are
unknown. :class:`GreedyRanker` fills them with ``assumed_click`` (default 0: "no clicks
yet"; a value in (0, 1) is read as an expected click, the click embedding being linear).

Requests are checked first (:mod:`agents.requests`): an unknown user or item id, a repeated
or missing candidate, ``k`` out of range or a wrong dtype / shape raises a ``ValueError``
(:class:`~rec_env.checks.InputError`) naming the argument and the offending values.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import torch
from torch import Tensor, nn

from agents.data.batch import ListBatch
from agents.learners.base import eval_mode
from agents.nn.greedy import fill
from agents.nn.qnetwork import QNetwork
from agents.policies import Observation, masked_argmax, valid_mask
from agents.requests import IdSpace, recommend_request
from rec_env.checks import InputError
from rec_env.data import LoggedLists, Vocabularies


class UntrainedSlotsWarning(UserWarning):
    """:meth:`QAgent.recommend` was asked for more slots than the training log's lists had."""


class GreedyRanker(nn.Module):
    """Fills k slots one at a time with the valid candidate of highest Q.

    Slot t's state reads the t items already chosen. Work is shared across slots
    (:func:`agents.nn.greedy.fill`): the candidates' half of Q is computed once per request;
    each chosen item's token is computed once, when it is placed, and it alone then runs
    through the Transformer and one GRU step. The Q-values are the network's in eval mode
    (no dropout), to float tolerance, computed in fewer, larger ops (:mod:`agents.nn.fused`).
    Needs at least k valid candidates per request.

    :param network: the Q-network.
    :param k: slots to fill.
    :param assumed_click: click value given to the placed items.
    """

    def __init__(self, network: QNetwork, k: int, assumed_click: float = 0.0) -> None:
        super().__init__()
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise InputError(f"k must be an int >= 1, got {k!r}")
        if k > network.config.max_slots:
            raise InputError(f"k={k} exceeds the network's max_slots={network.config.max_slots}")
        self.network, self.k, self.assumed_click = network, k, assumed_click

    def forward(self, user_ids: Tensor, candidates: Tensor, valid: Tensor) -> tuple[Tensor, Tensor]:
        """:param user_ids: ``[B]``; :param candidates: ``[B, C]`` item ids;
        :param valid: ``[B, C]`` bool, False = may not be shown.

        :return: ``(slate [B, k] item ids, q [B, k] Q-value of each chosen item)``.
        """
        return fill(self.network, user_ids, candidates, valid, self.k, self.assumed_click)


class QAgent:
    """A Q-network as a ranker: Q(s_t, a_t) of logged slots, and greedy recommendations.

    :param network: a trained :class:`QNetwork`.
    :param assumed_click: click value of placed items when recommending (see module doc).
    :param batch_size: lists per forward pass when scoring.
    :param vocabularies: the training log's id vocabularies: :meth:`recommend` then takes and
        returns the log's own ids; None: dense indices (:meth:`score_logged`, :meth:`act`
        and :meth:`q_values` always work on indices, as the environment's observations do).
    :param trained_slots: K of the training log (its longest list): :meth:`recommend` warns
        above it (the later slots' position embeddings never saw a log); None: no warning.
    """

    def __init__(
        self,
        network: QNetwork,
        assumed_click: float = 0.0,
        batch_size: int = 1024,
        vocabularies: Vocabularies | None = None,
        trained_slots: int | None = None,
    ):
        self.network, self.assumed_click, self.batch_size = network, assumed_click, batch_size
        self.vocabularies, self.trained_slots = vocabularies, trained_slots

    @torch.no_grad()
    def score_logged(self, lists: LoggedLists, observed_clicks: bool = True) -> np.ndarray:
        """``[N, K]`` Q(s_t, a_t) of every logged slot given the logged prefix (eval mode).

        :param observed_clicks: True: the prefix's logged clicks (a feed that sees each click
            before the next slot); False: ``assumed_click`` in their place, as when a whole
            list is built before the user sees it (the ``auc_items_only`` of the benchmarks).
        """
        data = ListBatch.from_lists(lists)
        if not observed_clicks:
            data = replace(data, clicks=torch.full_like(data.clicks, self.assumed_click))
        scores = []
        with eval_mode(self.network) as net:
            for start in range(0, len(data), self.batch_size):
                batch = data.index(slice(start, start + self.batch_size))
                scores.append(net.q(net.state(batch), batch.items.unsqueeze(-1)))
        return torch.cat(scores).squeeze(-1).numpy()

    __call__ = score_logged

    @torch.no_grad()
    def q_values(self, observation: Observation) -> Tensor:
        """``[N, C]`` Q(s_t, c) of every candidate of a vector env's observation (eval mode).

        The state reads the items placed so far and their observed clicks.
        """
        batch = ListBatch.from_observation(observation)
        position = torch.as_tensor(observation["position"], dtype=torch.int64)
        candidates = torch.as_tensor(observation["candidates"], dtype=torch.int64)
        with eval_mode(self.network) as net:
            return net.q(net.state(batch, position), candidates)

    def act(self, observation: Observation) -> np.ndarray:
        """``[N]`` the valid candidate of highest Q in each request (greedy policy)."""
        return masked_argmax(self.q_values(observation).numpy(), valid_mask(observation))

    @property
    def ids(self) -> IdSpace:
        """The user and item ids the network has embeddings for."""
        return network_ids(self.network, self.vocabularies)

    @torch.no_grad()
    def recommend(self, user_id: int, candidates: Sequence[int], k: int) -> list[int]:
        """The top-k list for one request, filled slot by slot (see :class:`GreedyRanker`).

        :param user_id: a known user id (the log's own id if the agent has vocabularies).
        :param candidates: distinct known item ids, at least ``k``.
        :return: the k chosen item ids, in the candidates' id space.
        :param k: list length, ``1 <= k <= max_slots`` of the network; above
            ``trained_slots`` (the training log's longest list) a :class:`UntrainedSlotsWarning`.
        :raises InputError: (a ``ValueError``) naming the bad argument and values.
        """
        max_k = self.network.config.max_slots
        users, items = recommend_request(user_id, candidates, k, self.ids, max_k)
        if self.trained_slots is not None and k > self.trained_slots:
            warnings.warn(
                f"k={k} exceeds the longest list of the training log ({self.trained_slots} "
                f"slots): slots {self.trained_slots}..{k - 1} are ranked with position "
                "embeddings no log trained",
                UntrainedSlotsWarning,
                stacklevel=2,
            )
        users, items = torch.from_numpy(users), torch.from_numpy(items)
        with eval_mode(self.network) as net:
            ranker = GreedyRanker(net, int(k), self.assumed_click)
            slate, _ = ranker(users, items, torch.ones_like(items, dtype=torch.bool))
        return self.ids.raw("item", slate[0].numpy()).tolist()


def network_ids(network: QNetwork, vocabularies: Vocabularies | None = None) -> IdSpace:
    """The id ranges of a network's feature tables, in the log's ids if ``vocabularies``."""
    fields = network.fields
    n_users, n_items = fields.user_features.shape[0], fields.item_features.shape[0]
    return IdSpace.of(n_users, n_items, vocabularies)
