"""The ending every command-line tool shares: a clear error exits 2, an interruption 130."""
from __future__ import annotations

import signal
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

from common.errors import UserError

_deferring = 0  # how many critical sections are open
_pending: int | None = None  # a signal that arrived inside one


def _raise_interrupt(signum, frame):
    global _pending
    if _deferring:
        _pending = signum
        return
    raise KeyboardInterrupt


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """A critical section: a SIGINT or SIGTERM that arrives inside it stops the tool as soon as
    it ends. For writes whose library code swallows a KeyboardInterrupt raised inside it (Keras's
    model.save does, and training then went on as if nothing had been sent)."""
    global _deferring, _pending
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if not _deferring and _pending is not None:
            _pending = None
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
