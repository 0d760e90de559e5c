"""`QNetwork`: the DRL-Rec / HRL-Rec list-wise Q-network, with `TEACHER` and `STUDENT` presets.

Slot t of a list is a token sequence ``[start, item_0, ..., item_{t-1}]``::

    fields of a token    item id, item features, click, position | user id, user features
        -> FieldInteraction (self-attention over the 6 field embeddings)  [B, t+1, D]
        -> CausalBlock x n_layers (token j attends to tokens <= j)         [B, t+1, D]
        -> GRU over positions                                              [B, t+1, D]
        -> h_t = ReLU(W [gru_t; position embedding of slot t])             [B, D]
    state s_t = [h_t; p_u; b_u]                                          [B, H=D+F+1]
    Q(s_t, a) = MLP([h_t, item id embedding(a), item feature embedding(a)])
                + b_a + <p_u, q_a> + b_u

The last three terms are a logistic matrix factorisation (MF) of user u and item a: per-item
and per-user biases and F-dimensional factors (``factor_dim``). They are not in the DRL-Rec
paper; they play the part of DeepFM's FM component. An MLP over concatenated embeddings
learns a dot product slowly (Rendle et al., 2020). On ml-100k these terms lift the teacher's
held-out AUC from 0.72 to 0.77, and to 0.785 when they start from a fitted logistic MF
(:meth:`set_factors`, ``TrainConfig.mf_warm_start``; the MF alone scores 0.778, see
results/offline_agents). The user's factors ride in the state, so ``q(state, items)`` stays a
function of the state and the candidates.

The start token carries learned item-side fields, so slot 0 has a state too. Token j + 1
holds item j, so the output at token t has seen exactly slots < t: running the sequence
once gives the states of every slot without leakage (:meth:`QNetwork.state`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor, nn

from agents.data.batch import ListBatch
from agents.nn.layers import CausalBlock, FieldInteraction, QHead, causal_mask
from rec_env.arrays import standardise
from rec_env.checks import InputError, check_range, check_types

ITEM_FIELDS = 4  # item id, item features, click, position
USER_FIELDS = 2  # user id, user features


@dataclass(frozen=True)
class QNetworkConfig:
    """Widths of a :class:`QNetwork`; data sizes come from the feature tables."""

    embed_dim: int = 16
    """width of every field embedding (ids, features, click, position)"""
    model_dim: int = 64
    """width of the item tokens, the Transformer, the GRU and the state s_t"""
    head_dims: tuple[int, ...] = (64, 32)
    """hidden widths of the Q MLP; the last one is the hint layer"""
    n_heads: int = 2
    """attention heads, in the field interaction and in the Transformer"""
    n_layers: int = 1
    """causal Transformer layers over the items already placed"""
    ff_mult: int = 2
    """feed-forward width of a Transformer layer, in multiples of model_dim"""
    dropout: float = 0.3
    """dropout everywhere (attention, Transformer, MLP)"""
    max_slots: int = 16
    """largest slate size K the position embedding supports"""
    factor_dim: int = 8
    """F, width of the user and item factors of the MF term <p_u, q_a> (0: biases only)"""

    def __post_init__(self) -> None:
        """:raises InputError: naming the field of a wrong type or out of range."""
        check_types(self)
        check_range(self, ("n_heads", "n_layers", "ff_mult", "max_slots"), low=1)
        check_range(self, ("factor_dim",), low=0)
        check_range(self, ("dropout",), low=0, high=1)
        for name in ("embed_dim", "model_dim"):
            width = getattr(self, name)
            if width < 1 or width % self.n_heads:
                raise InputError(
                    f"QNetworkConfig.{name} must be a positive multiple of "
                    f"n_heads={self.n_heads}, got {width}"
                )
        if not self.head_dims or min(self.head_dims) < 1:
            raise InputError(f"QNetworkConfig.head_dims must be widths >= 1, got {self.head_dims}")

    def scaled(self, width: float) -> QNetworkConfig:
        """All widths times ``width`` (rounded to a multiple of ``n_heads``, at least ``n_heads``)."""

        def scale(x: int) -> int:
            return max(self.n_heads, round(x * width / self.n_heads) * self.n_heads)

        return replace(
            self,
            embed_dim=scale(self.embed_dim),
            model_dim=scale(self.model_dim),
            head_dims=tuple(scale(d) for d in self.head_dims),
            factor_dim=round(self.factor_dim * width),
        )


TEACHER = QNetworkConfig()
"""The teacher: embeddings 16 (official DRL-Rec code), model width 64, MLP 64-32, factors 8."""
STUDENT_WIDTH = 0.5
"""the student preset's widths as a share of the teacher's"""
STUDENT = TEACHER.scaled(STUDENT_WIDTH)
"""The student: every width halved (embeddings 8, factors 4); under half the teacher's
parameters. ``STUDENT.scaled(w / STUDENT_WIDTH)`` equals ``TEACHER.scaled(w)`` (the teacher's
widths are multiples of 4, so halving them rounds nothing)."""
FACTOR_INIT_STD = 0.01
"""standard deviation of the initial MF factors (biases start at 0)"""


class FieldEmbedding(nn.Module):
    """Field embeddings ``[..., E]`` of items, users, clicks and positions (feature tables inside)."""

    def __init__(self, embed_dim: int, max_slots: int, item_features, user_features) -> None:
        super().__init__()
        self.register_buffer("item_features", torch.from_numpy(standardise(item_features)))
        self.register_buffer("user_features", torch.from_numpy(standardise(user_features)))
        self.item_id = nn.Embedding(self.item_features.shape[0], embed_dim)
        self.item_feature = nn.Linear(self.item_features.shape[1], embed_dim)
        self.user_id = nn.Embedding(self.user_features.shape[0], embed_dim)
        self.user_feature = nn.Linear(self.user_features.shape[1], embed_dim)
        self.click = nn.Embedding(2, embed_dim)
        self.position = nn.Embedding(max_slots, embed_dim)
        self.start = nn.Parameter(0.1 * torch.randn(ITEM_FIELDS, embed_dim))

    def items(self, items: Tensor) -> Tensor:
        """``[...] -> [..., 2, E]``: id and feature embeddings of item ids."""
        return torch.stack([self.item_id(items), self.item_feature(self.item_features[items])], -2)

    def users(self, user_ids: Tensor) -> Tensor:
        """``[B] -> [B, 2, E]``: id and feature embeddings of users."""
        features = self.user_feature(self.user_features[user_ids])
        return torch.stack([self.user_id(user_ids), features], -2)

    def clicks(self, clicks: Tensor) -> Tensor:
        """``[...] -> [..., E]``, linear in the click so expected clicks in [0, 1] work too."""
        no_click, click = self.click.weight
        return no_click + clicks.unsqueeze(-1) * (click - no_click)


class QNetwork(nn.Module):
    """List-wise Q-network: ``state(batch)`` once, then ``q(state, items)`` for any candidates.

    :param config: widths (see :data:`TEACHER`, :data:`STUDENT`, :meth:`QNetworkConfig.scaled`).
    :param item_features: ``[n_items, F_i]`` feature table, row = item id (standardized inside).
    :param user_features: ``[n_users, F_u]`` feature table, row = user id.
    """

    def __init__(self, config: QNetworkConfig, item_features, user_features) -> None:
        super().__init__()
        self.config = config
        e, d = config.embed_dim, config.model_dim
        self.fields = FieldEmbedding(e, config.max_slots, item_features, user_features)
        self.interaction = FieldInteraction(
            ITEM_FIELDS + USER_FIELDS, e, config.n_heads, d, config.dropout
        )
        self.blocks = nn.ModuleList(
            CausalBlock(d, config.n_heads, config.ff_mult, config.dropout)
            for _ in range(config.n_layers)
        )
        self.gru = nn.GRU(d, d, batch_first=True)
        self.to_state = nn.Linear(d + e, d)
        self.head = QHead(d, 2 * e, config.head_dims, config.dropout)  # reads h_t only
        n_items, n_users = self.fields.item_features.shape[0], self.fields.user_features.shape[0]
        self.item_bias = nn.Embedding(n_items, 1)
        self.item_factor = nn.Embedding(n_items, config.factor_dim)
        self.user_factor = nn.Embedding(n_users, config.factor_dim + 1)  # [p_u; b_u]
        nn.init.zeros_(self.item_bias.weight)
        nn.init.normal_(self.item_factor.weight, std=FACTOR_INIT_STD)
        nn.init.normal_(self.user_factor.weight, std=FACTOR_INIT_STD)
        with torch.no_grad():
            self.user_factor.weight[:, -1] = 0.0

    @property
    def state_dim(self) -> int:
        """H = model width + the user's MF factors and bias."""
        return self.config.model_dim + self.config.factor_dim + 1

    def factor_parameters(self) -> list[nn.Parameter]:
        """The per-id MF tables (biases and factors), for their own learning rate."""
        return [self.item_bias.weight, self.item_factor.weight, self.user_factor.weight]

    @torch.no_grad()
    def set_factors(self, user_table, item_table, scale: float = 1.0) -> None:
        """Overwrite the MF tables, e.g. with a fitted :class:`agents.baselines.mf.MFAgent`'s.

        :param user_table: ``[n_users, F + 1]`` rows ``[p_u; b_u]``.
        :param item_table: ``[n_items, F + 1]`` rows ``[q_a; b_a]``.
        :param scale: multiplies the MF term: biases by ``scale``, factors by its square root.
        """
        users = torch.as_tensor(user_table, dtype=torch.float32)
        items = torch.as_tensor(item_table, dtype=torch.float32)
        for name, table, embedding in (
            ("user", users, self.user_factor),
            ("item", items, self.item_factor),
        ):
            want = (embedding.num_embeddings, self.config.factor_dim + 1)
            if tuple(table.shape) != want:
                raise ValueError(f"{name}_table has shape {tuple(table.shape)}, expected {want}")
        root = scale**0.5
        self.user_factor.weight.copy_(torch.cat([root * users[:, :-1], scale * users[:, -1:]], 1))
        self.item_factor.weight.copy_(root * items[:, :-1])
        self.item_bias.weight.copy_(scale * items[:, -1:])

    @property
    def hint_dim(self) -> int:
        return self.config.head_dims[-1]

    def n_params(self) -> int:
        """Number of trainable parameters (feature tables are buffers, not counted)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def start_token(self, user_ids: Tensor) -> Tensor:
        """``[B] -> [B, 1, D]``: the token that starts every list (learned item-side fields)."""
        return self._interact(self.fields.start.expand(user_ids.shape[0], 1, -1, -1), user_ids)

    def tokens(
        self, user_ids: Tensor, items: Tensor, clicks: Tensor, first_slot: int = 0
    ) -> Tensor:
        """``[B, T, D]`` tokens of items placed in slots ``first_slot .. first_slot + T - 1``.

        Each token depends on its own item, click, slot and the user only, so a ranker can
        compute the token of a newly placed item alone and append it.
        """
        b, t = items.shape
        slots = torch.arange(first_slot, first_slot + t, device=items.device)
        item_side = torch.stack(
            [
                *self.fields.items(items).unbind(-2),
                self.fields.clicks(clicks),
                self.fields.position(slots).expand(b, t, -1),
            ],
            dim=-2,
        )  # [B, T, 4, E]
        return self._interact(item_side, user_ids)

    def _interact(self, item_side: Tensor, user_ids: Tensor) -> Tensor:
        """``[B, T, 4, E]`` item-side fields + the user's 2 fields -> ``[B, T, D]``."""
        user_side = self.fields.users(user_ids).unsqueeze(1).expand(-1, item_side.shape[1], -1, -1)
        return self.interaction(torch.cat([item_side, user_side], dim=-2))

    def contextualize(self, tokens: Tensor, valid: Tensor, user_ids: Tensor) -> Tensor:
        """States ``[B, T + 1, H]`` from the tokens ``[B, T + 1, D]`` of a list (start first).

        :param valid: ``[B, T + 1]`` bool; invalid tokens (empty slots) are zeroed and never
            attended to. Entry t reads tokens <= t, i.e. slots < t.
        :param user_ids: ``[B]``, whose MF factors end every state.
        """
        tokens = tokens * valid.unsqueeze(-1)
        allowed = causal_mask(valid)
        for block in self.blocks:
            tokens = block(tokens, allowed)
        hidden, _ = self.gru(tokens)
        return self._states(hidden, torch.arange(valid.shape[1], device=valid.device), user_ids)

    def _states(self, hidden: Tensor, slots: Tensor, user_ids: Tensor) -> Tensor:
        """``[B, T, H]`` states from the GRU outputs ``[B, T, D]`` of target slots ``[T]``."""
        b, n = hidden.shape[:2]
        target_slot = self.fields.position(slots).expand(b, -1, -1)
        context = torch.relu(self.to_state(torch.cat([hidden, target_slot], dim=-1)))
        user = self.user_factor(user_ids).unsqueeze(1).expand(-1, n, -1)
        return torch.cat([context, user], dim=-1)

    def encode(self, user_ids: Tensor, items: Tensor, clicks: Tensor, mask: Tensor) -> Tensor:
        """States of slots 0..T given the T items placed before them.

        :param user_ids: ``[B]``; :param items: ``[B, T]`` ids of slots 0..T-1 (T may be 0);
        :param clicks: ``[B, T]`` float; :param mask: ``[B, T]`` bool, False = empty slot.
        :return: ``[B, T + 1, H]``; entry t depends on slots < t only.
        """
        tokens = torch.cat([self.start_token(user_ids), self.tokens(user_ids, items, clicks)], 1)
        start_valid = torch.ones(user_ids.shape[0], 1, dtype=torch.bool, device=mask.device)
        return self.contextualize(tokens, torch.cat([start_valid, mask], dim=1), user_ids)

    def state(self, batch: ListBatch, position: int | Tensor | None = None) -> Tensor:
        """State s_t from the slots before t of each list (slot t and later are never read).

        :param position: ``None``: every slot, ``[B, K, H]`` in one pass; an ``int`` t:
            ``[B, H]``, running only slots < t; a ``[B]`` tensor: ``[B, H]``, slot per row.
        """
        if isinstance(position, int):
            return self.encode(
                batch.user_ids,
                batch.items[:, :position],
                batch.clicks[:, :position],
                batch.mask[:, :position],
            )[:, position]
        k = batch.slate_size
        states = self.encode(
            batch.user_ids,
            batch.items[:, : k - 1],
            batch.clicks[:, : k - 1],
            batch.mask[:, : k - 1],
        )
        if position is None:
            return states
        return states[torch.arange(len(batch), device=states.device), position]

    def candidates(self, items: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The state-independent half of Q, computed once per candidate and reused.

        :param items: ``[..., M]`` item ids.
        :return: ``(first-layer projection [..., M, head_dims[0]], item bias [..., M],
            item factors [..., M, F])``.
        """
        projection = self.head.project_items(self.fields.items(items).flatten(-2))
        return projection, self.item_bias(items).squeeze(-1), self.item_factor(items)

    def score(
        self, state: Tensor, candidates: tuple[Tensor, Tensor, Tensor]
    ) -> tuple[Tensor, Tensor]:
        """``(q [..., M], hint [..., M, hint_dim])`` from a state and :meth:`candidates`."""
        projection, item_bias, item_factor = candidates
        context, user_factor, user_bias = state.split(
            [self.config.model_dim, self.config.factor_dim, 1], dim=-1
        )
        q, hint = self.head(context, projection)
        match = (user_factor.unsqueeze(-2) * item_factor).sum(-1)  # [..., M]
        return q + item_bias + match + user_bias, hint

    def q(
        self, state: Tensor, items: Tensor, return_hint: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        """Q-values of M candidate items per state; the state is computed once and broadcast.

        :param state: ``[..., H]`` from :meth:`state`.
        :param items: ``[..., M]`` item ids (same leading shape as ``state``).
        :return: ``q [..., M]``, and ``hint [..., M, hint_dim]`` if ``return_hint``.
        """
        q, hint = self.score(state, self.candidates(items))
        return (q, hint) if return_hint else q

    def hint(self, state: Tensor, items: Tensor) -> Tensor:
        """The last hidden layer of the Q MLP, ``[..., M, hint_dim]``."""
        return self.q(state, items, return_hint=True)[1]
