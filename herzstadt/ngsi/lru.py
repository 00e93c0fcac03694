"""A thread-safe LRU cache bounded by the total size (bytes) of its entries.

The caller states each entry's size (for @context documents the length of their JSON); the cache
evicts the least recently used entries until the total fits the budget. An entry larger than the
whole budget is not stored at all.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class ByteLRU:
    def __init__(self, max_bytes: int):
        self.max_bytes = max(0, int(max_bytes))
        self._data: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def bytes(self) -> int:
        """The total size of the entries held now (never above ``max_bytes``)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._data

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value (and mark it as the most recently used one), or ``default``."""
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return default
            self._data.move_to_end(key)
            return hit[0]

    def peek(self, key: Hashable, default: Any = None) -> Any:
        """The value without changing the order of use."""
        hit = self._data.get(key)
        return default if hit is None else hit[0]

    def put(self, key: Hashable, value: Any, size: int) -> bool:
        """Store (or replace) an entry of ``size`` bytes; False if it is larger than the budget
        (then it is not stored and an older entry under the key is removed)."""
        size = max(1, int(size))
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > self.max_bytes:
                return False
            self._data[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, s) = self._data.popitem(last=False)
                self._bytes -= s
            return True

    def pop(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            hit = self._data.pop(key, None)
            if hit is None:
                return default
            self._bytes -= hit[1]
            return hit[0]

    def discard_if(self, pred: Callable[[Any, Any], bool]) -> int:
        """Remove every entry whose ``pred(key, value)`` is true; returns how many."""
        with self._lock:
            gone = [k for k, (v, _) in self._data.items() if pred(k, v)]
            for k in gone:
                self._bytes -= self._data.pop(k)[1]
            return len(gone)

    def items(self) -> list[tuple[Any, Any]]:
        """A snapshot of the entries, least recently used first."""
        with self._lock:
            return [(k, v) for k, (v, _) in self._data.items()]

    def values(self) -> list[Any]:
        with self._lock:
            return [v for v, _ in self._data.values()]

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0
