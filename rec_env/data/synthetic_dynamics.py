"""The synthetic world's true click model and its in-list dynamics, in float64.

For the list's user ``u`` at slot ``k``, after the items ``S`` shown so far, of which the
clicked ones are ``S_c`` (``n_c = |S_c|``)::

    direction = affinity_scale * taste_u
                + interest_shift * sum_{j in S_c} factor_j        (interest after a click)
                - fatigue * mean_{j in S} factor_j                (fatigue from similar items)
    p(i) = examination[k] * sigmoid(intercept + click_shift * n_c + <factor_i, direction> + bias_i)

and after the slot the user leaves the list with probability ``exit_after_click`` if the
item was clicked, ``exit_after_skip`` if not (:func:`leaves`). ``interest_shift > 0`` draws
the in-list taste toward what was clicked, ``< 0`` away from it (satiation): either way,
which items were clicked decides the best next item. At ``interest_shift = 0`` and both exit
probabilities 0 the model is the world without these dynamics, bit for bit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rec_env.arrays import take_columns

if TYPE_CHECKING:
    from rec_env.data.synthetic import SyntheticConfig, SyntheticWorld


class TrueClickModel:
    """The click model of a :class:`~rec_env.data.SyntheticWorld` in float64, the one
    definition of it (see the module docstring).

    The logit is computed as::

        direction = (taste_term + interest_shift * clicked_sum) - shown_sum * (fatigue / max(k, 1))
        logit = (intercept + click_shift * n_clicks) + <factor_i, direction> + bias_i

    (the interest term only where ``interest_shift != 0``), the dot product summed dimension
    by dimension, left to right: an order that one list's Python floats can follow too
    (:class:`~rec_env.simulator.GroundTruthContext` does, so it gives the same floats).
    Vectors are stored dimension first (``[d, B]``): each numpy call runs over B contiguous
    numbers.

    :param world: the ground truth; its float32 tables are widened to float64.
    """

    def __init__(self, world: SyntheticWorld):
        config = world.config
        self.world = world
        self.factors = world.item_factors.T.astype(np.float64, order="C")  # [d, n_items]
        tastes = config.affinity_scale * world.user_tastes.T.astype(np.float64)
        self.tastes = np.ascontiguousarray(tastes)  # [d, n_users], the taste terms
        self.bias = world.item_bias.astype(np.float64)  # [n_items]
        self.examination = world.examination.astype(np.float64)  # [K]
        slots = np.arange(config.slate_size + 1)
        self.fatigue_weight = config.fatigue / np.maximum(slots, 1.0)  # [K + 1] by slot
        self.intercept, self.click_shift = world.intercept, config.click_shift
        self.interest_shift = config.interest_shift
        self.exit_after = np.array([config.exit_after_skip, config.exit_after_click])
        self.exits = bool(self.exit_after.any())
        """True when users may leave a list before its end"""

    def direction(
        self,
        taste_term: np.ndarray,
        shown_sum: np.ndarray,
        clicked_sum: np.ndarray | None,
        position: np.ndarray,
    ) -> np.ndarray:
        """``[d, B]`` float64 of ``taste_term [d, B]``, the factor sums ``shown_sum [d, B]`` of
        the shown items and ``clicked_sum [d, B]`` of the clicked ones (read only where
        ``interest_shift != 0``; None otherwise), and ``position [B]``."""
        if self.interest_shift:
            taste_term = taste_term + self.interest_shift * clicked_sum
        return taste_term - shown_sum * self.fatigue_weight[position]

    def proba(
        self,
        items: np.ndarray,
        factors: np.ndarray,
        position: np.ndarray,
        direction: np.ndarray,
        n_clicks: np.ndarray,
    ) -> np.ndarray:
        """float32 click probabilities of ``items [...]`` (their ``factors [d, ...]``) given the
        lists' ``direction [d, ...]``, ``position [...]`` and ``n_clicks [...]`` (broadcast
        against ``items``)."""
        terms = factors * direction  # [d, ...]
        dot = terms[0]
        for term in terms[1:]:
            dot += term
        logit = (self.intercept + self.click_shift * n_clicks) + dot
        logit += self.bias[items]
        np.exp(np.negative(logit, out=logit), out=logit)
        logit += 1.0
        return (self.examination[position] / logit).astype(np.float32)

    def exit_proba(self, clicks: np.ndarray) -> np.ndarray:
        """``[b]`` float64: probability that the user leaves the list after a slot with
        ``clicks [b]`` (bool): ``exit_after_click`` where clicked, ``exit_after_skip`` where not."""
        return self.exit_after[np.asarray(clicks, dtype=np.int64)]


def leaves(
    uniforms: np.ndarray, proba: np.ndarray, clicks: np.ndarray, exit_proba: np.ndarray
) -> np.ndarray:
    """``[b]`` bool: the users who leave after a slot, drawn from the slot's click uniform.

    A slot is clicked iff ``u < p``; given a click ``u`` is uniform on ``[0, p)`` and the user
    leaves iff ``u < p * q``; given none ``u`` is uniform on ``[p, 1)`` and the user leaves iff
    ``u >= 1 - q * (1 - p)``. Each has probability ``q = exit_proba``, the click keeps its
    own, and no further random number is drawn (logs and environments keep their streams).

    :param uniforms: ``[b]`` the slots' click uniforms in ``[0, 1)``.
    :param proba: ``[b]`` their click probabilities; :param clicks: ``[b]`` bool, ``u < p``.
    :param exit_proba: ``[b]`` the probability of leaving given the click (or its absence).
    """
    proba = np.asarray(proba, dtype=np.float64)
    after_click = uniforms < proba * exit_proba
    after_skip = uniforms >= 1.0 - exit_proba * (1.0 - proba)
    return np.where(clicks, after_click, after_skip)


def leaves_one(uniform: float, proba: float, click: bool, exit_proba: float) -> bool:
    """:func:`leaves` of one slot in Python floats (the same float64 operations, so the same
    answer), for the single environment's step."""
    if click:
        return uniform < proba * exit_proba
    return uniform >= 1.0 - exit_proba * (1.0 - proba)


