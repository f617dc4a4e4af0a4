"""One small cache for values that are costly to build and never change once built (keyed layouts,
rendered patterns, coded payloads, rendered prompts): thread-safe, at most ``limit`` entries, the
oldest dropped first."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any


class BoundedCache:
    def __init__(self, limit: int):
        self.limit = int(limit)
        self._items: dict = {}
        self._lock = threading.Lock()

    def get_or_build(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The cached value of ``key``, built (outside the lock) and kept when missing. Two threads
        may both build a missing value; the first one stored is returned to both."""
        with self._lock:
            value = self._items.get(key)
        if value is not None:
            return value
        value = build()
        with self._lock:
            kept = self._items.get(key)
            if kept is not None:
                return kept
            while len(self._items) >= self.limit:
                self._items.pop(next(iter(self._items)))
            self._items[key] = value
        return value

    def __len__(self) -> int:
        return len(self._items)

    def __getstate__(self) -> dict:  # copies and pickles carry the entries, each with a lock of its own
        with self._lock:
            return {"limit": self.limit, "items": dict(self._items)}

    def __setstate__(self, state: dict) -> None:
        self.limit, self._items, self._lock = state["limit"], state["items"], threading.Lock()
