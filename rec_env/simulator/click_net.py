"""`ClickNet`: the torch module behind :class:`~rec_env.simulator.LogClickModel`.

A position-based click model (PBM): user ``u`` examines slot ``k`` of a list with
probability ``exam_k`` and, if so, clicks item ``i`` when it attracts them, given the items
``S`` shown before it and the ``c`` clicks on them::

    P(click) = exam_k * sigmoid(logit)              exam_k = sigmoid(e_k)  (use_position;
                                                    exam_k = 1 otherwise)
    logit = b + b_u + b_i + <p_u, q_i>              taste: biases and factors
          + <q_i, W mean_{j in S} q_j> + w_c * c    in-list context    (use_context)
          + <q_i, V sum_{j in S clicked} q_j>       interest after a click (use_interest)

Examination multiplies the probability rather than shifting the logit, so a low slot scales
every item's click probability down by the same factor (as in PBM and cascade models).

``[p_u, b_u] = E_user[u] + A_user x_u`` and ``[q_i, b_i] = E_item[i] + A_item x_i``: an id
embedding plus a linear map of the (standardised) feature vector ``x``, so items and users
with few logs lean on their features (when fitted on logs, an item's ``x`` ends with its log
exposure in the training lists: :func:`~rec_env.simulator.fit.item_feature_table`). The
context similarity is bilinear (``W`` learned, ``d x d``) because factors are only identified
up to a linear map; ``W = -fatigue * I`` recovers a plain dot-product fatigue penalty.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def exclusive_cumsum(values: torch.Tensor) -> torch.Tensor:
    """Sum over the slots strictly before each slot, along dim 1: ``[N, K, ...] -> [N, K, ...]``."""
    return torch.cumsum(values, dim=1) - values


EXAMINATION_INIT = 0.9
"""Initial examination probability of every slot."""


class ClickNet(nn.Module):
    """Log click probabilities of logged lists (training) and of candidates after a partial
    list (serving).

    :param item_features: ``[n_items, F_i]`` float32 standardised item features (may have F_i = 0).
    :param user_features: ``[n_users, F_u]`` float32 standardised user features.
    :param slate_size: K, the slots per list.
    :param dim: d, the factor dimension.
    :param init_std: standard deviation of the initial id embeddings.
    :param use_position: learn an examination probability per slot.
    :param use_context: learn the in-list context terms.
    :param use_interest: learn how a click moves the taste (``V``, the clicked items' factors).
    :param sparse: the id embeddings give sparse gradients (rows of the ids in the batch only),
        for an optimiser that updates those rows alone (``torch.optim.SparseAdam``).
    """

    def __init__(
        self,
        item_features: torch.Tensor,
        user_features: torch.Tensor,
        slate_size: int,
        dim: int,
        init_std: float,
        use_position: bool,
        use_context: bool,
        sparse: bool = False,
        use_interest: bool = False,
    ):
        super().__init__()
        self.dim = dim
        self.slate_size = slate_size
        self.register_buffer("item_features", item_features)
        self.register_buffer("user_features", user_features)
        self.item_embedding = _embedding(len(item_features), dim + 1, init_std, sparse)
        self.user_embedding = _embedding(len(user_features), dim + 1, init_std, sparse)
        self.item_map = _linear(item_features.shape[1], dim + 1)
        self.user_map = _linear(user_features.shape[1], dim + 1)
        self.bias = nn.Parameter(torch.zeros(()))
        exam_logit = torch.full((slate_size,), EXAMINATION_INIT).logit()
        self.exam_logit = nn.Parameter(exam_logit) if use_position else None
        self.context_map = nn.Parameter(torch.zeros(dim, dim)) if use_context else None
        self.click_weight = nn.Parameter(torch.zeros(())) if use_context else None
        self.interest_map = nn.Parameter(torch.zeros(dim, dim)) if use_interest else None

    def item_repr(self, items: torch.Tensor) -> torch.Tensor:
        """``[...]`` item ids -> ``[..., d + 1]``: factor ``q_i`` then bias ``b_i``."""
        return self.item_embedding(items) + self.item_map(self.item_features[items])

    def user_repr(self, users: torch.Tensor) -> torch.Tensor:
        """``[...]`` user ids -> ``[..., d + 1]``: factor ``p_u`` then bias ``b_u``."""
        return self.user_embedding(users) + self.user_map(self.user_features[users])

    def prefix_context(
        self, items: torch.Tensor, clicks: torch.Tensor, shown: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Context of every slot from the shown slots before it.

        :param items: ``[N, K]`` item ids (any valid id where not shown).
        :param clicks: ``[N, K]`` float clicks.
        :param shown: ``[N, K]`` float, 1 where an item was shown.
        :return: ``(mean factor of earlier shown items [N, K, d], earlier clicks [N, K],
            factor sum of earlier clicked items [N, K, d] or None without use_interest)``;
            the mean is 0 where nothing was shown before.
        """
        factors = self.item_repr(items)[..., : self.dim] * shown[..., None]
        count = exclusive_cumsum(shown).clamp(min=1.0)
        mean = exclusive_cumsum(factors) / count[..., None]
        clicked = None
        if self.interest_map is not None:
            clicked = exclusive_cumsum(factors * clicks[..., None])
        return mean, exclusive_cumsum(clicks * shown), clicked

    def attraction_logit(
        self,
        users: torch.Tensor,
        candidates: torch.Tensor,
        context_mean: torch.Tensor,
        clicks_before: torch.Tensor,
        clicked_sum: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Attraction logits of candidates; arguments broadcast against ``candidates [B, M]``.

        :param users: ``[B, 1]`` or ``[B, M]`` user ids.
        :param candidates: ``[B, M]`` item ids.
        :param context_mean: ``[B, 1 | M, d]`` mean factor of the items shown before.
        :param clicks_before: ``[B, 1 | M]`` clicks so far in the list.
        :param clicked_sum: ``[B, 1 | M, d]`` factor sum of the clicked items (use_interest).
        :return: ``[B, M]`` logits.
        """
        user, item = self.user_repr(users), self.item_repr(candidates)
        factor = item[..., : self.dim]
        logit = self.bias + user[..., -1] + item[..., -1]
        logit = logit + (user[..., : self.dim] * factor).sum(-1)
        if self.context_map is not None:
            logit = logit + ((factor @ self.context_map) * context_mean).sum(-1)
            logit = logit + self.click_weight * clicks_before
        if self.interest_map is not None:
            logit = logit + ((factor @ self.interest_map) * clicked_sum).sum(-1)
        return logit

    def log_examination(self, position: torch.Tensor) -> torch.Tensor:
        """``log exam_k`` of slots ``position`` (any shape); 0 without ``use_position``."""
        if self.exam_logit is None:
            return torch.zeros(position.shape, device=position.device)
        return F.logsigmoid(self.exam_logit[position])

    def log_proba(
        self,
        users: torch.Tensor,
        candidates: torch.Tensor,
        position: torch.Tensor,
        context_mean: torch.Tensor,
        clicks_before: torch.Tensor,
        clicked_sum: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``log P(click) = log exam_k + log sigmoid(logit)``, ``[B, M]``.

        Arguments as in :meth:`attraction_logit`; ``position`` is ``[B, 1]`` or ``[B, M]``.
        """
        logit = self.attraction_logit(users, candidates, context_mean, clicks_before, clicked_sum)
        return self.log_examination(position) + F.logsigmoid(logit)

    def list_log_proba(
        self, users: torch.Tensor, items: torch.Tensor, clicks: torch.Tensor, shown: torch.Tensor
    ) -> torch.Tensor:
        """Log click probabilities of every slot of logged lists, each with its true earlier context.

        :param users: ``[N]``; :param items: ``[N, K]`` (valid ids everywhere);
        :param clicks: ``[N, K]`` float; :param shown: ``[N, K]`` float.
        :return: ``[N, K]`` log probabilities (meaningful where ``shown``).
        """
        mean, clicks_before, clicked = self.prefix_context(items, clicks, shown)
        position = torch.arange(items.shape[1], device=items.device).expand_as(items)
        return self.log_proba(users[:, None], items, position, mean, clicks_before, clicked)

    def candidate_log_proba(
        self,
        users: torch.Tensor,
        slate_items: torch.Tensor,
        slate_clicks: torch.Tensor,
        placed: torch.Tensor,
        candidates: torch.Tensor,
        position: torch.Tensor,
    ) -> torch.Tensor:
        """Log click probabilities of ``[B, M]`` candidates at slot ``position [B]`` after the
        ``placed [B, K]`` slots."""
        mean, clicks_before, clicked = self.prefix_context(slate_items, slate_clicks, placed)
        rows = torch.arange(len(users), device=users.device)
        mean, clicks_before = mean[rows, position, None, :], clicks_before[rows, position, None]
        clicked = None if clicked is None else clicked[rows, position, None, :]
        return self.log_proba(
            users[:, None], candidates, position[:, None], mean, clicks_before, clicked
        )


def _embedding(n: int, width: int, init_std: float, sparse: bool) -> nn.Embedding:
    embedding = nn.Embedding(n, width, sparse=sparse)
    nn.init.normal_(embedding.weight, std=init_std)
    return embedding


def _linear(n_features: int, width: int) -> nn.Linear:
    """A bias-free linear map initialised at zero (features start as a no-op)."""
    linear = nn.Linear(n_features, width, bias=False)
    nn.init.zeros_(linear.weight)
    return linear
