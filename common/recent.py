"""Bounded caches of the values used most recently, safe across threads, keyed by content."""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable

import numpy as np

_MISSING = object()


class Recent:
    """A bounded map of the values used most recently, safe across sessions' threads: a value
    is made once while it stays among the `size` most recent."""

    def __init__(self, size: int):
        self.size = size
        self._items: dict = {}  # least recently used first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._items

    def get(self, key, make: Callable[[], object]):
        with self._lock:
            value = self._items.pop(key, _MISSING)
        if value is _MISSING:
            value = make()  # outside the lock: two threads may make it at once, never wait on each other
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.pop(next(iter(self._items)))
        return value


def image_key(image: np.ndarray) -> bytes:
    """A short digest of an array's bytes: the same picture gives the same key."""
    return hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16).digest()
