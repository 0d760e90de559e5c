"""User simulators: the `UserModel` interface, the synthetic ground truth and models fitted on logs.

The torch-based parts (``LogClickModel``, fitting, the fit report) load on first use, so
simulating synthetic data does not import torch.
"""

import importlib

from rec_env.simulator.base import (
    ListContext,
    StatelessContext,
    UserModel,
    list_context,
    placed_mask,
)
from rec_env.simulator.ground_truth import GroundTruthContext, GroundTruthModel

_LAZY = {
    "fit_log_model": "rec_env.simulator.fit",
    "fit_or_load": "rec_env.simulator.fit",
    "fit_log_model_streaming": "rec_env.simulator.fit_stream",
    "LogClickConfig": "rec_env.simulator.log_model",
    "LogClickModel": "rec_env.simulator.log_model",
    "ConstantModel": "rec_env.simulator.baselines",
    "PositionModel": "rec_env.simulator.baselines",
    "PositionItemModel": "rec_env.simulator.baselines",
    "FitReport": "rec_env.simulator.report",
    "ModelScores": "rec_env.simulator.report",
    "fit_report": "rec_env.simulator.report",
    "logged_proba": "rec_env.simulator.report",
    "plot_reliability": "rec_env.simulator.report",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rec_env.simulator' has no attribute {name!r}")


__all__ = [
    "GroundTruthContext",
    "GroundTruthModel",
    "ListContext",
    "StatelessContext",
    "UserModel",
    "list_context",
    "placed_mask",
    *_LAZY,
]
