"""Exact expected clicks of lists under the synthetic world's true model, over every click path.

On a request's C candidates the :class:`~rec_env.data.synthetic_dynamics.TrueClickModel` is
linear in Gram form: with ``G[c, j] = <factor_c, factor_j>``, a list's state is

* ``base [C]``: ``intercept + bias_c + <factor_c, taste term> + click_shift * n_clicks
  + interest_shift * sum_{clicked j} G[c, j]``;
* ``shown [C]``: ``sum_{shown j} G[c, j]``;

and candidate c at slot k is clicked with ``examination[k] * sigmoid(base_c - w_k * shown_c)``,
``w_k = fatigue / max(k, 1)``. Placing j adds ``G[:, j]`` to ``shown``, and a click on it adds
``click_shift + interest_shift * G[:, j]`` to ``base``. A list of R slots has at most ``2 ** R``
click paths (1,024 for K = 10); they are enumerated as a batch (a path ends when the user
leaves: its mass shrinks by the exit probability), so expected clicks are exact, not sampled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rec_env.data.synthetic_dynamics import TrueClickModel

CHUNK_CELLS = 1 << 22
"""numbers per temporary array that the batched functions aim at (they chunk requests)"""


@dataclass(frozen=True)
class Lists:
    """N lists in progress over their requests' candidates (Gram form, see the module).

    :param base: ``[N, C]`` float64 logit terms that do not depend on the slot.
    :param shown: ``[N, C]`` float64 similarity to the items shown so far.
    :param used: ``[N, C]`` bool, candidates already placed.
    :param gram: ``[N, C, C]`` float64, ``<factor_c, factor_j>`` (rows may share one array).
    :param position: the next slot, the same for all N.
    :param click_gram: ``[N, C, C]`` what a click on j adds to c's base term, times
        ``interest_shift`` (None: ``gram``, as in the true model).
    """

    base: np.ndarray
    shown: np.ndarray
    used: np.ndarray
    gram: np.ndarray
    position: int
    click_gram: np.ndarray | None = None

    def rows(self, index: np.ndarray | slice) -> Lists:
        """The lists at ``index``."""
        click_gram = None if self.click_gram is None else self.click_gram[index]
        return Lists(
            self.base[index],
            self.shown[index],
            self.used[index],
            self.gram[index],
            self.position,
            click_gram,
        )

    def clicked(self, index: tuple, similarity: np.ndarray) -> np.ndarray:
        """The click similarity ``click_gram[index]`` (``similarity``, already ``gram[index]``,
        without a click gram)."""
        return similarity if self.click_gram is None else self.click_gram[index]

    def __len__(self) -> int:
        return len(self.base)


@dataclass(frozen=True)
class PathModel:
    """The slot-level constants of a :class:`TrueClickModel` that the paths need.

    :param examination: ``[K]``; :param fatigue_weight: ``[K + 1]``, ``fatigue / max(k, 1)``.
    :param click_shift: logit change per click; :param interest_shift: its weight on ``G``.
    :param stay_after_click: ``1 - exit_after_click``; :param stay_after_skip: likewise.
    """

    examination: np.ndarray
    fatigue_weight: np.ndarray
    click_shift: float
    interest_shift: float
    stay_after_click: float
    stay_after_skip: float

    @classmethod
    def of(cls, model: TrueClickModel) -> PathModel:
        skip, click = model.exit_after
        return cls(
            model.examination,
            model.fatigue_weight,
            model.click_shift,
            model.interest_shift,
            1.0 - click,
            1.0 - skip,
        )

    def proba(self, logit_base: np.ndarray, shown: np.ndarray, position: int) -> np.ndarray:
        """Click probabilities at slot ``position`` of ``base`` and ``shown`` terms (broadcast,
        in their precision: Python float constants keep float32 arrays float32)."""
        logit = logit_base - float(self.fatigue_weight[position]) * shown
        np.exp(np.negative(logit, out=logit), out=logit)
        logit += 1.0
        return np.divide(float(self.examination[position]), logit, out=logit)

    def click_term(self, similarity: np.ndarray) -> np.ndarray:
        """What a click on an item of ``similarity = G[:, j]`` adds to ``base``."""
        return self.click_shift + self.interest_shift * similarity

    def branch(
        self, mass: np.ndarray, proba: np.ndarray, base: np.ndarray, term: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Split each path of ``mass [..., P]`` (its base terms ``base [..., P, X]``) at a slot
        clicked with ``proba [..., P]``: ``[..., 2P]`` paths, the clicked ones first (their
        base plus ``term [..., X]``), masses shrunk by the probability of staying."""
        clicked = mass * proba * self.stay_after_click
        skipped = mass * (1.0 - proba) * self.stay_after_skip
        base = np.concatenate([base + term[..., None, :], base], axis=-2)
        return np.concatenate([clicked, skipped], axis=-1), base


