"""Neural networks: the list-wise :class:`QNetwork` with its ``TEACHER`` / ``STUDENT`` presets,
and its layers."""

from agents.nn.qnetwork import STUDENT, TEACHER, QNetwork, QNetworkConfig

__all__ = ["STUDENT", "TEACHER", "QNetwork", "QNetworkConfig"]
