"""The greedy ranker as an ONNX graph, served by ONNX Runtime without torch or project code.

:func:`export_onnx` writes ``ranker.onnx``, one graph with the k greedy slots unrolled (one
``session.run`` per batch), and ``ranker.onnx.json`` beside it::

    inputs   user_ids [B] int64, candidates [B, C] int64, valid [B, C] bool (False = hidden)
    outputs  slate [B, k] int64 item ids, q [B, k] float32 Q-value of each chosen item
    B and C are dynamic (C >= k); ids are dense indices, users 0..n_users-1, items 0..n_items-1

The JSON holds ``k``, ``n_users``, ``n_items`` and, when exported with them, the log's
``vocabularies``: ``vocabularies["items"]["ids"][i]`` is the log's id of item index i (no
``"ids"``: the ids are the indices). The graph checks nothing; :func:`load_onnx_ranker` puts
the request checks of :func:`agents.requests.batch_request` in front of it.

Needs the extra ``serve`` (``pip install 'rec-listwise[serve]'``): onnx and onnxscript to
export (``torch.onnx.export``), onnxruntime to run.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from agents.nn.qnetwork import QNetwork
from agents.serving_export import CheckedRanker, export_example, exporting, info_ids, ranker_info
from rec_env.checks import InputError
from rec_env.data import Vocabularies

INPUTS = ("user_ids", "candidates", "valid")
"""input names of the graph, in call order"""
OUTPUTS = ("slate", "q")
"""output names of the graph"""
EXPORT_PACKAGES = ("onnx", "onnxscript")
"""what ``torch.onnx.export`` needs"""
RUN_PACKAGES = ("onnxruntime",)
"""what running the graph needs"""


def missing_packages(packages: tuple[str, ...] = EXPORT_PACKAGES + RUN_PACKAGES) -> list[str]:
    """The ``packages`` that are not installed."""
    return [name for name in packages if importlib.util.find_spec(name) is None]


def _require(packages: tuple[str, ...]) -> None:
    missing = missing_packages(packages)
    if missing:
        raise ImportError(
            f"ONNX serving needs {', '.join(missing)}: pip install 'rec-listwise[serve]'"
        )


def info_path(path: str | Path) -> Path:
    """The JSON beside an ONNX ranker: ``ranker.onnx`` -> ``ranker.onnx.json``."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def export_onnx(
    network: QNetwork,
    path: str | Path,
    k: int,
    n_candidates: int = 100,
    assumed_click: float = 0.0,
    vocabularies: Vocabularies | None = None,
) -> Path:
    """Write :class:`~agents.serving.GreedyRanker` as an ONNX graph and its JSON (module doc).

    :param k: slots to fill, ``1 <= k <= max_slots``.
    :param n_candidates: C of the example input, ``>= k`` (any C >= k works after export).
    :param vocabularies: the training log's vocabularies (``agent.vocabularies``), written to
        the JSON so that ids can be mapped without project code.
    :return: ``path``.
    :raises InputError: on an argument out of range; ``ImportError`` without onnx/onnxscript.
    """
    _require(EXPORT_PACKAGES)
    ranker, example, shapes = export_example(network, k, n_candidates, None, assumed_click)
    with exporting(ranker), quiet_exporter():
        program = torch.onnx.export(
            ranker,
            example,
            dynamic_shapes=shapes,
            input_names=list(INPUTS),
            output_names=list(OUTPUTS),
            dynamo=True,
            verbose=False,
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    program.save(path, external_data=False)  # one self-contained file
    info_path(path).write_text(json.dumps(ranker_info(network, k, None, vocabularies)))
    return path


EXPORTER_NOTES = (
    r"# The axis name: \w+ will not be used, since it shares the same shape constraints",
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",
)
"""warnings of ``torch.onnx.export`` that say nothing about the ranker (see
:func:`quiet_exporter`), as regular expressions matched at the start of the message"""
REGISTRY_LOGGER = "torch.onnx._internal.exporter._registration"
"""the logger of torch's ONNX op registry"""


class _NoTorchvisionNotes(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("torchvision is not installed")


@contextmanager
def quiet_exporter() -> Iterator[None]:
    """Drop the exporter's notes that say nothing about the ranker; any other warning passes.

    * torch's ONNX op registry logs "torchvision is not installed. Skipping torchvision::op"
      for each of the four torchvision ops it knows (nms, roi_align, roi_pool, deform_conv2d)
      when torchvision is absent: the ranker uses none of them;
    * "The axis name: batch will not be used, since it shares the same shape constraints
      with another axis: batch" (and candidates): ``candidates`` and ``valid`` share the
      dimensions B and C on purpose, under the same names;
    * a ``FutureWarning`` of torch's own pytree (``isinstance(treespec, LeafSpec)``), raised
      while the exporter copies its program.
    """
    notes = _NoTorchvisionNotes()
    logger = logging.getLogger(REGISTRY_LOGGER)
    logger.addFilter(notes)
    try:
        with warnings.catch_warnings():
            for message in EXPORTER_NOTES:
                warnings.filterwarnings("ignore", message=message)
            yield
    finally:
        logger.removeFilter(notes)


def session_options(threads: int = 1) -> Any:
    """ONNX Runtime settings: ``threads`` intra-op threads, sequential execution, every graph
    optimisation (an ``onnxruntime.SessionOptions``)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


class OnnxProgram(nn.Module):
    """An ONNX Runtime session called like the torch ranker: tensors in, tensors out.

    :param session: an ``onnxruntime.InferenceSession`` of an :func:`export_onnx` file.
    """

    def __init__(self, session: Any) -> None:
        super().__init__()
        self.session = session

    def forward(self, user_ids: Tensor, candidates: Tensor, valid: Tensor) -> tuple[Tensor, ...]:
        """``(user_ids [B], candidates [B, C], valid [B, C]) -> (slate [B, k], q [B, k])``."""
        feed = dict(zip(INPUTS, (user_ids.numpy(), candidates.numpy(), valid.numpy()), strict=True))
        return tuple(torch.from_numpy(out) for out in self.session.run(list(OUTPUTS), feed))


def load_onnx_ranker(path: str | Path, options: Any = None) -> CheckedRanker:
    """An :func:`export_onnx` file on ONNX Runtime's CPU, behind the request checks.

    :param options: an ``onnxruntime.SessionOptions`` (None: ONNX Runtime's defaults; see
        :func:`session_options`).
    :raises FileNotFoundError: no file at ``path``.
    :raises InputError: no JSON beside it; ``ImportError`` without onnxruntime.
    """
    _require(RUN_PACKAGES)
    import onnxruntime

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no ONNX ranker at {path}")
    if not info_path(path).is_file():
        raise InputError(f"{path} has no {info_path(path).name} beside it: export it again")
    info = json.loads(info_path(path).read_text())
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return CheckedRanker(OnnxProgram(session), info["k"], info_ids(info))
