"""A small in-process cache with a time to live, for values that every request needs and that change
rarely (the city of a host name, a process's ideas as GeoJSON, a district's measured values).

Each worker process holds its own copy: reading it costs no query (the site's shared cache is a database
table unless Redis is configured, so reading *that* costs a query too). A change saved in one worker
clears that worker's entries at once (the callers connect ``clear``/``discard`` to ``post_save``); other
workers see the change when their entry expires, after at most ``ttl`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

_MISSING = object()
_ALL: list[TTLCache] = []


def clear_all() -> None:
    """Empty every cache of this process (the tests start each test with empty caches)."""
    for cache in list(_ALL):
        cache.clear()


class TTLCache:
    """Thread-safe, bounded (least recently stored entries go first), entries expire after ``ttl`` s."""

    def __init__(self, ttl: float, max_entries: int = 256) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._data: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        #: bumped by clear(): a value computed before a clear is not stored after it
        self._generation = 0
        _ALL.append(self)

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return default
            expires, value = item
            if expires <= time.monotonic():
                del self._data[key]
                return default
            return value

    def set(self, key: Hashable, value: Any, generation: int | None = None) -> None:
        with self._lock:
            if generation is not None and generation != self._generation:
                return
            self._data[key] = (time.monotonic() + self.ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def get_or_set(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            generation = self._generation
            value = compute()
            self.set(key, value, generation)
        return value

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._generation += 1
