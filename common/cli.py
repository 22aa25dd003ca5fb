"""The ending every command-line tool shares: a clear error exits 2, an interruption 130."""
from __future__ import annotations

import signal
import sys
from typing import Callable

from common.errors import UserError


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def interrupt_on_signals() -> None:
    """Make SIGINT and SIGTERM raise KeyboardInterrupt, so `finally` blocks remove temporary
    files on a kill too (and Ctrl-C works even where the parent shell ignored SIGINT)."""
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, _raise_interrupt)


def run_cli(body: Callable[[], int | None], on_interrupt: str = "") -> int:
    """Run a tool's work: 0 (or its own code) when it finishes, 2 with one line on a UserError,
    130 with `on_interrupt` (what was kept) on Ctrl-C or a kill."""
    interrupt_on_signals()
    try:
        return body() or 0
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted{': ' + on_interrupt if on_interrupt else ''}", file=sys.stderr)
        return 130
