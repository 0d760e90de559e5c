"""The serving forms of the Q-network's layers (agents.nn.fused) equal the layers in eval mode."""

import pytest
import torch
from torch import nn

from agents.nn.fused import (
    block_step,
    field_rows,
    field_token,
    gru_step,
    gru_weights,
    head_pool,
    pooled_attention,
    with_bias_column,
)
from agents.nn.layers import CausalBlock, FieldInteraction, causal_mask

TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}


def _inputs(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(sum(shape)))


@pytest.mark.parametrize(("dim", "n_heads"), [(8, 2), (12, 3), (4, 1)])
def test_pooled_attention_is_multi_head_attention(dim, n_heads):
    q, k, v = _inputs(3, 5, 3 * dim).split(dim, dim=-1)  # [N, T, D] each
    split = [x.unflatten(-1, (n_heads, dim // n_heads)).transpose(1, 2) for x in (q, k, v)]
    expected = nn.functional.scaled_dot_product_attention(*split).transpose(1, 2).flatten(-2)
    pool = head_pool(dim, n_heads)
    got = pooled_attention(q.unsqueeze(-2), k.unsqueeze(-3), v.unsqueeze(-3), pool)
    torch.testing.assert_close(got, expected, **TOLERANCE)
    last = pooled_attention(q[:, -1:], k, v, pool)  # one query per row: [N, D]
    torch.testing.assert_close(last, expected[:, -1], **TOLERANCE)


@pytest.mark.parametrize("n_heads", [1, 2])
def test_field_token_is_field_interaction(n_heads):
    torch.manual_seed(0)
    interaction = FieldInteraction(6, 4, n_heads, 8, dropout=0.5).eval()
    fields = _inputs(5, 6, 4)
    rows = field_rows(interaction, fields)
    assert rows.shape == (5, 6, 16)
    with torch.no_grad():
        got = field_token(interaction, rows, head_pool(4, n_heads))
        torch.testing.assert_close(got, interaction(fields), **TOLERANCE)


def test_block_step_token_by_token_is_the_causal_block():
    torch.manual_seed(0)
    block = CausalBlock(8, 2, 2, dropout=0.5).eval()
    tokens = _inputs(3, 5, 8)
    with torch.no_grad():
        expected = block(tokens, causal_mask(torch.ones(3, 5, dtype=torch.bool)))
        past = None
        for t in range(5):
            out, past = block_step(block, tokens[:, t], past, head_pool(8, 2))
            torch.testing.assert_close(out, expected[:, t], **TOLERANCE)
    assert past[0].shape == past[1].shape == (3, 5, 8)


def test_gru_step_is_the_gru():
    torch.manual_seed(0)
    gru = nn.GRU(6, 6, batch_first=True)
    x, state = _inputs(4, 6), _inputs(4, 7)[:, :6]
    with torch.no_grad():
        _, expected = gru(x.unsqueeze(1), state.unsqueeze(0))
        torch.testing.assert_close(gru_step(x, state, gru_weights(gru)), expected[0], **TOLERANCE)


def test_bias_column_folds_the_bias_and_keeps_the_one():
    torch.manual_seed(0)
    linear = nn.Linear(3, 2)
    x = _inputs(5, 3)
    with torch.no_grad():
        out = torch.cat([x, torch.ones(5, 1)], dim=1) @ with_bias_column(linear).T
        torch.testing.assert_close(out, torch.cat([linear(x), torch.ones(5, 1)], dim=1))
