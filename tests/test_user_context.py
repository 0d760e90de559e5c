"""The stateful user-model hook (`ListContext`): carried state gives the stateless floats."""

import numpy as np
import pytest

from rec_env.data import SyntheticConfig, generate_synthetic
from rec_env.simulator import (
    GroundTruthContext,
    GroundTruthModel,
    ListContext,
    StatelessContext,
    list_context,
)

B, K = 64, 10


@pytest.fixture(scope="module")
def model():
    config = SyntheticConfig(n_users=200, n_items=300, n_requests=500, slate_size=K)
    return GroundTruthModel(generate_synthetic(config, progress=False).extras["world"])


def _lists(model, seed=0):
    """B random requests: users [B], distinct items [B, K], clicks [B, K]."""
    rng = np.random.default_rng(seed)
    world = model.world.config
    items = np.argsort(rng.random((B, world.n_items)), axis=1)[:, :K]
    return rng.integers(0, world.n_users, B), items, rng.random((B, K)) < 0.3


def _fill(context, rows, users, items, clicks):
    """Fill the lists slot by slot; yield ``(position, probabilities of the slot's items)``."""
    context.start(rows, users)
    for slot in range(K):
        position = np.full(B, slot)
        yield slot, context.click_proba(rows, items[:, slot], position)
        context.place(rows, items[:, slot], position, clicks[:, slot])


@pytest.mark.parametrize("rows", [slice(None), np.arange(B)])
def test_context_gives_the_stateless_floats_at_every_slot(model, rows):
    users, items, clicks = _lists(model)
    context = model.context(B)
    assert isinstance(context, GroundTruthContext) and isinstance(context, ListContext)
    for slot, proba in _fill(context, rows, users, items, clicks):
        position = np.full(B, slot)
        expected = model.click_proba(users, items, clicks.astype(np.int8), items[:, slot], position)
        assert proba.dtype == np.float32
        np.testing.assert_array_equal(proba, expected)


def test_one_int_row_gives_the_batched_floats_as_scalars(model):
    users, items, clicks = _lists(model)
    batched = dict(_fill(model.context(B), slice(None), users, items, clicks))
    context = model.context(1)
    row = 0
    context.start(np.array([row]), users[:1])
    for slot in range(K):
        position = np.int64(slot)
        proba = context.click_proba(row, items[0, slot], position)
        assert np.ndim(proba) == 0 and proba == batched[slot][0]
        context.place(row, items[0, slot], position, clicks[0, slot])


def test_other_rows_are_left_alone(model):
    users, items, clicks = _lists(model)
    context = model.context(B)
    context.start(slice(None), users)
    before = context.click_proba(slice(None), items[:, 0], np.zeros(B, dtype=np.int64))
    odd = np.arange(1, B, 2)
    context.place(odd, items[odd, 0], np.zeros(len(odd), dtype=np.int64), clicks[odd, 0])
    even = np.arange(0, B, 2)
    after = context.click_proba(even, items[even, 0], np.zeros(len(even), dtype=np.int64))
    np.testing.assert_array_equal(after, before[even])


class _Recorder:
    """A model without ``context``: records what it was asked."""

    slate_size = K

    def click_proba(self, users, slate_items, slate_clicks, candidates, position):
        self.call = (users, slate_items, slate_clicks, candidates, position)
        return np.full(np.shape(candidates), 0.25, dtype=np.float32)


def test_models_without_a_context_fall_back_to_whole_lists():
    users = np.arange(3)
    slate_items, slate_clicks = np.zeros((3, K), dtype=np.int64), np.zeros((3, K), dtype=np.int8)
    context = list_context(_Recorder(), users, slate_items, slate_clicks)
    assert isinstance(context, StatelessContext)
    slate_items[1, 0] = 42  # the caller's arrays are read in place
    proba = context.click_proba(np.array([1, 2]), np.array([5, 6]), np.array([1, 0]))
    np.testing.assert_array_equal(proba, [0.25, 0.25])
    called_users, called_items = context.model.call[:2]
    np.testing.assert_array_equal(called_users, [1, 2])
    assert called_items[0, 0] == 42
    one = context.click_proba(1, np.int64(5), np.int64(1))
    assert np.ndim(one) == 0 and one == np.float32(0.25)
    assert context.model.call[1].shape == (1, K)


def test_models_with_a_context_get_their_own(model):
    users = np.zeros(5, dtype=np.int64)
    context = list_context(model, users, np.zeros((5, K), dtype=np.int64), np.zeros((5, K)))
    assert isinstance(context, GroundTruthContext) and len(context.n_clicks) == 5
