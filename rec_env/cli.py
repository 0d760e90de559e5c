"""`run_cli`: how every command line of the project ends on a user error; and the
``--max-levels`` flag of the commands that load a log file.

A user error (:data:`USER_ERRORS`: an invalid config or request, a log that breaks the
schema, a missing file, a dataset that cannot be fetched) prints ``error: <message>`` on
stderr and exits with status 2, as argparse does for a bad flag; anything else is a bug and
keeps its traceback::

    if __name__ == "__main__":
        run_cli(main)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from rec_env.checks import InputError
from rec_env.data import NAMES, DatasetFetchError, LogValidationError
from rec_env.data.features import MAX_LEVELS, OTHER_LEVEL

USER_ERRORS: tuple[type[BaseException], ...] = (
    InputError,
    LogValidationError,
    FileNotFoundError,
    DatasetFetchError,
)
"""exceptions that mean "the input is wrong", not "the code is wrong\""""
USAGE_ERROR = 2
"""exit status of a user error (argparse's for a bad flag)"""


def run_cli(main: Callable[..., Any], *args: Any) -> Any:
    """``main(*args)``; a :data:`USER_ERRORS` exception exits with :data:`USAGE_ERROR`.

    The message is the exception's text (a log error adds its offending rows below the line).
    """
    try:
        return main(*args)
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(USAGE_ERROR) from None


def add_max_levels(parser: argparse.ArgumentParser) -> None:
    """The ``--max-levels N`` flag of the commands that load log files."""
    parser.add_argument(
        "--max-levels",
        type=int,
        help=f"log files: keep a categorical feature's N-1 most frequent levels, merge the "
        f"rest into {OTHER_LEVEL!r} (default: {MAX_LEVELS})",
    )


def file_options(name: str, max_levels: int | None) -> dict[str, int]:
    """:func:`load_dataset` keywords of ``--max-levels`` for a log file (none for a name)."""
    return {} if max_levels is None or name in NAMES else {"max_levels": max_levels}
