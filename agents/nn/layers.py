"""Building blocks of the Q-network: attention, a causal Transformer block, field interaction, Q head.

Attention is written on ``scaled_dot_product_attention`` with boolean masks (True = may
attend) rather than ``nn.TransformerEncoder``, whose fast-path checks cannot be exported
by ``torch.export``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class SelfAttention(nn.Module):
    """Multi-head self-attention over ``[N, T, D]`` with an optional ``[N, 1, T, T]`` bool mask."""

    def __init__(self, dim: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"width {dim} is not divisible by n_heads={n_heads}")
        self.n_heads, self.dropout = n_heads, dropout
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: Tensor, allowed: Tensor | None = None) -> Tensor:
        q, k, v = self._heads(x)
        return self._attend(q, k, v, allowed)

    def _heads(self, x: Tensor) -> Tensor:
        """``[N, T, D] -> [3, N, heads, T, D / heads]``: queries, keys, values."""
        n, t, d = x.shape
        return self.qkv(x).view(n, t, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)

    def _attend(self, q: Tensor, k: Tensor, v: Tensor, allowed: Tensor | None) -> Tensor:
        n, heads, t, head_dim = q.shape
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, dropout_p=p)
        return self.out(y.transpose(1, 2).reshape(n, t, heads * head_dim))


class CausalBlock(nn.Module):
    """Pre-norm Transformer encoder layer; token t attends to valid tokens <= t."""

    def __init__(self, dim: int, n_heads: int, ff_mult: int, dropout: float) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attention = SelfAttention(dim, n_heads, dropout)
        self.feed_forward = nn.Sequential(
            nn.Linear(dim, ff_mult * dim), nn.ReLU(), nn.Linear(ff_mult * dim, dim)
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, allowed: Tensor) -> Tensor:
        """:param x: ``[B, T, D]``; :param allowed: ``[B, 1, T, T]`` bool."""
        x = x + self.drop(self.attention(self.norm1(x), allowed))
        return x + self.drop(self.feed_forward(self.norm2(x)))


def causal_mask(valid: Tensor) -> Tensor:
    """``[B, 1, T, T]`` bool: query t may attend key j iff ``j <= t`` and key j is valid.

    :param valid: ``[B, T]`` bool; token 0 must be valid so that no row is empty.
    """
    t = valid.shape[1]
    causal = torch.ones(t, t, dtype=torch.bool, device=valid.device).tril()
    return causal[None, None] & valid[:, None, None, :]


class FieldInteraction(nn.Module):
    """Self-attention across the F field embeddings of one token, then a projection to D.

    ``[..., F, E] -> [..., D]``: residual attention + LayerNorm over fields, flattened.
    """

    def __init__(self, n_fields: int, embed_dim: int, n_heads: int, out_dim: int, dropout: float):
        super().__init__()
        self.attention = SelfAttention(embed_dim, n_heads, dropout)
        self.norm = nn.LayerNorm(embed_dim)
        self.project = nn.Linear(n_fields * embed_dim, out_dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, fields: Tensor) -> Tensor:
        lead, (f, e) = fields.shape[:-2], fields.shape[-2:]
        flat = fields.reshape(-1, f, e)
        mixed = self.norm(flat + self.drop(self.attention(flat)))
        return torch.relu(self.project(mixed.reshape(*lead, f * e)))


class QHead(nn.Module):
    """``Q(s, a) = MLP([s, e(a)])``, split so the state and item halves are computed once each.

    The first layer ``W [s; e(a)] = W_s s + W_a e(a)``: the state part is computed once per
    state, the item part once per candidate, and they are broadcast-added. The output of the
    last hidden layer is the *hint* (for hint distillation).
    """

    def __init__(self, state_dim: int, item_dim: int, dims: tuple[int, ...], dropout: float):
        super().__init__()
        self.state_in = nn.Linear(state_dim, dims[0])
        self.item_in = nn.Linear(item_dim, dims[0], bias=False)
        layers: list[nn.Module] = []
        for width_in, width_out in zip(dims[:-1], dims[1:], strict=True):
            layers += [nn.Dropout(dropout), nn.Linear(width_in, width_out), nn.ReLU(inplace=True)]
        self.hidden = nn.Sequential(*layers)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(dims[-1], 1)

    def project_items(self, item_embedding: Tensor) -> Tensor:
        """``[..., M, item_dim] -> [..., M, dims[0]]``, independent of the state."""
        return self.item_in(item_embedding)

    def forward(self, state: Tensor, item_part: Tensor) -> tuple[Tensor, Tensor]:
        """:param state: ``[..., H]``; :param item_part: ``[..., M, dims[0]]``.

        :return: ``(q [..., M], hint [..., M, dims[-1]])``.
        """
        x = (self.state_in(state).unsqueeze(-2) + item_part).relu_()  # in place: no copy
        hint = self.hidden(x)
        return self.out(self.drop(hint)).squeeze(-1), hint
