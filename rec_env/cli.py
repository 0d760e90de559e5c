"""`run_cli`: how every command line of the project ends on a user error.

A user error (:data:`USER_ERRORS`: an invalid config or request, a log that breaks the
schema, a missing file, a dataset that cannot be fetched) prints ``error: <message>`` on
stderr and exits with status 2, as argparse does for a bad flag; anything else is a bug and
keeps its traceback::

    if __name__ == "__main__":
        run_cli(main)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from rec_env.checks import InputError
from rec_env.data import DatasetFetchError, LogValidationError

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
