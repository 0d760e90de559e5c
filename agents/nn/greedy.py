"""The greedy K-slot fill of a :class:`~agents.nn.qnetwork.QNetwork`, incremental and in few ops.

Once per call (:func:`catalogue`; a constant that ONNX Runtime folds when it loads an
exported graph): the field rows
(:func:`~agents.nn.fused.field_rows`) and the Q MLP's item half of every item. Once per
request (:func:`prepare`): the field rows of the user, the assumed click and each slot's
position, and the Q terms that no slot changes (MF match, biases, the valid mask) as one
``base``. Per slot: one Q MLP pass over the candidates, an argmax, and the chosen item's token
through the field attention, the Transformer (one new query over the cached keys and values)
and one GRU step (:class:`Context`). Dropout is off throughout (eval mode).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from agents.nn.fused import (
    KeysValues,
    block_step,
    field_rows,
    field_token,
    gru_step,
    gru_weights,
    head_pool,
    relu_stack,
    with_bias_column,
)
from agents.nn.qnetwork import QNetwork


@dataclass
class Request:
    """What a fill computes once per request (B requests of C candidates, k slots).

    :param start_rows: ``[B, 6, 4E]`` field rows of the start token.
    :param slot_rows: per slot t < k - 1, ``[B, 4, 4E]``: click, position t, user id, user
        features of the item placed in slot t.
    :param item_part: ``[B, C, head_dims[0] + 1]`` candidates' first-layer half of the Q MLP
        (plus the state half's bias), ending in a 1 column.
    :param base: ``[B, C]`` the Q terms that no slot changes (MF match, item and user biases,
        output bias), ``-inf`` where a candidate may not be shown.
    """

    start_rows: Tensor
    slot_rows: list[Tensor]
    item_part: Tensor
    base: Tensor


def catalogue(net: QNetwork) -> tuple[Tensor, Tensor]:
    """Per item of the catalogue, what depends on the weights only (an exported graph folds
    it into a constant when loaded): ``(field rows [n_items, 2, 4E] of its id and features,
    first-layer half of the Q MLP [n_items, head_dims[0] + 1] plus the state half's bias,
    ending in 1)``."""
    ids = torch.arange(net.item_bias.num_embeddings, device=net.item_bias.weight.device)
    items = net.fields.items(ids)  # [n_items, 2, E]
    head = net.head
    part = head.project_items(items.flatten(-2)) + head.state_in.bias
    return field_rows(net.interaction, items), torch.cat([part, torch.ones_like(part[:, :1])], 1)


def prepare(
    net: QNetwork,
    user_ids: Tensor,
    candidates: Tensor,
    valid: Tensor,
    k: int,
    click: float,
    item_part: Tensor,
) -> Request:
    """The per-request part of a fill (see :class:`Request`); shapes as in :func:`fill`.

    :param item_part: the catalogue's first-layer half of the Q MLP (:func:`catalogue`).
    """
    fields, interaction = net.fields, net.interaction
    b = candidates.shape[0]
    user = field_rows(interaction, fields.users(user_ids))  # [B, 2, 4E]
    start = field_rows(interaction, fields.start).expand(b, -1, -1)  # [B, 4, 4E]
    no_click = torch.zeros((), device=candidates.device)
    slot = torch.stack(
        [fields.clicks(no_click + click).expand(k - 1, -1), fields.position.weight[: k - 1]],
        dim=1,
    )  # [k - 1, 2, E]: click, position
    slot_rows = torch.cat(
        [
            field_rows(interaction, slot).expand(b, -1, -1, -1),
            user.unsqueeze(1).expand(-1, k - 1, -1, -1),
        ],
        dim=2,
    )  # [B, k - 1, 4, 4E]
    user_factor, user_bias = net.user_factor(user_ids).split([net.config.factor_dim, 1], -1)
    match = (user_factor.unsqueeze(-2) * net.item_factor(candidates)).sum(-1)
    base = net.item_bias(candidates).squeeze(-1) + match + user_bias + net.head.out.bias
    return Request(
        start_rows=torch.cat([start, user], dim=1),
        slot_rows=list(slot_rows.unbind(1)),
        item_part=item_part[candidates],
        base=base.masked_fill(~valid, float("-inf")),
    )


class Context:
    """The list so far of B requests: the Transformer's keys/values, the GRU state, and the
    state half of the Q MLP's first layer for the next slot. Weights are read from the
    network when built, so one Context serves one call."""

    def __init__(self, net: QNetwork, k: int) -> None:
        self.net = net
        config = net.config
        state_weight = net.to_state.weight  # [D, D + E]: GRU output, target slot's position
        self.field_pool = head_pool(config.embed_dim, config.n_heads).to(state_weight)
        self.model_pool = head_pool(config.model_dim, config.n_heads).to(state_weight)
        self.gru_weight = state_weight[:, : config.model_dim]
        self.slot_bias = (
            net.fields.position.weight[:k] @ state_weight[:, config.model_dim :].T
            + net.to_state.bias
        )  # [k, D]
        state_in = net.head.state_in.weight
        self.state_in = torch.cat([state_in, torch.zeros_like(state_in[:1])])  # [d0 + 1, D]
        self.hidden = [
            with_bias_column(m) for m in net.head.hidden if isinstance(m, torch.nn.Linear)
        ]
        out = net.head.out.weight  # [1, d]: a [d + 1, 1] matmul (a vector one is slow)
        self.out = torch.cat([out, torch.zeros_like(out[:, :1])], dim=1).T
        self.gru_weights = gru_weights(net.gru)
        self.keys_values: list[KeysValues | None] = [None] * len(net.blocks)
        self.gru_state: Tensor | None = None
        self.length = 0

    def append(self, rows: Tensor) -> Tensor:
        """Append the token of field rows ``[B, 6, 4E]``; the next slot's ``[B, d0 + 1]``
        state half of the Q MLP's first layer (ending in 0)."""
        x = field_token(self.net.interaction, rows, self.field_pool)  # [B, D]
        for i, block in enumerate(self.net.blocks):
            x, self.keys_values[i] = block_step(block, x, self.keys_values[i], self.model_pool)
        state = torch.zeros_like(x) if self.gru_state is None else self.gru_state
        self.gru_state = gru_step(x, state, self.gru_weights)
        context = torch.relu(self.gru_state @ self.gru_weight.T + self.slot_bias[self.length])
        self.length += 1
        return context @ self.state_in.T

    def q(self, state_half: Tensor, request: Request, base: Tensor) -> Tensor:
        """``[B, C]`` Q of every candidate; ``base`` holds -inf where one may not be chosen."""
        x = torch.relu(request.item_part + state_half.unsqueeze(1))
        return (relu_stack(x, self.hidden) @ self.out).squeeze(-1) + base


def fill(
    net: QNetwork, user_ids: Tensor, candidates: Tensor, valid: Tensor, k: int, click: float
) -> tuple[Tensor, Tensor]:
    """Greedy slate of each request, eval-mode Q (no dropout), clicks of placed items ``click``.

    :param user_ids: ``[B]``; :param candidates: ``[B, C]`` item ids;
    :param valid: ``[B, C]`` bool, False = may not be shown (at least k True per row).
    :return: ``(slate [B, k] item ids, q [B, k] Q-value of each chosen item)``.
    """
    item_rows, item_part = catalogue(net)
    request = prepare(net, user_ids, candidates, valid, k, click, item_part)
    context = Context(net, k)
    state_half = context.append(request.start_rows)
    base, chosen, values = request.base, [], []
    taken = torch.full_like(base[:, :1], float("-inf"))  # [B, 1]: a chosen one's new base
    for t in range(k):
        q = context.q(state_half, request, base)
        best = q.argmax(dim=1, keepdim=True)  # [B, 1]
        chosen.append(candidates.gather(1, best))
        values.append(q.gather(1, best))
        if t + 1 < k:
            base = base.scatter(1, best, taken)
            item = item_rows.index_select(0, chosen[-1].squeeze(1))  # [B, 2, 4E]
            rows = torch.cat([item, request.slot_rows[t]], dim=1)
            state_half = context.append(rows)
    return torch.cat(chosen, dim=1), torch.cat(values, dim=1)
