"""Exporting :class:`~agents.serving.GreedyRanker` with ``torch.export`` and loading it back.

The file loads with plain torch (``torch.export.load(path).module()``, no input checks);
:func:`load_ranker` puts the request checks of :mod:`agents.requests` in front, so an unknown
id, a repeated candidate or a wrong shape raises a ``ValueError``
(:class:`~rec_env.checks.InputError`) naming the argument. :mod:`agents.serving_onnx` writes
the same graph for ONNX Runtime.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import Tensor, nn

from agents.learners.base import eval_mode
from agents.nn.qnetwork import QNetwork
from agents.requests import IdSpace, batch_request
from agents.serving import GreedyRanker, network_ids
from rec_env.checks import InputError
from rec_env.data import Vocabularies

RANKER_INFO = "ranker.json"
"""extra file of an exported ranker: its k, the id ranges it knows and their vocabularies"""


def export_ranker(
    network: QNetwork,
    path: str | Path,
    k: int,
    n_candidates: int = 100,
    batch_size: int | None = None,
    assumed_click: float = 0.0,
    vocabularies: Vocabularies | None = None,
) -> Path:
    """Export :class:`GreedyRanker` with ``torch.export``; the candidate count C is dynamic.

    The file loads with plain torch, no project code: ``torch.export.load(path).module()``,
    called as ``(user_ids [B], candidates [B, C], valid [B, C]) -> (slate, q)``, with no
    input checks; :func:`load_ranker` adds them. :func:`agents.serving_onnx.export_onnx`
    writes the same graph for ONNX Runtime.

    :param k: slots to fill, ``1 <= k <= max_slots``.
    :param n_candidates: C of the example input, ``>= k`` (any C >= k works after export).
    :param batch_size: None for a dynamic batch size; an int >= 1 fixes B, which exports
        several times faster.
    :param vocabularies: the training log's vocabularies (``agent.vocabularies``), saved with
        the ranker so that :func:`load_ranker` speaks the log's own ids.
    :raises InputError: on an argument out of range.
    """
    ranker, example, shapes = export_example(network, k, n_candidates, batch_size, assumed_click)
    with exporting(ranker):
        program = torch.export.export(ranker, example, dynamic_shapes=shapes)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    info = json.dumps(ranker_info(network, k, batch_size, vocabularies))
    torch.export.save(program, path, extra_files={RANKER_INFO: info})
    return path


def export_example(
    network: QNetwork, k: int, n_candidates: int, batch_size: int | None, assumed_click: float
) -> tuple[GreedyRanker, tuple[Tensor, Tensor, Tensor], tuple]:
    """The ranker to export, an example batch and its dynamic shapes (see :func:`export_ranker`).

    :return: ``(ranker, (user_ids [B], candidates [B, C], valid [B, C]), dynamic shapes)``
        with C dynamic (``>= k``), and B too if ``batch_size`` is None.
    :raises InputError: on an argument out of range.
    """
    ranker = GreedyRanker(network, k, assumed_click)
    if not isinstance(n_candidates, int) or n_candidates < k:
        raise InputError(f"n_candidates must be an int >= k={k}, got {n_candidates!r}")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise InputError(f"batch_size must be None or an int >= 1, got {batch_size!r}")
    b = batch_size or 2
    ids = network_ids(network)
    example = (
        torch.zeros(b, dtype=torch.int64),
        torch.arange(b * n_candidates, dtype=torch.int64).view(b, n_candidates) % ids.n_items,
        torch.ones(b, n_candidates, dtype=torch.bool),
    )
    cands = {1: torch.export.Dim("candidates", min=k)}
    if batch_size is None:
        cands[0] = torch.export.Dim("batch")
    return ranker, example, ({0: cands[0]} if batch_size is None else None, cands, cands)


@contextmanager
def exporting(ranker: GreedyRanker) -> Iterator[None]:
    """Trace ``ranker`` in eval mode, without gradients."""
    with torch.no_grad(), eval_mode(ranker):
        yield


def ranker_info(
    network: QNetwork, k: int, batch_size: int | None, vocabularies: Vocabularies | None
) -> dict:
    """What an exported ranker's file carries beside the graph: ``k``, ``batch_size``,
    ``n_users``, ``n_items`` and, if given, the log's ``vocabularies``
    (:meth:`Vocabularies.to_dict`)."""
    ids = network_ids(network)
    info = {"k": k, "batch_size": batch_size, "n_users": ids.n_users, "n_items": ids.n_items}
    if vocabularies is not None:
        info["vocabularies"] = vocabularies.to_dict()
    return info


def info_ids(info: dict) -> IdSpace:
    """The ids an exported ranker knows, from its :func:`ranker_info`."""
    vocabularies = info.get("vocabularies")
    vocabularies = None if vocabularies is None else Vocabularies.from_dict(vocabularies)
    return IdSpace.of(info["n_users"], info["n_items"], vocabularies)


class CheckedRanker(nn.Module):
    """An exported ranker behind the request checks of :func:`agents.requests.batch_request`.

    :param program: the ranker: the loaded ``torch.export`` module (or a :class:`GreedyRanker`).
    :param k: the slots it fills.
    :param ids: the user and item ids it knows.
    :param batch_size: the batch size it was exported for; None: any.
    """

    def __init__(
        self, program: nn.Module, k: int, ids: IdSpace, batch_size: int | None = None
    ) -> None:
        super().__init__()
        self.program, self.k, self.ids, self.batch_size = program, k, ids, batch_size

    @torch.no_grad()
    def forward(self, user_ids, candidates, valid) -> tuple[Tensor, Tensor]:
        """:param user_ids: ``[B]`` int; :param candidates: ``[B, C]`` int item ids, C >= k;
        :param valid: ``[B, C]`` bool, at least k True per row.

        :return: ``(slate [B, k] item ids, q [B, k])``; the slate is a tensor when the ids
            are the dense indices, else an array of the log's own ids.
        :raises InputError: naming the bad argument and values (see :mod:`agents.requests`).
        """
        users, items, mask = batch_request(user_ids, candidates, valid, self.k, self.ids)
        if self.batch_size is not None and users.shape[0] != self.batch_size:
            raise InputError(
                f"user_ids: this ranker was exported for batches of {self.batch_size}, "
                f"got {users.shape[0]} (export with batch_size=None for any size)"
            )
        slate, q = self.program(users, items, mask)
        return (slate if self.ids.items is None else self.ids.raw("item", slate.numpy())), q


def load_ranker(path: str | Path) -> CheckedRanker:
    """The exported ranker as a callable module that checks its inputs first.

    :raises FileNotFoundError: no file at ``path``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no exported ranker at {path}")
    extra = {RANKER_INFO: ""}
    program = torch.export.load(path, extra_files=extra)
    if not extra[RANKER_INFO]:
        raise InputError(f"{path} was exported without {RANKER_INFO}: export it again")
    info = json.loads(extra[RANKER_INFO])
    return CheckedRanker(program.module(), info["k"], info_ids(info), info["batch_size"])
