"""`GroundTruthModel`: the synthetic world's true click model behind the `UserModel` interface."""

from __future__ import annotations

from functools import reduce
from operator import add

import numpy as np

from rec_env.arrays import take_columns
from rec_env.data.synthetic import SyntheticWorld
from rec_env.data.synthetic_dynamics import TrueClickModel
from rec_env.simulator.base import Rows, placed_mask


class GroundTruthModel(TrueClickModel):
    """Click probabilities of a :class:`~rec_env.data.SyntheticWorld`: its
    :class:`~rec_env.data.synthetic.TrueClickModel` (the float64 model that generated the
    logs, so a logged list gets its logged ``proba``) behind the
    :class:`~rec_env.simulator.UserModel` interface, with a :class:`GroundTruthContext`.

    :param world: the ground truth returned in ``generate_synthetic(...).extras["world"]``.
    """

    def __init__(self, world: SyntheticWorld):
        super().__init__(world)
        self.slate_size = world.config.slate_size

    def click_proba(
        self,
        users: np.ndarray,
        slate_items: np.ndarray,
        slate_clicks: np.ndarray,
        candidates: np.ndarray,
        position: np.ndarray,
    ) -> np.ndarray:
        """See :meth:`rec_env.simulator.UserModel.click_proba`.

        The shown (and clicked) items' factors are summed slot by slot, left to right, the
        order in which :class:`GroundTruthContext` carries them, so both give the same floats.
        """
        placed = placed_mask(position, slate_items.shape[1])
        factors = take_columns(self.factors, np.where(placed, slate_items, 0))  # [d, B, K]
        shown_sum = np.cumsum(factors * placed, axis=2)[:, :, -1]  # [d, B]
        clicked = slate_clicks * placed
        clicked_sum = (
            np.cumsum(factors * clicked, axis=2)[:, :, -1] if self.interest_shift else None
        )
        n_clicks = clicked.sum(axis=1)
        taste_term = take_columns(self.tastes, users)
        direction = self.direction(taste_term, shown_sum, clicked_sum, position)
        if candidates.ndim == 2:
            direction, position, n_clicks = (
                direction[..., None],
                position[:, None],
                n_clicks[:, None],
            )
        factors = take_columns(self.factors, candidates)
        return self.proba(candidates, factors, position, direction, n_clicks)

    def context(self, n_lists: int) -> GroundTruthContext:
        """A :class:`~rec_env.simulator.ListContext` of ``n_lists`` lists."""
        return GroundTruthContext(self, n_lists)


class GroundTruthContext:
    """:class:`~rec_env.simulator.ListContext` of a :class:`GroundTruthModel`: per list, the
    user's taste term, the running sums of the shown and of the clicked items' factors (the
    latter only where ``interest_shift != 0``) and the clicks so far.

    A step costs O(d) per list instead of gathering and summing the K shown factors, and
    gives exactly :meth:`GroundTruthModel.click_proba`'s floats. One ``int`` row (a single
    env's step) is computed with Python floats, in the same order as the numpy columns of
    many rows.

    :param model: the ground-truth model.
    :param n_lists: B, lists (rows) kept.
    """

    def __init__(self, model: GroundTruthModel, n_lists: int):
        self.model = model
        d = model.factors.shape[0]
        self.taste_term = np.zeros((d, n_lists))
        self.shown_sum = np.zeros((d, n_lists))
        self.clicked_sum = np.zeros((d, n_lists)) if model.interest_shift else None
        self.n_clicks = np.zeros(n_lists)  # float64 counts: no casts in the logit
        self._weights, self._shift = model.fatigue_weight.tolist(), model.click_shift
        self._interest = model.interest_shift
        self._intercept, self._exam = model.intercept, model.examination.tolist()
        self._exp = np.zeros(1)  # one contiguous slot: np.exp takes the path arrays take
        self._proba = np.zeros(1, dtype=np.float32)
        self._scored: tuple[np.ndarray | None, np.ndarray | None] = (None, None)
        self._tastes: list[list[float]] | None = None  # taste_term's rows as Python floats

    def start(self, rows: Rows, users: np.ndarray) -> None:
        """See :meth:`rec_env.simulator.ListContext.start`."""
        self.taste_term[:, rows] = take_columns(self.model.tastes, users)
        self.shown_sum[:, rows] = 0.0
        if self.clicked_sum is not None:
            self.clicked_sum[:, rows] = 0.0
        self.n_clicks[rows] = 0
        self._tastes = None

    def click_proba(self, rows: Rows, items: np.ndarray, position: np.ndarray) -> np.ndarray:
        """See :meth:`rec_env.simulator.ListContext.click_proba`."""
        if isinstance(rows, int):
            return self._click_proba_one(rows, int(items), int(position))
        model = self.model
        factors = take_columns(model.factors, items)
        self._scored = (items, factors)  # placed next, most likely: ``place`` reuses them
        clicked_sum = None if self.clicked_sum is None else self.clicked_sum[:, rows]
        direction = model.direction(
            self.taste_term[:, rows], self.shown_sum[:, rows], clicked_sum, position
        )
        return model.proba(items, factors, position, direction, self.n_clicks[rows])

    def place(
        self, rows: Rows, items: np.ndarray, position: np.ndarray, clicks: np.ndarray
    ) -> None:
        """See :meth:`rec_env.simulator.ListContext.place`."""
        scored, factors = self._scored
        if scored is not items:
            factors = take_columns(self.model.factors, items)
        self.shown_sum[:, rows] += factors
        if self.clicked_sum is not None and (not isinstance(rows, int) or clicks):
            self.clicked_sum[:, rows] += factors * clicks
        self.n_clicks[rows] += clicks

    def _click_proba_one(self, row: int, item: int, position: int) -> float:
        """:meth:`GroundTruthModel.proba` of one list, operation for operation in floats (the
        float32 result as a Python float)."""
        weight, factors = self._weights[position], self.model.factors
        if self._tastes is None:  # once per start
            self._tastes = self.taste_term.T.tolist()
        tastes = self._tastes[row]
        if self.clicked_sum is not None:  # TrueClickModel.direction's order
            interest = self._interest
            clicked = self.clicked_sum[:, row].tolist()
            tastes = [taste + interest * c for taste, c in zip(tastes, clicked, strict=True)]
        terms = [
            factor * (taste - shown * weight)
            for factor, taste, shown in zip(
                factors[:, item].tolist(), tastes, self.shown_sum[:, row].tolist(), strict=True
            )
        ]
        logit = (self._intercept + self._shift * self.n_clicks.item(row)) + reduce(add, terms)
        logit += self.model.bias.item(item)
        exp, proba = self._exp, self._proba
        exp[0] = -logit  # a 0-d exp could take a scalar libm path that SIMD loops do not
        proba[0] = self._exam[position] / (1.0 + np.exp(exp).item())  # rounded to float32
        return proba.item()
