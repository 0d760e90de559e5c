"""AUC, GAUC and NDCG against hand-computed values, ties and skipped users included."""

import math

import numpy as np
import pytest

from agents.metrics import auc, auc_by_slot, evaluate_offline, gauc, group_auc, ndcg_at_k
from rec_env.data import LoggedLists
from rec_env.simulator import metrics as rec_env_metrics

LOG3 = 1.0 / math.log2(3.0)  # discount of rank 1


@pytest.mark.parametrize(
    ("labels", "scores", "expected"),
    [
        ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.75),  # 3 of 4 pairs ordered
        ([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9], 0.875),  # one tied pair counts 1/2
        ([1, 0, 1, 0], [0.3, 0.3, 0.3, 0.3], 0.5),  # all tied
        ([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4], 0.0),  # perfectly reversed
        ([1, 0, 0], [2.0, 1.0, 1.0], 1.0),
    ],
)
def test_auc_hand_computed(labels, scores, expected):
    assert auc(np.array(labels), np.array(scores)) == pytest.approx(expected)


def test_agents_auc_is_the_rec_env_auc():
    assert auc is rec_env_metrics.auc and group_auc is rec_env_metrics.group_auc


@pytest.mark.parametrize("labels", [np.ones(4), np.zeros(4), np.ones((2, 2))])
def test_auc_one_class_is_nan(labels):
    assert math.isnan(auc(labels, np.arange(4.0)))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: auc(np.zeros(0), np.zeros(0)), "empty"),
        (lambda: auc(np.r_[0, 1], np.r_[0.2]), "differ in size"),
        (lambda: auc(np.r_[0, 2], np.r_[0.2, 0.3]), "0 or 1"),
        (lambda: auc(np.r_[0, 1], np.r_[0.2, np.nan]), "finite"),
        (lambda: group_auc(np.r_[0, 1], np.r_[0.2, 0.3], np.r_[0]), "groups"),
    ],
)
def test_auc_rejects_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_matches_pairwise_definition(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 60)
    scores = rng.integers(0, 6, 60).astype(float)  # many ties
    pos, neg = scores[labels == 1], scores[labels == 0]
    pairs = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    assert auc(labels, scores) == pytest.approx(pairs.mean())


def test_gauc_weights_by_impressions_and_skips_one_class_users():
    users = np.array([1, 1, 2, 2, 2, 3, 3])
    labels = np.array([1, 0, 0, 1, 0, 1, 1])  # user 3 only clicks: skipped
    scores = np.array([0.9, 0.1, 0.8, 0.2, 0.5, 0.4, 0.6])
    # user 1: AUC 1 over 2 impressions; user 2: AUC 0 over 3 impressions
    value, skipped = gauc(labels, scores, users)
    assert value == pytest.approx((2 * 1.0 + 3 * 0.0) / 5)
    assert skipped == 1


def test_gauc_with_ties_and_all_skipped():
    per_user, size = group_auc(np.array([1, 0, 1, 0]), np.array([1.0, 1.0, 2.0, 0.0]), [7, 7, 9, 9])
    assert per_user.tolist() == [0.5, 1.0] and size.tolist() == [2, 2]
    value, skipped = gauc(np.array([1, 1, 0]), np.array([0.1, 0.2, 0.3]), np.array([0, 0, 1]))
    assert math.isnan(value) and skipped == 2


@pytest.mark.parametrize(
    ("gains", "scores", "mask", "k", "expected"),
    [
        # ranked: 0-gain, 1, 1 -> (LOG3 + 1/2) / (1 + LOG3)
        ([[1, 0, 1]], [[0.1, 0.9, 0.5]], [[1, 1, 1]], 3, (LOG3 + 0.5) / (1 + LOG3)),
        # a tie spanning ranks 0 and 1: the clicked item gets the mean discount
        ([[1, 0]], [[0.5, 0.5]], [[1, 1]], 2, (1 + LOG3) / 2),
        ([[0, 0, 1]], [[3.0, 2.0, 1.0]], [[1, 1, 1]], 2, 0.0),  # click beyond the cut-off
        ([[0, 0, 1]], [[3.0, 2.0, 1.0]], [[1, 1, 1]], 3, 0.5),
        # a masked slot with the top score does not take rank 0
        ([[0, 1, 0]], [[0.2, 0.1, 9.0]], [[1, 1, 0]], 3, LOG3),
        # the list without clicks is skipped, not averaged as 0
        ([[1, 0], [0, 0]], [[1.0, 0.0], [1.0, 0.0]], [[1, 1], [1, 1]], 2, 1.0),
    ],
)
def test_ndcg_hand_computed(gains, scores, mask, k, expected):
    value = ndcg_at_k(np.array(gains), np.array(scores), np.array(mask, dtype=bool), k)
    assert value == pytest.approx(expected)


def test_ndcg_without_any_click_is_nan():
    assert math.isnan(ndcg_at_k(np.zeros((2, 3)), np.ones((2, 3)), np.ones((2, 3), bool), 3))


def _hand_lists() -> LoggedLists:
    items = np.array([[0, 1, 2], [2, 3, -1], [1, 0, 3]])
    mask = items >= 0
    clicks = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0]], dtype=np.int8)
    return LoggedLists(
        items=items,
        clicks=clicks,
        mask=mask,
        user_ids=np.array([0, 1, 0]),
        request_ids=np.arange(3),
        timestamps=np.zeros(3),
        item_features=np.zeros((4, 1), np.float32),
        user_features=np.zeros((2, 1), np.float32),
    )


def test_evaluate_offline_uses_shown_slots_only():
    lists = _hand_lists()
    scores = np.array([[0.9, 0.2, 0.1], [0.3, 0.8, 100.0], [0.4, 0.6, 0.5]])
    result = evaluate_offline(lambda _: scores, lists, k=3)
    shown = lists.mask
    assert result["auc"] == pytest.approx(auc(lists.clicks[shown], scores[shown]))
    users = np.repeat(lists.user_ids, 3).reshape(3, 3)[shown]
    assert result["gauc"] == pytest.approx(gauc(lists.clicks[shown], scores[shown], users)[0])
    # user 0 (6 shown): positives .9 .4 .6 vs negatives .2 .1 .5 -> 8 of 9 pairs ordered;
    # user 1 (2 shown, the padded 100.0 ignored): 1 of 1
    assert result["gauc"] == pytest.approx((6 * 8 / 9 + 2 * 1.0) / 8)
    assert result["n_users_skipped"] == 0
    assert result["ndcg_at_3"] == pytest.approx(ndcg_at_k(lists.clicks, scores, shown, 3))


def test_evaluate_offline_rejects_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        evaluate_offline(lambda lists: np.zeros((3, 2)), _hand_lists())


def test_auc_by_slot_hand_computed():
    clicks = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0]])
    scores = np.array([[0.9, 0.2, 0.5], [0.1, 0.3, 0.4], [0.5, 0.1, 0.0]])
    mask = np.array([[True, True, True], [True, True, True], [True, True, False]])
    # slot 0: positives 0.9, 0.5 vs negative 0.1 -> 1.0; slot 1: positives 0.3, 0.1 vs 0.2
    # -> 0.5; slot 2: only negatives -> NaN
    np.testing.assert_allclose(auc_by_slot(clicks, scores, mask), [1.0, 0.5, np.nan])
    assert np.isnan(auc_by_slot(clicks, scores, mask & [True, False, True])[1])
    assert np.isnan(auc_by_slot(clicks, scores, np.zeros_like(mask))).all()  # no shown row
