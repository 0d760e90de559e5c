"""Eval-mode forms of the Q-network's layers in fewer, larger ops, for the greedy ranker.

They compute what the layers of :mod:`agents.nn.layers` compute with dropout off, to float
tolerance, rearranged so that an exported graph (ONNX Runtime) runs a few large kernels
per slot instead of many small ones:

* multi-head attention without splitting heads (:func:`pooled_attention`): the products
  ``q_d k_d`` are summed per head by one matmul with a 0/1 *head pool* matrix, so no reshape
  reads the batch size and no batched matmul loops over tiny per-request matrices;
* a Linear's bias folded into its matmul by a constant 1 column (:func:`with_bias_column`);
* the self-attention across the fields of a token split into a per-field part
  (:func:`field_rows`: the field plus the attention's output bias, and its queries, keys and
  values), computed once per candidate, user or slot, and the mixing of the 6 fields of one
  token (:func:`field_token`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from agents.nn.layers import CausalBlock, FieldInteraction

KeysValues = tuple[Tensor, Tensor]
"""keys and values of the tokens so far, each ``[B, T, D]`` (heads side by side)"""


def head_pool(dim: int, n_heads: int) -> Tensor:
    """``[dim, n_heads]`` 0/1 matrix: column h sums the ``dim / n_heads`` dimensions of head h."""
    return torch.eye(n_heads).repeat_interleave(dim // n_heads, dim=0)


def pooled_attention(q: Tensor, k: Tensor, v: Tensor, pool: Tensor) -> Tensor:
    """Unmasked multi-head attention of queries ``q [..., 1, E]`` over the keys and values
    ``k, v [..., Tk, E]`` (q broadcasts against k: ``[B, 1, E]`` for one query per row,
    ``[B, Tq, 1, E]`` against ``[B, 1, Tk, E]`` for Tq queries).

    Equals ``scaled_dot_product_attention`` on the heads split from E (head h = dimensions
    ``h E/heads .. (h+1) E/heads - 1``, as :class:`agents.nn.layers.SelfAttention` splits them).

    :param pool: ``[E, heads]`` :func:`head_pool`.
    :return: ``[..., E]``, the query axis of q in place of the key axis.
    """
    scale = (pool.shape[0] // pool.shape[1]) ** -0.5
    weights = ((q * k) @ (pool * scale)).softmax(dim=-2)  # [..., Tk, heads]
    return ((weights @ pool.T) * v).sum(dim=-2)


def with_bias_column(linear: nn.Linear) -> Tensor:
    """``[out + 1, in + 1]`` weight ``[[W, b], [0, 1]]``: on inputs whose last entry is 1,
    ``x @ result.T`` is ``[linear(x), 1]``, the layer and its bias in one matmul (a ReLU
    after it keeps the 1)."""
    weight, bias = linear.weight, linear.bias
    one = torch.eye(weight.shape[1] + 1, dtype=weight.dtype, device=weight.device)[-1:]
    return torch.cat([torch.cat([weight, bias[:, None]], dim=1), one], dim=0)


def field_rows(interaction: FieldInteraction, fields: Tensor) -> Tensor:
    """``[..., E] -> [..., 4E]``: per field, ``[field + attention output bias, q, k, v]``.

    Each field's part of the field self-attention, independent of the other fields of its
    token: computed once per candidate, user or slot, and read by :func:`field_token`.
    """
    attention = interaction.attention
    return torch.cat([fields + attention.out.bias, attention.qkv(fields)], dim=-1)


def field_token(interaction: FieldInteraction, rows: Tensor, pool: Tensor) -> Tensor:
    """The token ``[B, D]`` of one list position from the :func:`field_rows` ``[B, 6, 4E]`` of
    its 6 fields: ``FieldInteraction.forward`` in eval mode.

    :param pool: ``[E, heads]`` :func:`head_pool`.
    """
    fields, q, k, v = rows.split(pool.shape[0], dim=-1)
    mixed = pooled_attention(q.unsqueeze(-2), k.unsqueeze(-3), v.unsqueeze(-3), pool)
    mixed = mixed @ interaction.attention.out.weight.T
    mixed = interaction.norm(fields + mixed)  # fields carry the output bias
    return torch.relu(interaction.project(mixed.flatten(-2)))


def block_step(
    block: CausalBlock, x: Tensor, past: KeysValues | None, pool: Tensor
) -> tuple[Tensor, KeysValues]:
    """``CausalBlock.extend`` in eval mode on one appended token ``x [B, D]``.

    :param past: the earlier tokens' keys and values, each ``[B, T, D]`` (None: no earlier).
    :param pool: ``[D, heads]`` :func:`head_pool`.
    :return: ``(output [B, D], keys and values [B, T + 1, D])``.
    """
    q, k, v = block.attention.qkv(block.norm1(x)).unsqueeze(1).split(x.shape[-1], dim=-1)
    if past is not None:
        k, v = torch.cat([past[0], k], dim=1), torch.cat([past[1], v], dim=1)
    x = x + block.attention.out(pooled_attention(q, k, v, pool))
    return x + block.feed_forward(block.norm2(x)), (k, v)


def gru_weights(gru: nn.GRU) -> tuple[Tensor, Tensor]:
    """A one-layer ``gru``'s weights as one ``[4D, 2D]`` matrix and ``[4D]`` bias for
    :func:`gru_step`: on ``[x; h]`` they give the reset and update gates' sums (2D), the new
    gate's input part (D) and its hidden part (D)."""
    w_ih, w_hh = gru.weight_ih_l0, gru.weight_hh_l0  # [3D, D] each: reset, update, new
    width = w_hh.shape[1]
    zeros = torch.zeros_like(w_hh[:width])
    weight = torch.cat(
        [
            torch.cat([w_ih[: 2 * width], w_hh[: 2 * width]], dim=1),
            torch.cat([w_ih[2 * width :], zeros], dim=1),
            torch.cat([zeros, w_hh[2 * width :]], dim=1),
        ]
    )
    b_ih, b_hh = gru.bias_ih_l0, gru.bias_hh_l0
    bias = torch.cat([b_ih[: 2 * width] + b_hh[: 2 * width], b_ih[2 * width :], b_hh[2 * width :]])
    return weight, bias


def gru_step(x: Tensor, state: Tensor, weights: tuple[Tensor, Tensor]) -> Tensor:
    """One GRU step on ``x [B, D]`` from ``state [B, D]``: the new state ``[B, D]``, one matmul.

    :param weights: :func:`gru_weights` of the GRU.
    """
    width = x.shape[-1]
    gates = F.linear(torch.cat([x, state], dim=-1), *weights)
    reset_update, new_input, new_hidden = gates.split([2 * width, width, width], dim=-1)
    reset, update = torch.sigmoid(reset_update).split(width, dim=-1)
    new = torch.tanh(new_input + reset * new_hidden)
    return new + update * (state - new)


def relu_stack(x: Tensor, weights: list[Tensor]) -> Tensor:
    """``x -> relu(x @ W.T)`` for each W of ``weights`` in turn (:func:`with_bias_column`)."""
    for weight in weights:
        x = F.relu(x @ weight.T)
    return x
