"""Turn the product's expected failures into one clean line on stderr and an exit code.

Expected failures are the exception types below: each carries a message that says what
to do. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class UserError(Exception):
    """A problem the user can fix; the message says how."""


@dataclass
class ExitStatus:
    code: int = 0


def expected_errors() -> tuple[type[BaseException], ...]:
    from rag.embeddings import EmbeddingModelError
    from rag.settings import SettingsError
    from rag.store import StoreError

    return (UserError, SettingsError, StoreError, EmbeddingModelError)


@contextmanager
def user_errors(code: int = 1) -> Iterator[ExitStatus]:
    """Print expected errors as `error: …` and set the exit code; interrupt exits 130."""
    status = ExitStatus()
    try:
        yield status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        status.code = 130
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except expected_errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        status.code = code


def run_command(run: Callable, args) -> int:
    """Load the settings and call `run(args, settings)`; expected errors become one line.

    Exit codes: what `run` returns, 2 for invalid settings, 1 for other expected errors,
    130 on Ctrl-C.
    """
    from rag.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with user_errors() as status:
        status.code = run(args, settings)
    return status.code