def simulate_clicks(
    world: SyntheticWorld, users: np.ndarray, items: np.ndarray, uniforms: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Click the lists slot by slot under the :class:`TrueClickModel`, its dynamics included.

    :param users: ``[n]``; :param items: ``[n, K]``; :param uniforms: ``[n, K]`` in [0, 1).
    :return: ``(clicks [n, K] int8, probabilities [n, K] float32, shown [n, K] bool)``; slot
        k is clicked if its uniform is below its probability, and shown unless the user left
        after an earlier slot (:func:`~rec_env.data.synthetic_dynamics.leaves`, the same
        uniform); slots after a user left are neither shown nor clicked.
    """
    model = TrueClickModel(world)
    n, k = items.shape
    taste_term = take_columns(model.tastes, users)  # [d, n]
    shown_sum = np.zeros_like(taste_term)
    clicked_sum = np.zeros_like(taste_term) if model.interest_shift else None
    n_clicks = np.zeros(n)  # float64 counts, as the environments keep them
    clicks = np.zeros((n, k), dtype=np.int8)
    proba = np.empty((n, k), dtype=np.float32)
    shown = np.ones((n, k), dtype=bool)
    for slot in range(k):
        position = np.full(n, slot)
        factors = take_columns(model.factors, items[:, slot])  # [d, n]
        direction = model.direction(taste_term, shown_sum, clicked_sum, position)
        proba[:, slot] = model.proba(items[:, slot], factors, position, direction, n_clicks)
        clicked = uniforms[:, slot] < proba[:, slot]
        if model.exits:
            clicked &= shown[:, slot]
            left = leaves(uniforms[:, slot], proba[:, slot], clicked, model.exit_proba(clicked))
            shown[:, slot + 1 :] &= ~left[:, None] & shown[:, slot : slot + 1]
        clicks[:, slot] = clicked
        shown_sum += factors
        if clicked_sum is not None:
            clicked_sum += factors * clicked
        n_clicks += clicked
    return clicks, proba, shown


def shown_weights(config: SyntheticConfig, proba: np.ndarray) -> np.ndarray:
    """``[n, K]`` float64: the probability that each slot of lists with click probabilities
    ``proba [n, K]`` is shown, the user leaving after slot k with probability
    ``exit_after_skip + (exit_after_click - exit_after_skip) * proba[k]``."""
    stay = 1.0 - (
        config.exit_after_skip + (config.exit_after_click - config.exit_after_skip) * proba
    )
    weight = np.ones(proba.shape)
    weight[:, 1:] = np.cumprod(stay[:, :-1], axis=1)
    return weight
