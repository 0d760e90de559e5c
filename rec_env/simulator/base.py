"""The user-model interface every click model implements, batched over requests."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class UserModel(Protocol):
    """Click probabilities of users for candidate items, given the list built so far.

    Batched over B requests at once; no Python loop per request or per item.
    """

    slate_size: int
    """K, the slots per list the model was built for."""

    def click_proba(
        self,
        users: np.ndarray,
        slate_items: np.ndarray,
        slate_clicks: np.ndarray,
        candidates: np.ndarray,
        position: np.ndarray,
    ) -> np.ndarray:
        """Probability that each candidate is clicked if placed at ``position``.

        :param users: ``[B]`` int user ids.
        :param slate_items: ``[B, K]`` int item ids already placed; only slots ``< position``
            are read (others may hold anything, e.g. ``PAD_ITEM``).
        :param slate_clicks: ``[B, K]`` clicks on those items; slots ``>= position`` ignored.
        :param candidates: ``[B]`` or ``[B, M]`` int item ids to score.
        :param position: ``[B]`` int slot index in ``[0, K)``.
        :return: float32 probabilities with the shape of ``candidates``.
        """
        ...


@runtime_checkable
class LeavingUsers(Protocol):
    """An optional hook of a :class:`UserModel` whose users may leave a list before its end.

    After each slot the user leaves with probability ``exit_proba(clicks)``; the list (an
    episode) then ends. The draw shares the slot's click uniform
    (:func:`~rec_env.data.synthetic_dynamics.leaves`), so no random number is added.
    """

    exits: bool
    """False when the model's users never leave (the hook is then skipped)"""

    def exit_proba(self, clicks: np.ndarray) -> np.ndarray:
        """``[b]`` float64: probability of leaving after a slot with ``clicks [b]`` (bool)."""
        ...


def exit_rule(model: UserModel) -> LeavingUsers | None:
    """The model if its users may leave a list (:class:`LeavingUsers` with ``exits`` True),
    else None."""
    return model if isinstance(model, LeavingUsers) and model.exits else None


def placed_mask(position: np.ndarray, slate_size: int) -> np.ndarray:
    """``[B, K]`` bool: True for the slots before each request's ``position``."""
    return np.arange(slate_size)[None, :] < np.asarray(position)[:, None]


Rows = np.ndarray | slice | int
"""Rows of a :class:`ListContext`: ``[b]`` distinct indices or a slice (then per-row values are
``[b]`` arrays), or one ``int`` index (then they are scalars, Python or numpy)."""


@runtime_checkable
class ListContext(Protocol):
    """A user model's running state of B lists being built, one row each (an optional hook).

    What the model needs of a list (e.g. sums over the items shown so far) is carried from
    slot to slot instead of recomputed from the whole list at every step. A model offers
    it with a ``context(n_lists) -> ListContext`` method; :func:`list_context` falls back
    to :class:`StatelessContext` for models without one. Lists are filled slot by slot:
    ``start``, then ``click_proba`` and ``place`` at positions 0, 1, 2, ...
    """

    def start(self, rows: Rows, users: np.ndarray) -> None:
        """Begin empty lists in ``rows`` for ``users`` (``[b]``, or a scalar for an int row)."""
        ...

    def click_proba(self, rows: Rows, items: np.ndarray, position: np.ndarray) -> np.ndarray:
        """The model's :meth:`UserModel.click_proba` of ``items [b]`` at the rows' next slot
        ``position [b]`` given their lists so far: float32 ``[b]`` (for an int row, a scalar:
        numpy float32 or a Python float of a float32 value)."""
        ...

    def place(
        self, rows: Rows, items: np.ndarray, position: np.ndarray, clicks: np.ndarray
    ) -> None:
        """Append ``items [b]`` to the rows' lists at ``position [b]``, with ``clicks [b]``
        (bool)."""
        ...


class StatelessContext:
    """The :class:`ListContext` of a model without one: its ``click_proba`` on whole lists.

    It keeps no state: it reads the caller's arrays, which the caller fills as lists grow
    (``start`` and ``place`` do nothing).

    :param model: the user model.
    :param users: ``[B]`` user ids.
    :param slate_items: ``[B, K]`` the lists' items.
    :param slate_clicks: ``[B, K]`` their clicks.
    """

    def __init__(
        self,
        model: UserModel,
        users: np.ndarray,
        slate_items: np.ndarray,
        slate_clicks: np.ndarray,
    ):
        self.model, self.users = model, users
        self.slate_items, self.slate_clicks = slate_items, slate_clicks

    def start(self, rows: Rows, users: np.ndarray) -> None:
        """Nothing to do: the caller's arrays are the lists."""

    def click_proba(self, rows: Rows, items: np.ndarray, position: np.ndarray) -> np.ndarray:
        """See :meth:`ListContext.click_proba`."""
        if isinstance(rows, int):  # one row: the model's batch of one
            batch = slice(rows, rows + 1)
            return self.click_proba(batch, np.array([items]), np.array([position]))[0]
        return self.model.click_proba(
            self.users[rows], self.slate_items[rows], self.slate_clicks[rows], items, position
        )

    def place(
        self, rows: Rows, items: np.ndarray, position: np.ndarray, clicks: np.ndarray
    ) -> None:
        """Nothing to do: the caller's arrays are the lists."""


def list_context(
    model: UserModel, users: np.ndarray, slate_items: np.ndarray, slate_clicks: np.ndarray
) -> ListContext:
    """``model.context(B)`` if the model has one, else a :class:`StatelessContext` reading the
    caller's ``users [B]``, ``slate_items [B, K]`` and ``slate_clicks [B, K]``."""
    if callable(getattr(model, "context", None)):
        return model.context(len(users))
    return StatelessContext(model, users, slate_items, slate_clicks)
