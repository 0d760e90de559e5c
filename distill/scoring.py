"""Score a pool of items at many states: Q of every (state, pool item) pair, no gradient.

The pool's cost is its pairs (B lists x S states x M items, about 1.9M at the defaults), so
the work per pair is kept to what Q needs and nothing is computed twice::

    once per item             the item half of the first layer, b_a, q_a  (QNetwork.candidates),
                              for the catalogue if it is smaller than the pool
    once per state            the state half of the first layer
    once per list, batched    b_a + <p_u, q_a> + b_u of every pair: one baddbmm [B, S, M]
    per pair, in blocks       ReLU(state half + item half) -> hidden layers -> out

Blocks hold about ``block_pairs`` pairs, so the activations stay cache-sized whatever the
pool size. The scores equal :meth:`QNetwork.q` in eval mode up to float rounding (the terms
are summed in another order).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from agents.learners.base import eval_mode
from agents.nn.qnetwork import QNetwork

BLOCK_PAIRS = 10_000
"""(state, item) pairs scored at once: a few MiB of activations, cache-sized"""


def position_in_list(rows: Tensor, n_lists: int) -> tuple[Tensor, int]:
    """Each transition's index among its list's transitions ``[N]``, and the most per list."""
    counts = torch.bincount(rows, minlength=n_lists)
    order = torch.argsort(rows, stable=True)
    first = torch.cumsum(counts, 0) - counts  # where each list starts in ``order``
    position = torch.empty_like(rows)
    position[order] = torch.arange(len(rows)) - first[rows[order]]
    return position, int(counts.max()) if len(rows) else 0


@torch.inference_mode()
def score_pool(
    network: QNetwork, states: Tensor, pool: Tensor, rows: Tensor, block_pairs: int = BLOCK_PAIRS
) -> Tensor:
    """``[N, M]`` Q of every pool item at every state, in eval mode.

    :param states: ``[N, H]`` one state per transition (detached here).
    :param pool: ``[B, M]`` the pool of each list; :param rows: ``[N]`` each state's list.
    """
    n_lists = pool.shape[0]
    position, per_list = position_in_list(rows, n_lists)
    in_order = len(rows) == n_lists * per_list and torch.equal(
        rows * per_list + position, torch.arange(len(rows), device=rows.device)
    )  # every list has per_list states, list by list: the layout [B, S] is a view
    if in_order:
        dense = states.detach().view(n_lists, per_list, -1)
    else:
        dense = states.new_zeros(n_lists, per_list, states.shape[-1])
        dense[rows, position] = states.detach()
    with eval_mode(network):
        scores = pool_q(network, dense, pool, block_pairs)
    return scores.view(len(rows), -1) if in_order else scores[rows, position]


def item_halves(network: QNetwork, pool: Tensor) -> tuple[tuple[Tensor, Tensor, Tensor], Tensor]:
    """The state-independent half of Q (:meth:`QNetwork.candidates`) once per item: of the
    whole catalogue when it is no larger than the pool ``[B, M]``, else of each pool entry.

    :return: ``(halves [I, ...], index [B, M])``: pool entry (b, m) is row ``index[b, m]``.
    """
    n_items = network.item_bias.num_embeddings
    if n_items <= pool.numel():
        return network.candidates(torch.arange(n_items, device=pool.device)), pool
    index = torch.arange(pool.numel(), device=pool.device).view_as(pool)
    return network.candidates(pool.flatten()), index


def q_of_items(network: QNetwork, states: Tensor, items: Tensor) -> tuple[Tensor, Tensor]:
    """:meth:`QNetwork.q` with ``return_hint`` (gradient, mode as the caller has them), the
    item halves computed once per item (:func:`item_halves`).

    :param states: ``[N, H]``; :param items: ``[N, L]`` item ids.
    :return: ``(q [N, L], hint [N, L, hint_dim])``.
    """
    halves, index = item_halves(network, items)
    return network.score(states, tuple(half[index] for half in halves))


def pool_q(network: QNetwork, states: Tensor, pool: Tensor, block_pairs: int) -> Tensor:
    """``[B, S, M]`` Q of the M pool items of each list at its S states (call in eval mode).

    :param states: ``[B, S, H]``; :param pool: ``[B, M]`` item ids.
    """
    head, config = network.head, network.config
    (projection, item_bias, item_factor), index = item_halves(network, pool)
    item_bias, item_factor = item_bias[index], item_factor[index]  # [B, M], [B, M, F]
    context, user_factor, user_bias = states.split([config.model_dim, config.factor_dim, 1], dim=-1)
    scores = torch.baddbmm(
        item_bias.unsqueeze(1) + user_bias, user_factor, item_factor.transpose(1, 2)
    )  # [B, S, M]: b_a + b_u + <p_u, q_a>
    # The first Linear adds its bias inside its matmul: its input gains a column of 1, which
    # meets the bias as an extra weight row.
    state_part = head.state_in(context)  # [B, S, D0]
    linears = [layer for layer in head.hidden if isinstance(layer, nn.Linear)] + [head.out]
    first = torch.cat([linears[0].weight.t(), linears[0].bias.unsqueeze(0)])  # [D0 + 1, D1]
    n_lists, per_list, m = scores.shape
    item_block = min(m, max(1, block_pairs // max(1, per_list)))
    list_block = max(1, block_pairs // max(1, per_list * item_block))
    inputs = state_part.new_empty(0)  # [Lb, S, Mb, D0 + 1], reused while the shape holds
    for b in range(0, n_lists, list_block):
        lists = slice(b, b + list_block)
        for i in range(0, m, item_block):
            block = index[lists, i : i + item_block]  # [Lb, Mb] rows of the item halves
            shape = (*block.shape[:1], per_list, *block.shape[1:])
            if inputs.shape[:-1] != shape:
                inputs = state_part.new_ones(*shape, state_part.shape[-1] + 1)
            item_part = projection.index_select(0, block.flatten()).view(*block.shape, -1)
            torch.add(state_part[lists, :, None], item_part[:, None], out=inputs[..., :-1])
            hidden = torch.mm(inputs.relu_().view(-1, inputs.shape[-1]), first)
            for layer in linears[1:]:  # ReLU, Linear (dropout is off in eval mode)
                hidden = torch.addmm(layer.bias, hidden.relu_(), layer.weight.t())
            scores[lists, :, i : i + item_block] += hidden.view(shape)
    return scores