def start_lists(model: TrueClickModel, users: np.ndarray, candidates: np.ndarray) -> Lists:
    """Empty lists of ``users [N]`` over ``candidates [N, C]`` (item ids) at slot 0."""
    factors = model.factors.T[candidates]  # [N, C, d]
    tastes = model.tastes.T[users]  # [N, d]
    base = model.intercept + model.bias[candidates] + np.einsum("ncd,nd->nc", factors, tastes)
    gram = np.einsum("ncd,njd->ncj", factors, factors)
    return Lists(base, np.zeros_like(base), np.zeros(base.shape, dtype=bool), gram, 0)


def place(paths: PathModel, lists: Lists, chosen: np.ndarray, clicks: np.ndarray) -> Lists:
    """``lists`` after placing candidate ``chosen [N]`` (an index into C) with ``clicks [N]``."""
    rows = np.arange(len(lists))
    similarity = lists.gram[rows, chosen]  # [N, C]
    used = lists.used.copy()
    used[rows, chosen] = True
    term = paths.click_term(lists.clicked((rows, chosen), similarity))
    base = lists.base + clicks[:, None] * term
    shown = lists.shown + similarity
    return Lists(base, shown, used, lists.gram, lists.position + 1, lists.click_gram)


def expected_clicks(paths: PathModel, lists: Lists, slates: np.ndarray) -> np.ndarray:
    """``[N, L]`` exact expected clicks of placing ``slates [N, L, R]`` (candidate indices) in
    the next R slots of ``lists``, over every click path (and exit)."""
    n, n_slates, r = slates.shape
    step = max(1, CHUNK_CELLS // (n_slates * r * 2**r))
    return np.concatenate(
        [
            _expected(paths, lists.rows(slice(s, s + step)), slates[s : s + step])
            for s in range(0, n, step)
        ]
    )


def _expected(paths: PathModel, lists: Lists, slates: np.ndarray) -> np.ndarray:
    n, n_slates, r = slates.shape
    rows = np.arange(n)[:, None, None]
    base = np.take_along_axis(lists.base[:, None, :], slates, axis=2)[:, :, None, :]  # [n, L, 1, R]
    shown = np.take_along_axis(lists.shown[:, None, :], slates, axis=2)  # [n, L, R]
    pairs = (rows[..., None], slates[..., None], slates[:, :, None, :])
    gram = lists.gram[pairs]  # [n, L, R, R]
    click_gram = lists.clicked(pairs, gram)
    mass, value = np.ones((n, n_slates, 1)), np.zeros((n, n_slates))
    for t in range(r):
        proba = paths.proba(base[..., t], shown[:, :, None, t], lists.position + t)  # [n, L, P]
        value += np.einsum("nlp,nlp->nl", mass, proba)
        if t + 1 < r:
            similarity = gram[:, :, t]  # [n, L, R]
            shown = shown + similarity
            term = paths.click_term(click_gram[:, :, t])
            mass, base = paths.branch(mass, proba, base, term)
    return value
