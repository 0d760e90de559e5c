"""Dataclass configs on the command line and in JSON: the helpers of :mod:`rec_env.flags`.

They live in ``rec_env`` (the bottom layer) so that its command lines
(``python -m rec_env.simulator report``) build flags from configs too; ``agents`` imports
them from here.
"""

from rec_env.flags import add_arguments, field_docs, from_dict, optional_of, overrides

__all__ = ["add_arguments", "field_docs", "from_dict", "optional_of", "overrides"]
